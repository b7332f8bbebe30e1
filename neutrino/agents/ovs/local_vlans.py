"""Local VLAN ids: one per network on this host's br-int."""

from __future__ import annotations

import dataclasses

MIN_VLAN = 1
MAX_VLAN = 4094


@dataclasses.dataclass
class LocalNetwork:
    network_id: str
    network_type: str
    segmentation_id: int | None
    lvid: int
    physical_network: str | None = None
    ports: set[str] = dataclasses.field(default_factory=set)


class LocalVlanMap:
    """Hands out local VLANs, remembering the ones a previous run used.

    A restarted agent reads the tags it finds on br-int's ports back in
    (``reserve``), so existing ports keep their VLAN and traffic keeps flowing.
    """

    def __init__(self) -> None:
        self.networks: dict[str, LocalNetwork] = {}
        self._reserved: dict[str, int] = {}

    def reserve(self, network_id: str, lvid: int) -> None:
        self._reserved[network_id] = lvid

    def get(self, network_id: str) -> LocalNetwork | None:
        return self.networks.get(network_id)

    def provision(self, network_id: str, network_type: str, segmentation_id: int | None,
                  physical_network: str | None = None) -> LocalNetwork:
        if network_id in self.networks:
            return self.networks[network_id]
        used = {net.lvid for net in self.networks.values()}
        lvid = self._reserved.pop(network_id, None)
        if lvid is None or lvid in used:
            lvid = self._free_vlan(used)
        net = LocalNetwork(network_id, network_type, segmentation_id, lvid, physical_network)
        self.networks[network_id] = net
        return net

    def _free_vlan(self, used: set[int]) -> int:
        reserved = set(self._reserved.values())
        for lvid in range(MIN_VLAN, MAX_VLAN + 1):
            if lvid not in used and lvid not in reserved:
                return lvid
        raise RuntimeError("no free local VLAN on br-int")

    def reclaim(self, network_id: str) -> LocalNetwork | None:
        return self.networks.pop(network_id, None)
