"""security_groups and port_security_enabled of ports (and of networks, for the latter).

As ML2 with its port_security extension driver does: a port's port security
is what its create body says, else its network's; a network:* port (DHCP,
routers), which the agents trust, never has it.  A port with port security
is a member of its groups (the project's default one unless the body names
others); a port without it has no groups and is not filtered at all.  One
port's groups are all stateful or all stateless.  A project's first network
or port makes its default group, as Neutron's do.
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
from neutrino.server.plugins.securitygroup import models as sg_models

PORT_SECURITY = "port_security_enabled"
SECURITY_GROUPS = "security_groups"


def needs_port_security() -> errors.BadRequest:
    return errors.BadRequest(
        "Port security must be enabled and port must have an IP address in order to use "
        "security groups.", "PortSecurityAndIPRequiredForSecurityGroups")


def has_groups() -> errors.Conflict:
    return errors.Conflict(
        "Port has security group associated. Cannot disable port security or IP address "
        "until security group is removed.", "PortSecurityPortHasSecurityGroup")


def is_trusted(device_owner: str) -> bool:
    """Ports of the network itself (DHCP, routers): never filtered, as in Neutron."""
    return device_owner.startswith(NETWORK_PREFIX)


def port_groups(session: Session, port_id: str) -> list[str]:
    return sorted(session.scalars(
        sa.select(sg_models.SecurityGroupPortBinding.security_group_id).where(
            sg_models.SecurityGroupPortBinding.port_id == port_id)))


def port_security(session: Session, port_id: str) -> bool:
    row = session.get(sg_models.PortSecurity, port_id)
    return True if row is None else row.enabled


def _network_security(session: Session, network_id: str) -> bool:
    row = session.get(sg_models.NetworkSecurity, network_id)
    return True if row is None else row.enabled


def _check_groups(session: Session, group_ids: list[str]) -> None:
    """Every group exists (a 404 naming those that do not) and all are equally stateful."""
    found = {group.id: group for group in session.scalars(
        sa.select(sg_models.SecurityGroup).where(sg_models.SecurityGroup.id.in_(group_ids)))}
    missing = [group_id for group_id in group_ids if group_id not in found]
    if missing:
        raise groups.group_not_found(", ".join(missing))
    if len({group.stateful for group in found.values()}) > 1:
        raise errors.Conflict(
            "Error Cannot apply both stateful and stateless security groups on the same port "
            "at the same time while attempting the operation.", "SecurityGroupConflict")


def _ensure_default_group(session: Session, project_id: str) -> None:
    # Neutron makes it before any network or port of a project (one with a project).
    if project_id:
        groups.ensure_default_group(session, project_id)


class PortSecurityExtension(ResourceExtension):
    def process_create(self, resource: str, session: Session, body: dict[str, Any],
                       db_object: Any) -> None:
        if resource == "network":
            _ensure_default_group(session, db_object.project_id)
            session.add(sg_models.NetworkSecurity(network_id=db_object.id,
                                               enabled=body.get(PORT_SECURITY, True)))
        elif resource == "port":
            self._create_port(session, body, db_object)

    @staticmethod
    def _create_port(session: Session, body: dict[str, Any], port: models.Port) -> None:
        _ensure_default_group(session, port.project_id)
        if is_trusted(port.device_owner):
            enabled = False
        elif body.get(PORT_SECURITY) is not None:
            enabled = body[PORT_SECURITY]
        else:
            enabled = _network_security(session, port.network_id)
        wanted = body.get(SECURITY_GROUPS)
        if wanted is None:
            wanted = [groups.ensure_default_group(session, port.project_id)] if enabled else []
        elif wanted and not enabled:
            raise needs_port_security()
        session.add(sg_models.PortSecurity(port_id=port.id, enabled=enabled))
        _bind(session, port.id, wanted)

    def process_update(self, resource: str, session: Session, body: dict[str, Any],
                       db_object: Any) -> None:
        if resource == "network":
            if PORT_SECURITY in body:
                row = session.get(sg_models.NetworkSecurity, db_object.id)
                if row is None:
                    session.add(sg_models.NetworkSecurity(network_id=db_object.id,
                                                       enabled=body[PORT_SECURITY]))
                else:
                    row.enabled = body[PORT_SECURITY]
        elif resource == "port":
            self._update_port(session, body, db_object)

    @staticmethod
    def _update_port(session: Session, body: dict[str, Any], port: models.Port) -> None:
        _ensure_default_group(session, port.project_id)
        enabled = body.get(PORT_SECURITY, port_security(session, port.id))
        if not enabled:
            if body.get(SECURITY_GROUPS):
                raise needs_port_security()
            if SECURITY_GROUPS not in body and port_groups(session, port.id):
                raise has_groups()
        if PORT_SECURITY in body:
            row = session.get(sg_models.PortSecurity, port.id)
            if row is None:
                session.add(sg_models.PortSecurity(port_id=port.id, enabled=enabled))
            else:
                row.enabled = enabled
        if SECURITY_GROUPS in body:
            _bind(session, port.id, body[SECURITY_GROUPS])

    def extend_dict(self, resource: str, session: Session, db_object: Any,
                    result: dict[str, Any]) -> None:
        if resource == "network":
            result[PORT_SECURITY] = _network_security(session, db_object.id)
        elif resource == "port":
            result[PORT_SECURITY] = port_security(session, db_object.id)
            result[SECURITY_GROUPS] = port_groups(session, db_object.id)


def _bind(session: Session, port_id: str, group_ids: list[str]) -> None:
    """Make ``group_ids`` (checked here) the port's groups."""
    wanted = list(dict.fromkeys(group_ids))
    _check_groups(session, wanted)
    current = set(port_groups(session, port_id))
    gone = current - set(wanted)
    if gone:
        session.execute(sa.delete(sg_models.SecurityGroupPortBinding).where(
            sg_models.SecurityGroupPortBinding.port_id == port_id,
            sg_models.SecurityGroupPortBinding.security_group_id.in_(gone)))
    for group_id in wanted:
        if group_id not in current:
            session.add(sg_models.SecurityGroupPortBinding(port_id=port_id,
                                                        security_group_id=group_id))
