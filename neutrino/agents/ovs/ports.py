"""What the OVS agent knows of a machine port: its details from the server, as wired."""

from __future__ import annotations

import dataclasses
from typing import Any

# Neutron's tag for a port that must pass nothing (admin_state_up false):
# no network uses it, and a drop flow stops what the port sends.
DEAD_VLAN = 4095


@dataclasses.dataclass(frozen=True)
class PortDetails:
    """The server's answer to get_device_details for a port it knows and bound here."""

    port_id: str
    network_id: str
    mac_address: str
    fixed_ips: tuple[tuple[str, str], ...]    # (subnet id, address)
    admin_state_up: bool
    network_type: str | None
    physical_network: str | None
    segmentation_id: int | None
    device_owner: str

    @classmethod
    def of(cls, details: dict[str, Any]) -> PortDetails | None:
        """None for a port the server does not know, or bound elsewhere."""
        if "network_id" not in details:
            return None
        return cls(details["port_id"], details["network_id"], details["mac_address"],
                   tuple((ip["subnet_id"], ip["ip_address"])
                         for ip in details.get("fixed_ips") or ()),
                   details.get("admin_state_up", True),
                   details.get("network_type"), details.get("physical_network"),
                   details.get("segmentation_id"), details.get("device_owner") or "")


@dataclasses.dataclass(frozen=True)
class WiredPort:
    """A port of br-int the agent took care of: wired on its network's local VLAN,
    set dead (admin_state_up false), or left alone (a network it cannot serve)."""

    name: str
    iface_id: str
    ofport: int
    details: PortDetails | None = None
    lvid: int | None = None          # its network's local VLAN, once wired
    dead: bool = False

    @property
    def network_id(self) -> str | None:
        """The network it is wired on (None: dead or not served here)."""
        return self.details.network_id if self.details and self.lvid is not None else None

    def same_vif(self, vif: dict[str, Any]) -> bool:
        """Whether br-int's port (``bridges.vif_ports()``) is still this one."""
        return self.iface_id == vif["iface_id"] and self.ofport == vif["ofport"]


def dead_port_match(ofport: int) -> str:
    return f"table=0,priority=2,in_port={ofport}"


def dead_port_flow(ofport: int) -> str:
    return f"{dead_port_match(ofport)},actions=drop"
