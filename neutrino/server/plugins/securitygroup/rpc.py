"""What L2 agents call to filter their ports: the security groups of devices.

One call answers for many devices at once: each port's addresses, port
security and groups; each of those groups' rules; and the addresses of
the members of every group a rule names as its remote, by family.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.plugins.securitygroup import models as sg_models
from neutrino.server.plugins.securitygroup import ports, rules

_RULE_FIELDS = ("id", "direction", "ethertype", "protocol", "port_range_min",
                "port_range_max", "remote_ip_prefix", "remote_group_id")


def _agent_rule(rule: sg_models.SecurityGroupRule) -> dict[str, Any]:
    """A rule as agents filter by it: its prefix as a network (normalized_cidr, as
    Neutron gives agents), not with the host bits a client may have written."""
    fields = {name: getattr(rule, name) for name in _RULE_FIELDS}
    fields["remote_ip_prefix"] = rules.normalized_cidr(rule.remote_ip_prefix)
    return fields


def _family(address: str) -> str:
    return "IPv4" if ipaddress.ip_address(address).version == 4 else "IPv6"


def member_ips(session: Session, group_ids: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """The addresses of each group's member ports, by family."""
    found: dict[str, dict[str, list[str]]] = {
        group_id: {"IPv4": [], "IPv6": []} for group_id in group_ids}
    if not found:
        return found
    rows = session.execute(
        sa.select(sg_models.SecurityGroupPortBinding.security_group_id,
                  models.IPAllocation.ip_address)
        .join(models.IPAllocation,
              models.IPAllocation.port_id == sg_models.SecurityGroupPortBinding.port_id)
        .where(sg_models.SecurityGroupPortBinding.security_group_id.in_(list(found))))
    for group_id, address in rows:
        found[group_id][_family(address)].append(address)
    for families in found.values():
        for addresses in families.values():
            addresses.sort()
    return found


class SecurityGroupRpcEndpoint:
    def __init__(self, db: database.Database):
        self._db = db

    def security_group_info_for_devices(self, devices: list[str]) -> dict[str, Any]:
        return self._db.run(lambda session: self._info(session, devices))

    @staticmethod
    def _info(session: Session, devices: list[str]) -> dict[str, Any]:
        result: dict[str, Any] = {"devices": {}, "security_groups": {}, "sg_member_ips": {}}
        wanted_groups: set[str] = set()
        for port in session.scalars(sa.select(models.Port).where(models.Port.id.in_(devices))):
            group_ids = ports.port_groups(session, port.id)
            wanted_groups.update(group_ids)
            result["devices"][port.id] = {
                "id": port.id, "network_id": port.network_id,
                "mac_address": port.mac_address, "device_owner": port.device_owner,
                "fixed_ips": [a["ip_address"] for a in port.fixed_ip_list()],
                "port_security_enabled": ports.port_security(session, port.id),
                "security_groups": group_ids,
            }
        remotes: set[str] = set()
        for group in session.scalars(sa.select(sg_models.SecurityGroup).where(
                sg_models.SecurityGroup.id.in_(wanted_groups))):
            group_rules = [_agent_rule(rule) for rule in group.rules]
            remotes.update(r["remote_group_id"] for r in group_rules if r["remote_group_id"])
            result["security_groups"][group.id] = {"stateful": group.stateful,
                                                   "rules": group_rules}
        result["sg_member_ips"] = member_ips(session, remotes)
        return result
