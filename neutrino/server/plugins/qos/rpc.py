"""What the OVS agent's QoS extension calls: the rules that apply to its ports."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.plugins.qos import models as qos_models
from neutrino.server.plugins.qos import ports as qos_ports
from neutrino.server.plugins.qos import rules as qos_rules


class QosRpcEndpoint:
    def __init__(self, db: database.Database):
        self._db = db

    def qos_rules_for_ports(self, ports: list[str]) -> dict[str, Any]:
        """``{port id: {"policy_id": id or None, "rules": [...]}}`` for the ports the
        server knows (a port's own policy, else its network's)."""
        return self._db.run(lambda session: self._rules(session, ports))

    @staticmethod
    def _rules(session: Session, port_ids: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for port in session.scalars(sa.select(models.Port).where(models.Port.id.in_(port_ids))):
            policy_id = qos_ports.effective_policy_id(session, port)
            policy = session.get(qos_models.QosPolicy, policy_id) if policy_id else None
            found[port.id] = {
                "policy_id": policy_id,
                "rules": [qos_rules.rule_in_policy(rule) for rule in policy.rules]
                if policy else []}
        return found
