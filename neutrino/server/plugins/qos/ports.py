"""``qos_policy_id`` of networks and ports, and ``qos_network_policy_id`` of ports.

As Neutron's QoS plugin has them: a port's own policy wins over its
network's; a network's applies to its machines' ports, never to its own
(router and DHCP ports); a project's default policy goes to its new
networks that name none.  When a network's policy changes, the ports it
applies to are named to the agents once the change is committed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.lib.device_owners import NETWORK_PREFIX
from neutrino.server.plugins.base import ResourceExtension
from neutrino.server.plugins.qos import models as qos_models
from neutrino.server.plugins.qos import policies
from neutrino.server.plugins.qos.notify import QosAgentNotifier

QOS_POLICY_ID = "qos_policy_id"
QOS_NETWORK_POLICY_ID = "qos_network_policy_id"

_RESOURCES = ("port", "network")


def _row(session: Session, resource: str, resource_id: str
         ) -> qos_models.PortQosPolicy | qos_models.NetworkQosPolicy | None:
    if resource == "port":
        return session.get(qos_models.PortQosPolicy, resource_id)
    return session.get(qos_models.NetworkQosPolicy, resource_id)


def policy_of(session: Session, resource: str, resource_id: str) -> str | None:
    row = _row(session, resource, resource_id)
    return row.policy_id if row is not None else None


def effective_policy_id(session: Session, port: models.Port) -> str | None:
    """The policy that applies to ``port``: its own, else its network's (unless the
    port is the network's own)."""
    own = policy_of(session, "port", port.id)
    if own is not None or port.device_owner.startswith(NETWORK_PREFIX):
        return own
    return policy_of(session, "network", port.network_id)


def _bind(session: Session, resource: str, resource_id: str, policy_id: str | None) -> None:
    """Make ``policy_id`` (None: none) the resource's policy; a 404 for an unknown one."""
    if policy_id is not None:
        policies.load_policy(session, policy_id)
    row = _row(session, resource, resource_id)
    if row is not None and policy_id is None:
        session.delete(row)
    elif row is not None and policy_id is not None:
        row.policy_id = policy_id
    elif policy_id is not None and resource == "port":
        session.add(qos_models.PortQosPolicy(port_id=resource_id, policy_id=policy_id))
    elif policy_id is not None:
        session.add(qos_models.NetworkQosPolicy(network_id=resource_id, policy_id=policy_id))
    session.flush()


class QosPolicyExtension(ResourceExtension):
    def __init__(self, notifier: QosAgentNotifier):
        self.notifier = notifier

    def process_create(self, resource: str, session: Session, body: dict[str, Any],
                       db_object: Any) -> None:
        if resource not in _RESOURCES:
            return
        policy_id = body.get(QOS_POLICY_ID)
        if resource == "network" and QOS_POLICY_ID not in body:
            policy_id = policies.default_policy_id(session, db_object.project_id)
        _bind(session, resource, db_object.id, policy_id)

    def process_update(self, resource: str, session: Session, body: dict[str, Any],
                       db_object: Any) -> None:
        if resource not in _RESOURCES or QOS_POLICY_ID not in body:
            return
        before = policy_of(session, resource, db_object.id)
        _bind(session, resource, db_object.id, body[QOS_POLICY_ID])
        if resource == "network" and before != body[QOS_POLICY_ID]:
            # A port's own change reaches its agent as port_update; a network's
            # reaches the agents of its ports this way.
            ports = policies.ports_of_network(session, db_object.id)
            database.after_commit(session, lambda: self.notifier.ports_updated(ports))

    def extend_dict(self, resource: str, session: Session, db_object: Any,
                    result: dict[str, Any]) -> None:
        if resource not in _RESOURCES:
            return
        result[QOS_POLICY_ID] = policy_of(session, resource, db_object.id)
        if resource == "port":
            result[QOS_NETWORK_POLICY_ID] = policy_of(session, "network", db_object.network_id)
