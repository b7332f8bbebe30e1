"""Security groups on br-int: a conntrack firewall in the spirit of Neutron's ``openvswitch``.

Every wired port gets a table-0 flow that records its network's local VLAN
in reg6 (the conntrack zone too); a filtered port's also records its
OpenFlow port in reg5 and sends what it sends through the egress tables.
Whatever is switched goes through table 60, which hands unicast for a
filtered port (by network and MAC) to that port's ingress tables, which
output to it directly; everything else is switched by NORMAL there.

- 71 egress base: ARP and IP only from the port's own MAC and addresses
     (anti-spoofing), DHCP requests always, DHCP and RA answers never;
     IP into conntrack (stateless groups: straight to the rules).
- 72 egress rules: replies and related traffic pass; new and established
     connections pass if a rule allows them; an established one that no
     rule allows any more is marked in conntrack and dropped, so deleting
     a rule cuts what it let through (as Neutron's does).
- 81/82 ingress base and rules: the same, seen from the other side.

Flows are plain strings (pure functions, unit-tested); ``OvsFirewall``
keeps each port's set and changes only the flows that differ.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from neutrino.agents.ovs.ofctl import change_flows, match_of
from neutrino.agents.ovs.physical_flows import SWITCH_TABLE
from neutrino.common import ip_protocols

LOG = logging.getLogger(__name__)

LOCAL = 0
DISPATCH = SWITCH_TABLE
EGRESS_BASE = 71
EGRESS_RULES = 72
INGRESS_BASE = 81
INGRESS_RULES = 82

PORT_REG = "NXM_NX_REG5[]"
NET_REG = "NXM_NX_REG6[]"
ZONE = "zone=NXM_NX_REG6[0..15]"
CT_MARK_DENIED = 1
UNTAGGED = "vlan_tci=0x0000/0x1fff"

NEW = "+new-est"
ESTABLISHED = "+est-rel-rpl"
REPLY = "+est-rel+rpl"
RELATED = "-new-est+rel-inv"

_PORT_PROTOCOLS = {6: "tcp", 17: "udp", 132: "sctp"}
# ICMPv6 a port may always send and receive: MLD, router and neighbour discovery.
_ICMPV6_ALLOWED_IN = (130, 131, 132, 134, 135, 136, 143)
_ICMPV6_ALLOWED_OUT = (130, 131, 132, 133, 135, 136, 143)


@dataclasses.dataclass(frozen=True)
class PortInfo:
    """What filtering one port needs; ``rules`` have remote groups resolved.

    ``filtered`` false: port security off, or a port of the network itself.
    Each rule is a dict with direction, ethertype, protocol, port_range_min,
    port_range_max, remote_group_id, and ``remote_ips`` (None: any remote;
    empty: a remote group without members, which allows nothing).
    """

    ofport: int
    lvid: int
    mac: str
    ips: tuple[str, ...]
    filtered: bool
    stateful: bool = True
    rules: tuple[dict[str, Any], ...] = ()


# A rule's protocol, a name or a number, as a number.
protocol_number = ip_protocols.number


def port_range_matches(low: int | None, high: int | None) -> list[str | None]:
    """``tp_dst`` values (exact or value/mask) that cover low..high; [None]: any port."""
    if low is None and high is None:
        return [None]
    low = 1 if low is None else low
    high = low if high is None else high
    if low <= 1 and high >= 65535:
        return [None]
    found: list[str | None] = []
    while low <= high:
        # The largest aligned block starting at low that fits in the range.
        size = low & -low if low else 1 << 16
        while size > high - low + 1:
            size >>= 1
        found.append(str(low) if size == 1 else f"{low:#x}/{0xffff ^ (size - 1):#x}")
        low += size
    return found


def _l3(ethertype: str, number: int | None) -> str:
    v6 = ethertype == "IPv6"
    if number in _PORT_PROTOCOLS:
        return _PORT_PROTOCOLS[number] + ("6" if v6 else "")
    if number == 1 and not v6:
        return "icmp"
    if number == 58 and v6:
        return "icmp6"
    base = "ipv6" if v6 else "ip"
    return base if number is None else f"{base},nw_proto={number}"


def rule_matches(rule: dict[str, Any]) -> list[str]:
    """The match strings (after table, priority and reg5) that one rule allows."""
    v6 = rule["ethertype"] == "IPv6"
    number = protocol_number(rule.get("protocol"))
    l3 = _l3(rule["ethertype"], number)
    remote_ips = rule.get("remote_ips")
    side = "src" if rule["direction"] == "ingress" else "dst"
    field = f"ipv6_{side}" if v6 else f"nw_{side}"
    remotes: list[str | None] = [None] if remote_ips is None else [
        f"{field}={ip}" for ip in remote_ips]
    if number in _PORT_PROTOCOLS:
        details: list[str | None] = [None if m is None else f"tp_dst={m}" for m in
                                     port_range_matches(rule.get("port_range_min"),
                                                        rule.get("port_range_max"))]
    elif number in (1, 58):
        icmp = []
        if rule.get("port_range_min") is not None:
            icmp.append(f"icmp_type={rule['port_range_min']}")
            if rule.get("port_range_max") is not None:
                icmp.append(f"icmp_code={rule['port_range_max']}")
        details = [",".join(icmp) or None]
    else:
        details = [None]
    return [",".join(part for part in (l3, remote, detail) if part)
            for remote in remotes for detail in details]


def remote_prefix_ips(prefix: str | None) -> list[str] | None:
    """A rule's remote prefix as match values; None for any address."""
    if prefix is None or ipaddress.ip_network(prefix).prefixlen == 0:
        return None
    return [prefix]


def _flow(table: int, priority: int, match: str, actions: str) -> str:
    return f"table={table},priority={priority},{match},actions={actions}"


def unfiltered_flows(info: PortInfo) -> list[str]:
    """A port nothing filters: it only tells table 60 its network."""
    return [_flow(LOCAL, 10, f"in_port={info.ofport}",
                  f"load:{info.lvid}->{NET_REG},resubmit(,{DISPATCH})")]


def _egress_base(info: PortInfo) -> list[str]:
    port, mac = f"reg5={info.ofport}", info.mac
    to_rules = (f"ct(table={EGRESS_RULES},{ZONE})" if info.stateful
                else f"resubmit(,{EGRESS_RULES})")
    flows = [
        _flow(EGRESS_BASE, 95, f"{port},udp,dl_src={mac},tp_src=68,tp_dst=67",
              f"resubmit(,{DISPATCH})"),
        _flow(EGRESS_BASE, 95, f"{port},udp6,dl_src={mac},tp_src=546,tp_dst=547",
              f"resubmit(,{DISPATCH})"),
        _flow(EGRESS_BASE, 94, f"{port},udp,tp_src=67,tp_dst=68", "drop"),
        _flow(EGRESS_BASE, 94, f"{port},udp6,tp_src=547,tp_dst=546", "drop"),
        _flow(EGRESS_BASE, 10, port, "drop"),
    ]
    flows += [_flow(EGRESS_BASE, 95, f"{port},icmp6,dl_src={mac},icmp_type={kind}",
                    f"resubmit(,{DISPATCH})") for kind in _ICMPV6_ALLOWED_OUT]
    for ip in info.ips:
        if ipaddress.ip_address(ip).version == 4:
            flows.append(_flow(EGRESS_BASE, 95, f"{port},arp,dl_src={mac},arp_sha={mac},"
                                                f"arp_spa={ip}", f"resubmit(,{DISPATCH})"))
            flows.append(_flow(EGRESS_BASE, 65, f"{port},ip,dl_src={mac},nw_src={ip}",
                               to_rules))
        else:
            flows.append(_flow(EGRESS_BASE, 65, f"{port},ipv6,dl_src={mac},ipv6_src={ip}",
                               to_rules))
    return flows


def _ingress_base(info: PortInfo) -> list[str]:
    port, out = f"reg5={info.ofport}", f"output:{info.ofport}"
    to_rules = (f"ct(table={INGRESS_RULES},{ZONE})" if info.stateful
                else f"resubmit(,{INGRESS_RULES})")
    flows = [
        _flow(INGRESS_BASE, 95, f"{port},arp", out),
        _flow(INGRESS_BASE, 95, f"{port},udp,tp_src=67,tp_dst=68", out),
        _flow(INGRESS_BASE, 95, f"{port},udp6,tp_src=547,tp_dst=546", out),
        _flow(INGRESS_BASE, 65, f"{port},ip", to_rules),
        _flow(INGRESS_BASE, 65, f"{port},ipv6", to_rules),
        _flow(INGRESS_BASE, 10, port, "drop"),
    ]
    flows += [_flow(INGRESS_BASE, 95, f"{port},icmp6,icmp_type={kind}", out)
              for kind in _ICMPV6_ALLOWED_IN]
    return flows


def _rule_flows(info: PortInfo, direction: str) -> list[str]:
    table = INGRESS_RULES if direction == "ingress" else EGRESS_RULES
    accept = f"output:{info.ofport}" if direction == "ingress" else f"resubmit(,{DISPATCH})"
    port = f"reg5={info.ofport}"
    matches = [m for rule in info.rules if rule["direction"] == direction
               for m in rule_matches(rule)]
    if not info.stateful:
        return [_flow(table, 70, f"{port},{m}", accept) for m in matches] + [
            _flow(table, 10, port, "drop")]
    flows = [
        _flow(table, 90, f"{port},ct_state={REPLY},ct_mark=0", accept),
        _flow(table, 90, f"{port},ct_state={RELATED},ct_mark=0", accept),
        _flow(table, 85, f"{port},ct_state=+trk+inv", "drop"),
        _flow(table, 85, f"{port},ct_mark={CT_MARK_DENIED}", "drop"),
        _flow(table, 10, port, "drop"),
    ]
    # Established, but no rule allows it any more: marked, so that its
    # replies stop too, and dropped (a commit needs the IP family named).
    flows += [_flow(table, 40, f"{port},ct_state={ESTABLISHED},{family}",
                    f"ct(commit,{ZONE},exec(load:{CT_MARK_DENIED}->NXM_NX_CT_MARK[]))")
              for family in ("ip", "ipv6")]
    for match in matches:
        flows.append(_flow(table, 70, f"{port},ct_state={NEW},{match}",
                           f"ct(commit,{ZONE}),{accept}"))
        flows.append(_flow(table, 70, f"{port},ct_state={ESTABLISHED},{match}", accept))
    return flows


def filtered_flows(info: PortInfo) -> list[str]:
    """Every flow of a filtered port, in every table."""
    reg = f"load:{info.ofport}->{PORT_REG}"
    net = f"load:{info.lvid}->{NET_REG}"
    return [
        _flow(LOCAL, 10, f"in_port={info.ofport}", f"{reg},{net},resubmit(,{EGRESS_BASE})"),
        _flow(DISPATCH, 100, f"dl_vlan={info.lvid},dl_dst={info.mac}",
              f"{reg},{net},strip_vlan,resubmit(,{INGRESS_BASE})"),
        _flow(DISPATCH, 100, f"reg6={info.lvid},{UNTAGGED},dl_dst={info.mac}",
              f"{reg},resubmit(,{INGRESS_BASE})"),
        *_egress_base(info), *_ingress_base(info),
        *_rule_flows(info, "egress"), *_rule_flows(info, "ingress"),
    ]


def port_flows(info: PortInfo) -> list[str]:
    return filtered_flows(info) if info.filtered else unfiltered_flows(info)


def resolve_rules(group_ids: Iterable[str], info: dict[str, Any]) -> tuple[
        bool, tuple[dict[str, Any], ...]]:
    """(stateful, rules with remote_ips) of a port's groups, from the server's answer."""
    groups = info["security_groups"]
    members = info["sg_member_ips"]
    stateful = True
    resolved = []
    for group_id in group_ids:
        group = groups.get(group_id)
        if group is None:
            continue
        stateful = stateful and group["stateful"]
        for rule in group["rules"]:
            if rule["remote_group_id"]:
                # A remote group without members allows nothing (yet).
                remote_ips: list[str] | None = sorted(
                    members.get(rule["remote_group_id"], {}).get(rule["ethertype"], []))
            else:
                remote_ips = remote_prefix_ips(rule["remote_ip_prefix"])
            resolved.append(dict(rule, remote_ips=remote_ips))
    return stateful, tuple(resolved)


def port_info(device: dict[str, Any], info: dict[str, Any], ofport: int, lvid: int) -> PortInfo:
    """What to filter ``device`` (one of the server's ``devices``) by."""
    filtered = bool(device["port_security_enabled"]) and not device["device_owner"].startswith(
        "network:")
    stateful, rules = resolve_rules(device["security_groups"], info) if filtered else (True, ())
    return PortInfo(ofport=ofport, lvid=lvid, mac=device["mac_address"],
                    ips=tuple(device["fixed_ips"]), filtered=filtered, stateful=stateful,
                    rules=rules)


def describe(info: PortInfo) -> str:
    if not info.filtered:
        return "not filtered (no port security, or a port of the network)"
    kind = "stateful" if info.stateful else "stateless"
    return f"{kind}, {len(info.rules)} rules, {len(port_flows(info))} flows"


class OvsFirewall:
    """Each port's flows on br-int, changed flow by flow (never a gap in between)."""

    filters = True   # the agent asks the server for its ports' groups

    def __init__(self, br_int: Any):
        self.br_int = br_int
        self.flows: dict[str, dict[str, str]] = {}    # port name -> match -> flow
        self.groups: dict[str, set[str]] = {}         # port name -> its groups
        self.remotes: dict[str, set[str]] = {}        # port name -> remote groups it names

    def set_port(self, name: str, info: PortInfo, groups: Iterable[str] = ()) -> None:
        new = {match_of(flow): flow for flow in port_flows(info)}
        change_flows(self.br_int, self.flows.get(name, {}).values(), new.values())
        self.flows[name] = new
        self.groups[name] = set(groups)
        self.remotes[name] = {rule["remote_group_id"] for rule in info.rules
                              if rule.get("remote_group_id")}

    def remove_port(self, name: str) -> None:
        old = self.flows.pop(name, {})
        self.groups.pop(name, None)
        self.remotes.pop(name, None)
        self.br_int.delete_flows(list(old), strict=True)

    def ports_of_groups(self, group_ids: Iterable[str]) -> set[str]:
        wanted = set(group_ids)
        return {name for name, groups in self.groups.items() if groups & wanted}

    def ports_naming_groups(self, group_ids: Iterable[str]) -> set[str]:
        wanted = set(group_ids)
        return {name for name, remotes in self.remotes.items() if remotes & wanted}


class NoopFirewall(OvsFirewall):
    """``firewall_driver = noop``: no port is filtered, no group change concerns it."""

    filters = False

    def set_port(self, name: str, info: PortInfo, groups: Iterable[str] = ()) -> None:
        pass

    def remove_port(self, name: str) -> None:
        pass


def make(driver: str, br_int: Any) -> OvsFirewall:
    """The firewall ``[securitygroup] firewall_driver`` names."""
    return OvsFirewall(br_int) if driver == "openvswitch" else NoopFirewall(br_int)
