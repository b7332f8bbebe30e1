"""The flows of br-tun, as plain strings (pure functions, unit-tested).

Pipeline, by table:

- 0  classify: from br-int (patch port) to 2; from a GRE tunnel to 3, from a
     VXLAN tunnel to 4; else drop.
- 2  from br-int: unicast to 20, broadcast and multicast to 22.
- 3/4 from a GRE/VXLAN tunnel: a known key/VNI gets its local VLAN, then 10;
     else drop.  One table per tunnel type: a GRE key and a VNI may have
     the same number and must not map to the same network.
- 10 learn where the source MAC lives (a flow in 20), then to br-int.
- 20 unicast: learned (or, with l2pop, installed) MACs go to one tunnel;
     unknown ones to 22.
- 21 ARP responder (with l2pop): answers ARP requests for known addresses
     right here, so the request never crosses a tunnel; others go to 22.
- 22 flood: a network's traffic goes to every tunnel of that network (with
     l2pop: only to hosts that have ports on it).
"""

from __future__ import annotations

import netaddr

CLASSIFY = 0
FROM_INT = 2
FROM_TUNNEL = {"gre": 3, "vxlan": 4}
LEARN = 10
UNICAST = 20
ARP_RESPONDER = 21
FLOOD = 22

LEARNED_HARD_TIMEOUT = 300


def base_flows(patch_ofport: int, arp_responder: bool = False) -> list[str]:
    """Flows that do not depend on networks or tunnels."""
    learn = (
        f"learn(table={UNICAST},hard_timeout={LEARNED_HARD_TIMEOUT},priority=1,"
        "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
        "load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],"
        "output:NXM_OF_IN_PORT[])"
    )
    return [
        f"table={CLASSIFY},priority=1,in_port={patch_ofport},actions=resubmit(,{FROM_INT})",
        f"table={CLASSIFY},priority=0,actions=drop",
        f"table={FROM_INT},priority=1,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00,"
        f"actions=resubmit(,{UNICAST})",
        f"table={FROM_INT},priority=1,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,"
        f"actions=resubmit(,{FLOOD})",
        f"table={FROM_INT},priority=0,actions=drop",
        *(f"table={table},priority=0,actions=drop" for table in FROM_TUNNEL.values()),
        f"table={LEARN},priority=1,actions={learn},output:{patch_ofport}",
        f"table={UNICAST},priority=0,actions=resubmit(,{FLOOD})",
        f"table={FLOOD},priority=0,actions=drop",
    ] + (arp_responder_base_flows() if arp_responder else [])


def arp_responder_base_flows() -> list[str]:
    return [
        f"table={FROM_INT},priority=2,arp,dl_dst=ff:ff:ff:ff:ff:ff,"
        f"actions=resubmit(,{ARP_RESPONDER})",
        f"table={ARP_RESPONDER},priority=0,actions=resubmit(,{FLOOD})",
    ]


def arp_responder_match(lvid: int, ip: str) -> str:
    return f"table={ARP_RESPONDER},arp,dl_vlan={lvid},arp_tpa={ip}"


def arp_responder_flow(lvid: int, mac: str, ip: str) -> str:
    """Turn an ARP request for ``ip`` into the reply ``mac`` would send."""
    mac_hex = f"{int(netaddr.EUI(mac)):#x}"
    ip_hex = f"{int(netaddr.IPAddress(ip)):#x}"
    return (
        f"{arp_responder_match(lvid, ip)},priority=1,arp_op=1,actions="
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
        f"mod_dl_src:{mac},"
        "load:0x2->NXM_OF_ARP_OP[],"
        "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
        "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
        f"load:{mac_hex}->NXM_NX_ARP_SHA[],"
        f"load:{ip_hex}->NXM_OF_ARP_SPA[],"
        "in_port"
    )


def unicast_match(lvid: int, mac: str) -> str:
    return f"table={UNICAST},dl_vlan={lvid},dl_dst={mac}"


def unicast_flow(lvid: int, mac: str, vni: int, tunnel_ofport: int) -> str:
    """A MAC that l2pop placed behind one tunnel (outranks learned flows)."""
    return (f"{unicast_match(lvid, mac)},priority=2,"
            f"actions=strip_vlan,set_tunnel:{vni:#x},output:{tunnel_ofport}")


def tunnel_port_flows(tunnel_type: str, tunnel_ofport: int) -> list[str]:
    return [f"table={CLASSIFY},priority=1,in_port={tunnel_ofport},"
            f"actions=resubmit(,{FROM_TUNNEL[tunnel_type]})"]


def network_flows(tunnel_type: str, vni: int, lvid: int,
                  flood_ofports: list[int]) -> list[str]:
    """Flows for one network: VNI <-> local VLAN, and its flood list."""
    flows = [f"table={FROM_TUNNEL[tunnel_type]},priority=1,tun_id={vni:#x},"
             f"actions=mod_vlan_vid:{lvid},resubmit(,{LEARN})"]
    if flood_ofports:
        outputs = ",".join(f"output:{port}" for port in sorted(flood_ofports))
        flows.append(f"table={FLOOD},priority=1,dl_vlan={lvid},"
                     f"actions=strip_vlan,set_tunnel:{vni:#x},{outputs}")
    return flows


def network_matches(tunnel_type: str, vni: int, lvid: int) -> list[str]:
    """Matches that remove every flow of one network."""
    return [
        f"table={FROM_TUNNEL[tunnel_type]},tun_id={vni:#x}",
        f"table={FLOOD},dl_vlan={lvid}",
        f"table={UNICAST},dl_vlan={lvid}",
        f"table={ARP_RESPONDER},dl_vlan={lvid}",
    ]


def flood_match(lvid: int) -> str:
    return f"table={FLOOD},dl_vlan={lvid}"
