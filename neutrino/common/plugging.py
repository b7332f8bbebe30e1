"""Plugging an agent's ports (router, DHCP) into br-int, as Nova plugs an instance's."""

from __future__ import annotations

from neutrino.common import ovs


class BrIntPlugger:
    def __init__(self, ovsdb_connection: str, bridge: str):
        self.api = ovs.connect(ovsdb_connection)
        self.bridge = bridge

    def plug(self, device: str, port_id: str, mac: str) -> None:
        """Add ``device`` to br-int with the ids the L2 agent wires it by."""
        ids = {"iface-id": port_id, "attached-mac": mac, "iface-status": "active"}
        with self.api.transaction(check_error=True) as txn:
            txn.add(self.api.add_port(self.bridge, device, may_exist=True))
            txn.add(self.api.db_set("Interface", device, ("external_ids", ids)))

    def unplug(self, device: str) -> None:
        self.api.del_port(device, bridge=self.bridge, if_exists=True).execute(check_error=True)

    def close(self) -> None:
        ovs.disconnect(self.api)
