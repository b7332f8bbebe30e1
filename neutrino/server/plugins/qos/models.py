"""The QoS plugin's tables: policies, their rules, and the ports and networks they apply to."""

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


class QosPolicy(Base):
    __tablename__ = "qos_policies"

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    shared: Mapped[bool] = mapped_column(default=False)
    revision_number: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime.datetime] = created_at_column()
    updated_at: Mapped[datetime.datetime] = updated_at_column()

    rules: Mapped[list[QosRule]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin",
        order_by="(QosRule.created_at, QosRule.id)")


class QosDefaultPolicy(Base):
    """A project's default policy: what its new networks get unless told otherwise.
    The key keeps a project to one."""

    __tablename__ = "qos_default_policies"

    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    policy_id: Mapped[str] = mapped_column(cascade_fk("qos_policies.id"), unique=True)


class QosRule(Base):
    """One rule of a policy; which of the value columns it uses depends on its type.

    A policy has at most one rule of each type and direction (DSCP marking has
    none: it marks what leaves the port), as Neutron's tables allow.
    """

    __tablename__ = "qos_rules"
    __table_args__ = (sa.UniqueConstraint("policy_id", "type", "direction",
                                          name="uniq_qos_rules0policy_id0type0direction"),)

    id: Mapped[str] = id_column()
    policy_id: Mapped[str] = mapped_column(cascade_fk("qos_policies.id"), index=True)
    type: Mapped[str] = mapped_column(sa.String(32))
    direction: Mapped[str] = mapped_column(sa.String(16), default="egress")
    max_kbps: Mapped[int | None] = mapped_column(sa.BigInteger)
    max_burst_kbps: Mapped[int | None] = mapped_column(sa.BigInteger)
    max_kpps: Mapped[int | None] = mapped_column(sa.BigInteger)
    max_burst_kpps: Mapped[int | None] = mapped_column(sa.BigInteger)
    min_kbps: Mapped[int | None] = mapped_column(sa.BigInteger)
    dscp_mark: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime.datetime] = created_at_column()


class PortQosPolicy(Base):
    """A port's own policy; it wins over its network's."""

    __tablename__ = "qos_port_policy_bindings"

    port_id: Mapped[str] = mapped_column(cascade_fk("ports.id"), primary_key=True)
    # No cascade: a policy in use cannot be deleted (409).
    policy_id: Mapped[str] = mapped_column(sa.ForeignKey("qos_policies.id"), index=True)


class NetworkQosPolicy(Base):
    """A network's policy: what its ports without one of their own get
    (not the network's own ports, router and DHCP ones)."""

    __tablename__ = "qos_network_policy_bindings"

    network_id: Mapped[str] = mapped_column(cascade_fk("networks.id"), primary_key=True)
    policy_id: Mapped[str] = mapped_column(sa.ForeignKey("qos_policies.id"), index=True)
