"""The security group plugin's tables: groups, rules, members, and port security."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neutrino.server.db.models import (
    Base,
    cascade_fk,
    created_at_column,
    id_column,
    updated_at_column,
)


class SecurityGroup(Base):
    __tablename__ = "security_groups"

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    stateful: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime.datetime] = created_at_column()
    updated_at: Mapped[datetime.datetime] = updated_at_column()

    rules: Mapped[list[SecurityGroupRule]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin",
        foreign_keys="SecurityGroupRule.security_group_id",
        order_by="(SecurityGroupRule.created_at, SecurityGroupRule.id)")


class DefaultSecurityGroup(Base):
    """A project's ``default`` group; the key keeps two racing first uses from
    both creating one."""

    __tablename__ = "default_security_groups"

    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(cascade_fk("security_groups.id"), unique=True)


class SecurityGroupRule(Base):
    __tablename__ = "security_group_rules"
    # The same rule twice in a group: refused by the database too, whatever
    # the race (``fingerprint`` is the rule's normalised fields).
    __table_args__ = (sa.UniqueConstraint(
        "security_group_id", "fingerprint", name="uniq_security_group_rules0fingerprint"),)

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    security_group_id: Mapped[str] = mapped_column(cascade_fk("security_groups.id"), index=True)
    # CASCADE: a rule naming a deleted group goes with it, as in Neutron.
    remote_group_id: Mapped[str | None] = mapped_column(
        cascade_fk("security_groups.id"), nullable=True, index=True)
    direction: Mapped[str] = mapped_column(sa.String(16))
    ethertype: Mapped[str] = mapped_column(sa.String(8))
    protocol: Mapped[str | None] = mapped_column(sa.String(40))
    port_range_min: Mapped[int | None] = mapped_column()
    port_range_max: Mapped[int | None] = mapped_column()
    remote_ip_prefix: Mapped[str | None] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime.datetime] = created_at_column()
    updated_at: Mapped[datetime.datetime] = updated_at_column()


class SecurityGroupPortBinding(Base):
    """A port's membership of a group; a group that has members cannot be deleted."""

    __tablename__ = "security_group_port_bindings"

    port_id: Mapped[str] = mapped_column(cascade_fk("ports.id"), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        sa.ForeignKey("security_groups.id"), primary_key=True, index=True)


class PortSecurity(Base):
    __tablename__ = "port_security"

    port_id: Mapped[str] = mapped_column(cascade_fk("ports.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)


class NetworkSecurity(Base):
    """port_security_enabled of a network: what its new ports get unless told."""

    __tablename__ = "network_security"

    network_id: Mapped[str] = mapped_column(cascade_fk("networks.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
