"""security_groups and port_security_enabled of ports (and of networks, for the latter).

A port with port security is a member of its groups (the project's
default one unless the body names others; none for a network:* port,
which the agents trust); a port without it has no groups and is not
filtered at all.  One port's groups are all stateful or all stateless.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.lib import errors
from neutrino.server.lib.device_owners import NETWORK_PREFIX
from neutrino.server.plugins.base import ResourceExtension
from neutrino.server.plugins.securitygroup import groups

PORT_SECURITY = "port_security_enabled"
SECURITY_GROUPS = "security_groups"


def needs_port_security() -> errors.BadRequest:
    return errors.BadRequest(
        "Port security must be enabled and port must have an IP address in order to use "
        "security groups.", "PortSecurityAndIPRequiredForSecurityGroups")


def is_trusted(device_owner: str) -> bool:
    """Ports of the network itself (DHCP, routers): never filtered, as in Neutron."""
    return device_owner.startswith(NETWORK_PREFIX)


def port_groups(session: Session, port_id: str) -> list[str]:
    return sorted(session.scalars(
        sa.select(models.SecurityGroupPortBinding.security_group_id).where(
            models.SecurityGroupPortBinding.port_id == port_id)))


def port_security(session: Session, port_id: str) -> bool:
    row = session.get(models.PortSecurity, port_id)
    return True if row is None else row.enabled


def _network_security(session: Session, network_id: str) -> bool:
    row = session.get(models.NetworkSecurity, network_id)
    return True if row is None else row.enabled


def _check_groups(session: Session, group_ids: list[str]) -> None:
    stateful = {groups.load_group(session, group_id).stateful for group_id in group_ids}
    if len(stateful) > 1:
        raise errors.BadRequest(
            "Cannot apply both stateful and stateless security groups on the same port at "
            "the same time.", "PortBoundToStatefulAndStatelessSecurityGroups")


class PortSecurityExtension(ResourceExtension):
    def process_create(self, resource: str, session: Session, body: dict[str, Any],
                       db_object: Any) -> None:
        if resource == "network":
            session.add(models.NetworkSecurity(network_id=db_object.id,
                                               enabled=body.get(PORT_SECURITY, True)))
            return
        if resource != "port":
            return
        port: models.Port = db_object
        enabled = body.get(PORT_SECURITY)
        if enabled is None:
            enabled = _network_security(session, port.network_id)
        wanted = body.get(SECURITY_GROUPS)
        if wanted is None:
            # A port without addresses has nothing to filter by (Neutron's rule too).
            wanted = ([] if not enabled or is_trusted(port.device_owner) or not port.fixed_ips
                      else [groups.ensure_default_group(session, port.project_id)])
        self._store(session, port, enabled, sorted(set(wanted)))

    def process_update(self, resource: str, session: Session, body: dict[str, Any],
                       db_object: Any) -> None:
        if resource == "network":
            if PORT_SECURITY in body:
                row = session.get(models.NetworkSecurity, db_object.id)
                if row is None:
                    session.add(models.NetworkSecurity(network_id=db_object.id,
                                                       enabled=body[PORT_SECURITY]))
                else:
                    row.enabled = body[PORT_SECURITY]
            return
        if resource != "port" or (PORT_SECURITY not in body and SECURITY_GROUPS not in body
                                  and "fixed_ips" not in body):
            return
        port: models.Port = db_object
        current = port_groups(session, port.id)
        enabled = body.get(PORT_SECURITY, port_security(session, port.id))
        wanted = body.get(SECURITY_GROUPS, current)
        if not enabled and wanted and SECURITY_GROUPS not in body:
            raise errors.Conflict(
                "Port has security group associated. Cannot disable port security or IP "
                "address until security group is removed", "PortSecurityPortHasSecurityGroup")
        self._store(session, port, enabled, sorted(set(wanted)))

    @staticmethod
    def _store(session: Session, port: models.Port, enabled: bool, wanted: list[str]) -> None:
        if wanted and (not enabled or not port.fixed_ips):
            raise needs_port_security()
        _check_groups(session, wanted)
        row = session.get(models.PortSecurity, port.id)
        if row is None:
            session.add(models.PortSecurity(port_id=port.id, enabled=enabled))
        else:
            row.enabled = enabled
        current = set(port_groups(session, port.id))
        for group_id in current - set(wanted):
            session.execute(sa.delete(models.SecurityGroupPortBinding).where(
                models.SecurityGroupPortBinding.port_id == port.id,
                models.SecurityGroupPortBinding.security_group_id == group_id))
        for group_id in set(wanted) - current:
            session.add(models.SecurityGroupPortBinding(port_id=port.id,
                                                        security_group_id=group_id))

    def extend_dict(self, resource: str, session: Session, db_object: Any,
                    result: dict[str, Any]) -> None:
        if resource == "network":
            result[PORT_SECURITY] = _network_security(session, db_object.id)
        elif resource == "port":
            result[PORT_SECURITY] = port_security(session, db_object.id)
            result[SECURITY_GROUPS] = port_groups(session, db_object.id)
