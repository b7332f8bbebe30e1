"""Flows joining br-int and a physical bridge (VLAN and flat networks).

On br-int every network has a local VLAN; on the wire a VLAN network has its
provider VLAN and a flat network none.  The physical bridge translates on
the way out, br-int on the way in; anything else from the other bridge is
dropped, so a network never leaks onto another.
"""

from __future__ import annotations

UNTAGGED = "vlan_tci=0x0000/0x1fff"
# br-int's switching table: NORMAL, after the firewall's dispatch (firewall.py).
SWITCH_TABLE = 60


def int_base_flows(int_ofport: int) -> list[str]:
    """On br-int: drop what comes from the physical bridge unless a network claims it."""
    return [f"table=0,priority=2,in_port={int_ofport},actions=drop"]


def phys_base_flows(phys_ofport: int) -> list[str]:
    return [
        f"table=0,priority=2,in_port={phys_ofport},actions=drop",
        "table=0,priority=0,actions=NORMAL",
    ]


def int_network_flows(int_ofport: int, network_type: str, segmentation_id: int | None,
                      lvid: int) -> list[str]:
    match = f"dl_vlan={segmentation_id}" if network_type == "vlan" else UNTAGGED
    return [f"table=0,priority=3,in_port={int_ofport},{match},"
            f"actions=mod_vlan_vid:{lvid},resubmit(,{SWITCH_TABLE})"]


def phys_network_flows(phys_ofport: int, network_type: str, segmentation_id: int | None,
                       lvid: int) -> list[str]:
    action = f"mod_vlan_vid:{segmentation_id}" if network_type == "vlan" else "strip_vlan"
    return [f"table=0,priority=4,in_port={phys_ofport},dl_vlan={lvid},"
            f"actions={action},NORMAL"]


def int_network_match(int_ofport: int, network_type: str,
                      segmentation_id: int | None) -> str:
    if network_type == "vlan":
        return f"table=0,in_port={int_ofport},dl_vlan={segmentation_id}"
    return f"table=0,in_port={int_ofport},{UNTAGGED}"


def phys_network_match(phys_ofport: int, lvid: int) -> str:
    return f"table=0,in_port={phys_ofport},dl_vlan={lvid}"
