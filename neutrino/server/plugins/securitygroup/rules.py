"""Security group rules: what a rule body may say, checked and normalised as Neutron does.

A rule allows traffic in one ``direction`` (seen from the port: ``ingress``
reaches it, ``egress`` leaves it) of one ``ethertype``, optionally of one
``protocol`` (a name or an IP protocol number), a port range (for ICMP: a
type and a code) and one remote: an address prefix or the members of a
group.  ``fingerprint`` is what makes two rules the same rule.

The attribute converters raise Neutron's own errors (its converters do, in
its attribute map); ``normalise`` then runs its rule checks in its order.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from typing import Any

from neutrino.common import ip_protocols
from neutrino.server.db import models
from neutrino.server.lib import clock, errors
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import REQUIRED, Attribute, ResourceAttributes, read_only
from neutrino.server.plugins.securitygroup import models as sg_models

INGRESS, EGRESS = "ingress", "egress"
IPV4, IPV6 = "IPv4", "IPv6"
ANY_PREFIXES = ("0.0.0.0/0", "::/0")

# Neutron's protocol names and their numbers ('ip', as 'hopopt' 0, left out: the
# agents' flow builder has no keyword for it).
PROTOCOL_NUMBERS = ip_protocols.NUMBERS
# Protocols whose rules take a port range; ICMP's take a type and a code.
PORT_PROTOCOLS = {6, 17, 33, 132, 136}
PORT_PROTOCOL_NAMES = "DCCP, SCTP, TCP, UDP, UDPLITE"
ICMP_PROTOCOLS = {1, 58}
# IPv6's own protocols (names, and numbers as text): an IPv4 rule cannot have them.
IPV6_ONLY_PROTOCOLS = {"ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt",
                       "ipv6-opts", "ipv6-route", "41", "44", "58", "59", "60", "43"}
# What Neutron's SecurityGroupRuleInvalidProtocol lists as supported.
_SUPPORTED = repr((None, "any", *PROTOCOL_NUMBERS))


def bad_rule(message: str, error_type: str) -> errors.BadRequest:
    return errors.BadRequest(message, error_type)


def _as_number(value: Any) -> int | None:
    """An integer or its text, else None (a bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def convert_protocol(value: Any) -> str | None:
    """A known name (lower case) or a number 0-255 as text; 'any' is no protocol."""
    if isinstance(value, str):
        name = value.lower()
        if name == "any":
            return None
        if name in PROTOCOL_NUMBERS:
            return name
    if value is None:
        return None
    number = _as_number(value)
    if number is not None and 0 <= number <= 255:
        return str(number)
    raise bad_rule(f"Security group rule protocol {value} not supported. Only protocol "
                   f"values {_SUPPORTED} and integer representations [0 to 255] are "
                   "supported.", "SecurityGroupRuleInvalidProtocol")


def convert_ethertype(value: Any) -> str:
    for known in (IPV4, IPV6):
        if isinstance(value, str) and value.lower() == known.lower():
            return known
    raise bad_rule(f"Security group rule for ethertype '{value}' not supported. Allowed "
                   f"values are {[IPV4, IPV6]}.", "SecurityGroupRuleInvalidEtherType")


def convert_port(value: Any) -> int | None:
    """A port (or ICMP type or code): 0-65535, as a number or its text."""
    if value is None:
        return None
    number = _as_number(value)
    if number is None or not 0 <= number <= 65535:
        raise bad_rule(f"Invalid value for port {value}", "SecurityGroupInvalidPortValue")
    return number


def convert_prefix(value: Any) -> str | None:
    """The prefix with its length (10.0.0.5 -> 10.0.0.5/32), host bits kept, as Neutron
    stores it; its network is the rule's ``normalized_cidr``."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_interface(v.string(value)))
    except ValueError:
        raise bad_rule(f"Invalid CIDR {value} given as IP prefix.", "InvalidCIDR") from None


def normalized_cidr(prefix: str | None) -> str | None:
    return None if prefix is None else str(ipaddress.ip_interface(prefix).network)


SECURITY_GROUP_RULE = ResourceAttributes("security_group_rule", (
    Attribute("id"),
    Attribute("tenant_id", v.string, update=False),
    Attribute("project_id", v.string, update=False),
    # Any string, as in Neutron: one that names no group is a 404, not a 400.
    Attribute("security_group_id", v.string, REQUIRED, update=False),
    Attribute("direction", v.one_of(INGRESS, EGRESS), REQUIRED, update=False),
    Attribute("ethertype", convert_ethertype, IPV4, update=False),
    Attribute("protocol", convert_protocol, None, update=False),
    Attribute("port_range_min", convert_port, None, update=False),
    Attribute("port_range_max", convert_port, None, update=False),
    Attribute("remote_ip_prefix", convert_prefix, None, update=False),
    Attribute("remote_group_id", v.nullable(v.string), None, update=False),
    Attribute("remote_address_group_id", v.nullable(v.string), None, update=False),
    Attribute("description", v.string, ""),
    *read_only("normalized_cidr", "belongs_to_default_sg", "created_at", "updated_at",
               "revision_number"),
))


protocol_number = ip_protocols.number


def _canonical_ipv6_icmp(family: str, protocol: str | None) -> str | None:
    """ICMP of IPv6 is ICMPv6: Neutron stores 'icmp' and 'icmpv6' as 'ipv6-icmp', 1 as 58."""
    if family == IPV6 and protocol in ("icmp", "icmpv6"):
        return "ipv6-icmp"
    if family == IPV6 and protocol == "1":
        return "58"
    return protocol


def _check_icmp(low: int | None, high: int | None) -> None:
    for bound, field, value in (("port_range_min", "type", low),
                                ("port_range_max", "code", high)):
        if value is not None and not 0 <= value <= 255:
            raise bad_rule(f"Invalid value for ICMP {field} ({bound}) {value}. It must be 0 "
                           "to 255.", "SecurityGroupInvalidIcmpValue")
    if low is None and high is not None:
        raise bad_rule(f"ICMP code (port-range-max) {high} is provided but ICMP type "
                       "(port-range-min) is missing.", "SecurityGroupMissingIcmpType")


def _check_ports(protocol: str | None, low: int | None, high: int | None) -> None:
    if low is None and high is None:
        return
    if protocol is None:
        raise bad_rule("Must also specify protocol if port range is given.",
                       "SecurityGroupProtocolRequiredWithPorts")
    number = protocol_number(protocol)
    if number in ICMP_PROTOCOLS:
        _check_icmp(low, high)
    elif number not in PORT_PROTOCOLS:
        raise bad_rule(f"Ports cannot be specified for protocol {number}. Ports are only "
                       f"supported for {PORT_PROTOCOL_NAMES}.",
                       "SecurityGroupInvalidProtocolForPort")
    elif low == 0 or high == 0:
        raise bad_rule("Invalid value for port 0", "SecurityGroupInvalidPortValue")
    elif low is None or high is None or low > high:
        raise bad_rule("For TCP/UDP protocols, port_range_min must be <= port_range_max",
                       "SecurityGroupInvalidPortRange")


def _check_remotes(body: dict[str, Any]) -> None:
    given = [name for name in ("remote_ip_prefix", "remote_group_id", "remote_address_group_id")
             if body.get(name)]
    if len(given) > 1:
        raise bad_rule("Only one of remote_ip_prefix or remote_group_id or "
                       "remote_address_group_id may be provided.",
                       "SecurityGroupMultipleRemoteEntites")


def normalise(body: dict[str, Any]) -> dict[str, Any]:
    """The rule fields of a converted create body, normalised; a 400 for a bad rule.

    Neutron's checks, in its order: ICMPv6 names, the whole port range as none,
    the range, the prefix's family, the protocol's family, a single remote.
    """
    family = body["ethertype"]
    protocol = _canonical_ipv6_icmp(family, body["protocol"])
    low, high = body["port_range_min"], body["port_range_max"]
    if (low, high) == (1, 65535):
        low = high = None
    _check_ports(protocol, low, high)
    prefix = body["remote_ip_prefix"]
    if prefix is not None and ipaddress.ip_interface(prefix).version != int(family[-1]):
        raise bad_rule(f"Conflicting value ethertype {family} for CIDR {prefix}",
                       "SecurityGroupRuleParameterConflict")
    if family == IPV4 and protocol in IPV6_ONLY_PROTOCOLS:
        raise bad_rule(f"Invalid ethertype {family} for protocol {protocol}.",
                       "SecurityGroupEthertypeConflictWithProtocol")
    _check_remotes(body)
    return {
        "security_group_id": body["security_group_id"], "direction": body["direction"],
        "ethertype": family, "protocol": protocol, "port_range_min": low,
        "port_range_max": high, "remote_ip_prefix": prefix,
        "remote_group_id": body["remote_group_id"] or None,
    }


def fingerprint(rule: dict[str, Any]) -> str:
    """Equal for rules Neutron calls the same: protocol 'tcp' and '6' alike; a
    whole-family prefix (0.0.0.0/0, ::/0) and no prefix alike."""
    prefix = rule["remote_ip_prefix"]
    key = [rule["direction"], rule["ethertype"], protocol_number(rule["protocol"]),
           rule["port_range_min"], rule["port_range_max"],
           None if prefix in ANY_PREFIXES else prefix, rule["remote_group_id"]]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


def rule_dict(rule: sg_models.SecurityGroupRule, default_group: bool = False) -> dict[str, Any]:
    """The rule as the API shows it (as in Neutron, no tenant_id)."""
    return {
        "id": rule.id,
        "project_id": rule.project_id,
        "security_group_id": rule.security_group_id,
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "protocol": rule.protocol,
        "port_range_min": rule.port_range_min,
        "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix,
        "normalized_cidr": normalized_cidr(rule.remote_ip_prefix),
        "remote_group_id": rule.remote_group_id,
        "remote_address_group_id": None,
        "description": rule.description,
        "belongs_to_default_sg": default_group,
        "revision_number": 0,
        "created_at": clock.to_api(rule.created_at),
        "updated_at": clock.to_api(rule.updated_at),
    }


def new_rule(project_id: str, fields: dict[str, Any], description: str = "") -> \
        sg_models.SecurityGroupRule:
    """A rule row from normalised ``fields``."""
    return sg_models.SecurityGroupRule(id=models.new_id(), project_id=project_id,
                                    description=description, fingerprint=fingerprint(fields),
                                    **fields)


def open_egress(group_id: str) -> list[dict[str, Any]]:
    """What a new group allows: everything out, of both families."""
    return [{"security_group_id": group_id, "direction": EGRESS, "ethertype": family,
             "protocol": None, "port_range_min": None, "port_range_max": None,
             "remote_ip_prefix": None, "remote_group_id": None} for family in (IPV4, IPV6)]


def default_group_ingress(group_id: str) -> list[dict[str, Any]]:
    """What a default group lets in as well: everything from its own members."""
    return [{"security_group_id": group_id, "direction": INGRESS, "ethertype": family,
             "protocol": None, "port_range_min": None, "port_range_max": None,
             "remote_ip_prefix": None, "remote_group_id": group_id}
            for family in (IPV4, IPV6)]
