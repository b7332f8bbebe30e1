"""Security groups and their rules: /security-groups and /security-group-rules.

Every project has a ``default`` group, made on its first use (its first
network, port or group, as Neutron makes it): it lets everything out and,
from its own members, everything in.  Any other new group lets everything
out and nothing in until rules say otherwise.  Agents hear of a changed
rule as ``security_groups_rule_updated`` for its group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.lib import clock, errors
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute, ResourceAttributes, read_only
from neutrino.server.plugins.securitygroup import models as sg_models
from neutrino.server.plugins.securitygroup import rules
from neutrino.server.plugins.securitygroup.notify import SecurityGroupAgentNotifier

DEFAULT_NAME = "default"

SECURITY_GROUP = ResourceAttributes("security_group", (
    Attribute("id"),
    Attribute("name", v.string, ""),
    Attribute("description", v.string, ""),
    Attribute("tenant_id", v.string, update=False),
    Attribute("project_id", v.string, update=False),
    *read_only("security_group_rules", "shared", "created_at", "updated_at",
               "revision_number", "tags"),
))


def group_not_found(group_id: str) -> errors.NotFound:
    return errors.NotFound(f"Security group {group_id} does not exist",
                           "SecurityGroupNotFound")


def group_in_use(group_id: str) -> errors.Conflict:
    return errors.Conflict(f"Security Group {group_id} in use.", "SecurityGroupInUse")


def _check_not_default_name(name: str) -> None:
    """'default' (any case) is the project's own group's name, as Neutron's validator says."""
    if name.lower() == DEFAULT_NAME:
        raise errors.Conflict("Default security group already exists.",
                              "SecurityGroupDefaultAlreadyExists")


def load_group(session: Session, group_id: str) -> sg_models.SecurityGroup:
    group = session.get(sg_models.SecurityGroup, group_id)
    if group is None:
        raise group_not_found(group_id)
    return group


def default_group_ids(session: Session) -> set[str]:
    return set(session.scalars(sa.select(sg_models.DefaultSecurityGroup.security_group_id)))


def group_dict(group: sg_models.SecurityGroup, is_default: bool) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "tenant_id": group.project_id,
        "project_id": group.project_id,
        "stateful": group.stateful,
        "shared": False,
        "security_group_rules": [rules.rule_dict(rule, is_default) for rule in group.rules],
        "tags": [],
        "revision_number": 0,
        "created_at": clock.to_api(group.created_at),
        "updated_at": clock.to_api(group.updated_at),
    }


def _add_group(session: Session, project_id: str, name: str, description: str,
               stateful: bool, rules_of: Callable[[str], list[dict[str, Any]]] =
               rules.open_egress) -> sg_models.SecurityGroup:
    """A new group with the rules ``rules_of(its id)`` gives (a new group's: open egress)."""
    group = sg_models.SecurityGroup(id=models.new_id(), project_id=project_id, name=name,
                                 description=description, stateful=stateful)
    session.add(group)
    session.flush()
    for fields in rules_of(group.id):
        session.add(rules.new_rule(project_id, fields))
    session.flush()
    session.refresh(group)
    return group


def ensure_default_group(session: Session, project_id: str) -> str:
    """The project's default group, made now if this is its first use.

    Two requests racing to make it: the key on the project lets one commit,
    and the other's retry finds it.
    """
    known = session.get(sg_models.DefaultSecurityGroup, project_id)
    if known is not None:
        return known.security_group_id
    group = _add_group(session, project_id, DEFAULT_NAME, "Default security group", True,
                       lambda group_id: rules.open_egress(group_id)
                       + rules.default_group_ingress(group_id))
    session.add(sg_models.DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
    session.flush()
    return group.id


def _in_use(session: Session, group_id: str) -> bool:
    return session.scalar(sa.select(sg_models.SecurityGroupPortBinding.port_id).where(
        sg_models.SecurityGroupPortBinding.security_group_id == group_id).limit(1)) is not None


class SecurityGroupService:
    def __init__(self, db: database.Database, notifier: SecurityGroupAgentNotifier):
        self.db = db
        self.notifier = notifier

    def _dict(self, session: Session, group: sg_models.SecurityGroup) -> dict[str, Any]:
        return group_dict(group, group.id in default_group_ids(session))

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            project_id = body["project_id"]
            _check_not_default_name(body["name"])
            ensure_default_group(session, project_id)
            group = _add_group(session, project_id, body["name"], body["description"],
                               body.get("stateful", True))
            return group_dict(group, False)
        return self.db.run(work)

    def get(self, group_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: self._dict(session, load_group(session, group_id)))

    def update(self, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Neutron's checks in its order: the name, the group, its ports, its default-ness."""
        if "name" in body:
            _check_not_default_name(body["name"])

        def work(session: Session) -> tuple[dict[str, Any], bool]:
            group = load_group(session, group_id)
            changed_state = "stateful" in body and body["stateful"] != group.stateful
            if changed_state and _in_use(session, group_id):
                raise group_in_use(group_id)
            if "name" in body and group.id in default_group_ids(session):
                raise errors.Conflict("Updating default security group not allowed.",
                                      "SecurityGroupCannotUpdateDefault")
            for name in ("name", "description", "stateful"):
                if name in body:
                    setattr(group, name, body[name])
            group.updated_at = clock.utcnow()
            session.flush()
            return self._dict(session, group), changed_state

        group, changed_state = self.db.run(work)
        if changed_state:
            self.notifier.rule_updated([group_id])
        return group

    def delete(self, group_id: str) -> None:
        """A group no port uses; the default one too, as Neutron lets an admin (every
        client here is one: there is no authentication) and makes it anew on next use."""
        def work(session: Session) -> list[str]:
            if _in_use(session, group_id):
                raise group_in_use(group_id)
            group = load_group(session, group_id)
            # Rules of other groups naming this one as their remote go with it.
            naming = (sg_models.SecurityGroupRule.remote_group_id == group_id,
                      sg_models.SecurityGroupRule.security_group_id != group_id)
            touched = list(session.scalars(
                sa.select(sg_models.SecurityGroupRule.security_group_id).distinct().where(*naming)))
            session.execute(sa.delete(sg_models.SecurityGroupRule).where(*naming))
            session.execute(sa.delete(sg_models.DefaultSecurityGroup).where(
                sg_models.DefaultSecurityGroup.security_group_id == group_id))
            session.delete(group)
            session.flush()
            return touched

        self.notifier.rule_updated(self.db.run(work))

    # Last in the class: below it, mypy would read 'list' in annotations as this method.
    def list(self) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            defaults = default_group_ids(session)
            query = sa.select(sg_models.SecurityGroup).order_by(sg_models.SecurityGroup.created_at)
            return [group_dict(group, group.id in defaults) for group in session.scalars(query)]
        return self.db.run(work)


def rule_not_found(rule_id: str) -> errors.NotFound:
    return errors.NotFound(f"Security group rule {rule_id} does not exist",
                           "SecurityGroupRuleNotFound")


class SecurityGroupRuleService:
    def __init__(self, db: database.Database, notifier: SecurityGroupAgentNotifier):
        self.db = db
        self.notifier = notifier

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        fields = rules.normalise(body)

        def work(session: Session) -> dict[str, Any]:
            # Neutron looks up the remote group first, then the group itself.
            if fields["remote_group_id"] is not None:
                load_group(session, fields["remote_group_id"])
            if body.get("remote_address_group_id"):
                # No address groups here: every id names none, as an unknown one in Neutron.
                raise errors.NotFound(f"Address group {body['remote_address_group_id']} could "
                                      "not be found.", "AddressGroupNotFound")
            group = load_group(session, fields["security_group_id"])
            key = rules.fingerprint(fields)
            same = session.scalar(sa.select(sg_models.SecurityGroupRule.id).where(
                sg_models.SecurityGroupRule.security_group_id == group.id,
                sg_models.SecurityGroupRule.fingerprint == key))
            if same is not None:
                raise errors.Conflict(f"Security group rule already exists. Rule id is {same}.",
                                      "SecurityGroupRuleExists")
            rule = rules.new_rule(body["project_id"] or group.project_id, fields,
                                  body["description"])
            session.add(rule)
            session.flush()
            return rules.rule_dict(rule, group.id in default_group_ids(session))

        rule = self.db.run(work)
        self.notifier.rule_updated([rule["security_group_id"]])
        return rule

    def _load(self, session: Session, rule_id: str) -> sg_models.SecurityGroupRule:
        rule = session.get(sg_models.SecurityGroupRule, rule_id)
        if rule is None:
            raise rule_not_found(rule_id)
        return rule

    def get(self, rule_id: str) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            rule = self._load(session, rule_id)
            return rules.rule_dict(rule, rule.security_group_id in default_group_ids(session))
        return self.db.run(work)

    def update(self, rule_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            rule = self._load(session, rule_id)
            if "description" in body:
                rule.description = body["description"]
            session.flush()
            return rules.rule_dict(rule, rule.security_group_id in default_group_ids(session))
        return self.db.run(work)

    def delete(self, rule_id: str) -> None:
        def work(session: Session) -> str:
            rule = self._load(session, rule_id)
            group_id = rule.security_group_id
            session.delete(rule)
            session.flush()
            return group_id

        self.notifier.rule_updated([self.db.run(work)])

    # Last in the class: below it, mypy would read 'list' in annotations as this method.
    def list(self) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            defaults = default_group_ids(session)
            query = sa.select(sg_models.SecurityGroupRule).order_by(
                sg_models.SecurityGroupRule.created_at)
            return [rules.rule_dict(rule, rule.security_group_id in defaults)
                    for rule in session.scalars(query)]
        return self.db.run(work)
