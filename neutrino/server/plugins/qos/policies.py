"""QoS policies and their rules: /qos/policies and /qos/policies/{policy_id}/<type>_rules.

A rule changed, added or removed reaches the agents as ``qos_ports_updated``
naming every port the policy applies to (its own, and its networks' ports
without one of their own), so each agent re-reads only those of its ports.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.lib import clock, errors
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute, ResourceAttributes, read_only
from neutrino.server.lib.device_owners import NETWORK_PREFIX
from neutrino.server.plugins.qos import models as qos_models
from neutrino.server.plugins.qos import rules as qos_rules
from neutrino.server.plugins.qos.notify import QosAgentNotifier

POLICY = ResourceAttributes("policy", (
    Attribute("id"),
    Attribute("name", v.string, ""),
    Attribute("description", v.string, ""),
    Attribute("shared", v.boolean, False),
    Attribute("is_default", v.boolean, False),
    Attribute("tenant_id", v.string, update=False),
    Attribute("project_id", v.string, update=False),
    *read_only("rules", "tags", "revision_number", "created_at", "updated_at"),
))


def policy_not_found(policy_id: str) -> errors.NotFound:
    return errors.NotFound(f"QoS policy {policy_id} could not be found.", "QosPolicyNotFound")


def load_policy(session: Session, policy_id: str) -> qos_models.QosPolicy:
    policy = session.get(qos_models.QosPolicy, policy_id)
    if policy is None:
        raise policy_not_found(policy_id)
    return policy


def _is_default(session: Session, policy: qos_models.QosPolicy) -> bool:
    row = session.get(qos_models.QosDefaultPolicy, policy.project_id)
    return row is not None and row.policy_id == policy.id


def policy_dict(session: Session, policy: qos_models.QosPolicy) -> dict[str, Any]:
    return {
        "id": policy.id, "name": policy.name, "description": policy.description,
        "shared": policy.shared, "is_default": _is_default(session, policy),
        "tenant_id": policy.project_id, "project_id": policy.project_id,
        "rules": [qos_rules.rule_in_policy(rule) for rule in policy.rules],
        "tags": [], "revision_number": policy.revision_number,
        "created_at": clock.to_api(policy.created_at),
        "updated_at": clock.to_api(policy.updated_at),
    }


def _set_default(session: Session, policy: qos_models.QosPolicy, wanted: bool) -> None:
    row = session.get(qos_models.QosDefaultPolicy, policy.project_id)
    if wanted:
        if row is not None and row.policy_id != policy.id:
            raise errors.Conflict(f"A default QoS policy exists for project "
                                  f"{policy.project_id}.", "QoSPolicyDefaultAlreadyExists")
        if row is None:
            session.add(qos_models.QosDefaultPolicy(project_id=policy.project_id,
                                                    policy_id=policy.id))
    elif row is not None and row.policy_id == policy.id:
        session.delete(row)


def default_policy_id(session: Session, project_id: str) -> str | None:
    row = session.get(qos_models.QosDefaultPolicy, project_id)
    return row.policy_id if row is not None else None


def ports_of_network(session: Session, network_id: str) -> list[str]:
    """The ports a network's policy applies to: its machines' ports without one of
    their own."""
    own = sa.select(qos_models.PortQosPolicy.port_id)
    return list(session.scalars(sa.select(models.Port.id).where(
        models.Port.network_id == network_id, models.Port.id.not_in(own),
        sa.not_(models.Port.device_owner.startswith(NETWORK_PREFIX)))))


def ports_of_policy(session: Session, policy_id: str) -> list[str]:
    """Every port ``policy_id`` applies to, directly or through its network."""
    found = list(session.scalars(sa.select(qos_models.PortQosPolicy.port_id).where(
        qos_models.PortQosPolicy.policy_id == policy_id)))
    for network_id in session.scalars(sa.select(qos_models.NetworkQosPolicy.network_id).where(
            qos_models.NetworkQosPolicy.policy_id == policy_id)):
        found += ports_of_network(session, network_id)
    return sorted(set(found))


def _user(session: Session, policy_id: str) -> tuple[str, str] | None:
    """One port or network using the policy, if any: ("port", id) or ("network", id)."""
    for kind, model, key in (("port", qos_models.PortQosPolicy, "port_id"),
                             ("network", qos_models.NetworkQosPolicy, "network_id")):
        used_by = session.scalar(sa.select(getattr(model, key)).where(
            model.policy_id == policy_id).limit(1))
        if used_by is not None:
            return kind, used_by
    return None


class PolicyService:
    def __init__(self, db: database.Database):
        self.db = db

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            policy = qos_models.QosPolicy(
                id=models.new_id(), project_id=body["project_id"], name=body["name"],
                description=body["description"], shared=body["shared"])
            session.add(policy)
            session.flush()
            _set_default(session, policy, body["is_default"])
            session.flush()
            return policy_dict(session, policy)
        return self.db.run(work)

    def get(self, policy_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: policy_dict(session, load_policy(session, policy_id)))

    def update(self, policy_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            policy = load_policy(session, policy_id)
            for name in ("name", "description", "shared"):
                if name in body:
                    setattr(policy, name, body[name])
            if "is_default" in body:
                _set_default(session, policy, body["is_default"])
            policy.revision_number += 1
            policy.updated_at = clock.utcnow()
            session.flush()
            return policy_dict(session, policy)
        return self.db.run(work)

    def delete(self, policy_id: str) -> None:
        def work(session: Session) -> None:
            policy = load_policy(session, policy_id)
            user = _user(session, policy_id)
            if user is not None:
                raise errors.Conflict(f"QoS Policy {policy_id} is used by {user[0]} "
                                      f"{user[1]}.", "QosPolicyInUse")
            session.execute(sa.delete(qos_models.QosDefaultPolicy).where(
                qos_models.QosDefaultPolicy.policy_id == policy_id))
            session.delete(policy)
            session.flush()
        self.db.run(work)

    # Last in the class: below it, mypy would read 'list' in annotations as this method.
    def list(self) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            query = sa.select(qos_models.QosPolicy).order_by(qos_models.QosPolicy.created_at)
            return [policy_dict(session, policy) for policy in session.scalars(query)]
        return self.db.run(work)


class RuleService:
    """The rules of one type, under their policy (a NestedResourceService)."""

    def __init__(self, db: database.Database, kind: qos_rules.RuleType,
                 notifier: QosAgentNotifier):
        self.db = db
        self.kind = kind
        self.notifier = notifier

    def _not_found(self, rule_id: str, policy_id: str) -> errors.NotFound:
        return errors.NotFound(f"QoS rule {rule_id} for policy {policy_id} could not be "
                               "found.", "QosRuleNotFound")

    def _load(self, session: Session, rule_id: str, policy_id: str) -> qos_models.QosRule:
        load_policy(session, policy_id)
        rule = session.get(qos_models.QosRule, rule_id)
        if rule is None or rule.policy_id != policy_id or rule.type != self.kind.type:
            raise self._not_found(rule_id, policy_id)
        return rule

    def _check(self, session: Session, policy_id: str, rule: qos_models.QosRule) -> None:
        """One rule per type and direction in a policy; a minimum not above the limit.
        (Without autoflush: ``rule`` may be changed in place and not yet checked.)"""
        with session.no_autoflush:
            others = [other for other in load_policy(session, policy_id).rules
                      if other.id != rule.id and other.direction == rule.direction]
        for other in others:
            if other.type == rule.type:
                raise errors.Conflict(
                    f"Rule {rule.type} conflicts with rule {other.id} which already exists "
                    f"in QoS Policy {policy_id}.", "QoSRulesConflict")
        pairs = {(r.type, r.direction): r for r in [*others, rule]}
        low = pairs.get(("minimum_bandwidth", rule.direction))
        high = pairs.get(("bandwidth_limit", rule.direction))
        if low and high and high.max_kbps and (low.min_kbps or 0) > high.max_kbps:
            raise errors.Conflict(
                f"Rule {rule.type} in QoS policy {policy_id}: min_kbps {low.min_kbps} is "
                f"greater than max_kbps {high.max_kbps} of the same direction.",
                "QoSRuleParameterConflict")

    def _changed(self, session: Session, policy: qos_models.QosPolicy) -> None:
        policy.revision_number += 1
        ports = ports_of_policy(session, policy.id)
        database.after_commit(session, lambda: self.notifier.ports_updated(ports))

    def create(self, body: dict[str, Any], policy_id: str) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            policy = load_policy(session, policy_id)
            rule = qos_models.QosRule(id=models.new_id(), policy_id=policy_id,
                                      type=self.kind.type,
                                      direction=body.get("direction", "egress"),
                                      **{name: body[name] for name in self.kind.fields
                                         if name != "direction"})
            self._check(session, policy_id, rule)
            session.add(rule)
            session.flush()
            session.refresh(policy)
            self._changed(session, policy)
            return qos_rules.rule_dict(rule)
        return self.db.run(work)

    def get(self, rule_id: str, policy_id: str) -> dict[str, Any]:
        return self.db.run(
            lambda session: qos_rules.rule_dict(self._load(session, rule_id, policy_id)))

    def update(self, rule_id: str, body: dict[str, Any], policy_id: str) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            rule = self._load(session, rule_id, policy_id)
            for name in self.kind.fields:
                if name in body:
                    setattr(rule, name, body[name])
            self._check(session, policy_id, rule)
            session.flush()
            self._changed(session, load_policy(session, policy_id))
            return qos_rules.rule_dict(rule)
        return self.db.run(work)

    def delete(self, rule_id: str, policy_id: str) -> None:
        def work(session: Session) -> None:
            rule = self._load(session, rule_id, policy_id)
            session.delete(rule)
            session.flush()
            self._changed(session, load_policy(session, policy_id))
        self.db.run(work)

    # Last in the class: below it, mypy would read 'list' in annotations as this method.
    def list(self, policy_id: str) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            return [qos_rules.rule_dict(rule) for rule in load_policy(session, policy_id).rules
                    if rule.type == self.kind.type]
        return self.db.run(work)


class RuleTypeService:
    """/qos/rule-types: the types the loaded driver enforces (read only)."""

    def get(self, rule_type: str) -> dict[str, Any]:
        kind = qos_rules.RULE_TYPES.get(rule_type)
        if kind is None:
            raise errors.NotFound(f"QoS rule type {rule_type} could not be found.",
                                  "QosRuleTypeNotFound")
        return qos_rules.rule_type_dict(kind, details=True)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        raise errors.MethodNotAllowed("QoS rule types cannot be created")

    def update(self, rule_type: str, body: dict[str, Any]) -> dict[str, Any]:
        raise errors.MethodNotAllowed("QoS rule types cannot be changed")

    def delete(self, rule_type: str) -> None:
        raise errors.MethodNotAllowed("QoS rule types cannot be deleted")

    # Last in the class: below it, mypy would read 'list' in annotations as this method.
    def list(self) -> list[dict[str, Any]]:
        return [qos_rules.rule_type_dict(kind, details=False)
                for kind in qos_rules.RULE_TYPES.values()]
