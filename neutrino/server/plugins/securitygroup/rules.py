"""Security group rules: what a rule body may say, checked and normalised as Neutron does.

A rule allows traffic in one ``direction`` (seen from the port: ``ingress``
reaches it, ``egress`` leaves it) of one ``ethertype``, optionally of one
``protocol`` (a name or an IP protocol number), a port range (for ICMP: a
type and a code) and one remote: an address prefix or the members of a
group.  ``fingerprint`` is what makes two rules the same rule.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from typing import Any

from neutrino.server.db import models
from neutrino.server.lib import clock, errors
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import REQUIRED, Attribute, ResourceAttributes, read_only

INGRESS, EGRESS = "ingress", "egress"
IPV4, IPV6 = "IPv4", "IPv6"

# Neutron's protocol names (neutron_lib's IP_PROTOCOL_MAP) and their numbers.
PROTOCOL_NUMBERS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
    "icmpv6": 58, "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44,
    "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89,
    "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}
# Protocols whose rules take a port range; ICMP's take a type and a code.
PORT_PROTOCOLS = {6, 17, 33, 132, 136}
ICMP_PROTOCOLS = {1, 58}

SECURITY_GROUP_RULE = ResourceAttributes("security_group_rule", (
    Attribute("id"),
    Attribute("tenant_id", v.string, update=False),
    Attribute("project_id", v.string, update=False),
    Attribute("security_group_id", v.uuid_string, REQUIRED, update=False),
    Attribute("direction", v.one_of(INGRESS, EGRESS), REQUIRED, update=False),
    Attribute("ethertype", v.string, IPV4, update=False),
    Attribute("protocol", v.nullable(v.string), None, update=False),
    Attribute("port_range_min", v.nullable(v.integer), None, update=False),
    Attribute("port_range_max", v.nullable(v.integer), None, update=False),
    Attribute("remote_ip_prefix", v.nullable(v.string), None, update=False),
    Attribute("remote_group_id", v.nullable(v.uuid_string), None, update=False),
    Attribute("remote_address_group_id", v.nullable(v.uuid_string), None, update=False),
    Attribute("description", v.string, ""),
    *read_only("normalized_cidr", "belongs_to_default_sg", "created_at", "updated_at",
               "revision_number"),
))


def bad_rule(message: str, error_type: str) -> errors.BadRequest:
    return errors.BadRequest(message, error_type)


def ethertype(value: str) -> str:
    for known in (IPV4, IPV6):
        if value.lower() == known.lower():
            return known
    raise errors.invalid_input("ethertype", f"{value!r} is not one of IPv4, IPv6")


def protocol_number(protocol: str | None) -> int | None:
    """The IP protocol a rule's ``protocol`` (a name or a number) stands for."""
    if protocol is None:
        return None
    if protocol in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[protocol]
    return int(protocol)


def _protocol(value: str | None) -> str | None:
    """A known name (lower case) or a number 0-255 as text; 'any' is no protocol."""
    if value is None:
        return None
    name = value.lower()
    if name == "any":
        return None
    if name in PROTOCOL_NUMBERS:
        return name
    if name.isdigit() and 0 <= int(name) <= 255:
        return str(int(name))
    raise bad_rule(
        f"Security group rule protocol {value} not supported. Only protocol values "
        f"[None, {', '.join(sorted(PROTOCOL_NUMBERS))}] and integer representations "
        "[0 to 255] are supported.", "SecurityGroupRuleInvalidProtocol")


def _remote_prefix(value: str | None, family: str) -> str | None:
    """The prefix's network (host bits dropped, as Neutron's normalized_cidr)."""
    if value is None:
        return None
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise errors.invalid_input(
            "remote_ip_prefix", f"'{value}' is not a valid IP prefix") from None
    if (network.version == 4) != (family == IPV4):
        raise bad_rule(f"Conflicting value ethertype {family} for CIDR {value}",
                       "SecurityGroupRuleParameterConflict")
    return str(network)


def _check_ports(number: int | None, low: int | None, high: int | None) -> None:
    if number in ICMP_PROTOCOLS:
        for field, value in (("type", low), ("code", high)):
            if value is not None and not 0 <= value <= 255:
                bound = "port_range_min" if field == "type" else "port_range_max"
                raise bad_rule(f"Invalid value for ICMP {field} ({bound}) {value}. It must "
                               "be 0 to 255.", "SecurityGroupInvalidIcmpValue")
        if low is None and high is not None:
            raise bad_rule(f"ICMP code (port-range-max) {high} is provided but ICMP type "
                           "(port-range-min) is missing.", "SecurityGroupMissingIcmpType")
        return
    if low is None and high is None:
        return
    if number is None:
        raise bad_rule("Must also specify protocol if port range is given.",
                       "SecurityGroupProtocolRequiredWithPorts")
    if number not in PORT_PROTOCOLS:
        raise bad_rule(f"Invalid protocol {number} for port range, only supported for TCP, "
                       "UDP, UDPLITE, SCTP and DCCP.", "SecurityGroupInvalidProtocolForPort")
    for value in (low, high):
        if value is None or not 1 <= value <= 65535:
            raise bad_rule(f"Invalid value for port {value}", "SecurityGroupInvalidPortValue")
    assert low is not None and high is not None
    if low > high:
        raise bad_rule("For TCP/UDP protocols, port_range_min must be <= port_range_max",
                       "SecurityGroupInvalidPortRange")


def normalise(body: dict[str, Any]) -> dict[str, Any]:
    """The rule fields of a checked create body, normalised; a 400 for a bad rule."""
    family = ethertype(body["ethertype"])
    protocol = _protocol(body["protocol"])
    number = protocol_number(protocol)
    if family == IPV6 and protocol == "icmp":
        protocol = "ipv6-icmp"   # ICMP of IPv6 is ICMPv6, as Neutron stores it
    if family == IPV4 and number == 58:
        raise bad_rule(f"Conflicting value ethertype {family} for protocol {protocol}",
                       "SecurityGroupEthertypeConflictWithProtocol")
    low, high = body["port_range_min"], body["port_range_max"]
    _check_ports(number, low, high)
    if body["remote_ip_prefix"] is not None and body["remote_group_id"] is not None:
        raise bad_rule("Only remote_ip_prefix or remote_group_id may be provided.",
                       "SecurityGroupRemoteGroupAndRemoteIpPrefix")
    if body.get("remote_address_group_id") is not None:
        raise errors.invalid_input("remote_address_group_id",
                                   "address groups are not supported by this server")
    return {
        "security_group_id": body["security_group_id"], "direction": body["direction"],
        "ethertype": family, "protocol": protocol, "port_range_min": low,
        "port_range_max": high,
        "remote_ip_prefix": _remote_prefix(body["remote_ip_prefix"], family),
        "remote_group_id": body["remote_group_id"],
    }


def fingerprint(rule: dict[str, Any]) -> str:
    """Equal for rules that allow the same traffic: protocol 'tcp' and '6' alike;
    a whole-family prefix (0.0.0.0/0) and no prefix alike."""
    prefix = rule["remote_ip_prefix"]
    if prefix is not None and ipaddress.ip_network(prefix).prefixlen == 0:
        prefix = None
    key = [rule["direction"], rule["ethertype"], protocol_number(rule["protocol"]),
           rule["port_range_min"], rule["port_range_max"], prefix, rule["remote_group_id"]]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


def rule_dict(rule: models.SecurityGroupRule, default_group: bool = False) -> dict[str, Any]:
    return {
        "id": rule.id,
        "tenant_id": rule.project_id,
        "project_id": rule.project_id,
        "security_group_id": rule.security_group_id,
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "protocol": rule.protocol,
        "port_range_min": rule.port_range_min,
        "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix,
        "normalized_cidr": rule.remote_ip_prefix,
        "remote_group_id": rule.remote_group_id,
        "remote_address_group_id": None,
        "description": rule.description,
        "belongs_to_default_sg": default_group,
        "revision_number": 0,
        "created_at": clock.to_api(rule.created_at),
        "updated_at": clock.to_api(rule.updated_at),
    }


def new_rule(project_id: str, fields: dict[str, Any], description: str = "") -> \
        models.SecurityGroupRule:
    """A rule row from normalised ``fields``."""
    return models.SecurityGroupRule(id=models.new_id(), project_id=project_id,
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
