"""The L3 plugin's tables: routers, the ports they own, where they are hosted, floating IPs."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neutrino.server.db.models import (
    Agent,
    Base,
    JsonText,
    Port,
    cascade_fk,
    created_at_column,
    id_column,
    updated_at_column,
)


class Router(Base):
    __tablename__ = "routers"

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    admin_state_up: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="ACTIVE")
    # SET NULL: the column must never name a port that is gone.
    gw_port_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("ports.id", ondelete="SET NULL"), nullable=True)
    enable_snat: Mapped[bool] = mapped_column(default=True)
    # Where it should live; with regions, a region's name (its pod's region_name).
    availability_zone_hints: Mapped[list] = mapped_column(JsonText, default=list)
    created_at: Mapped[datetime.datetime] = created_at_column()
    updated_at: Mapped[datetime.datetime] = updated_at_column()

    gw_port: Mapped[Port | None] = relationship(lazy="selectin")
    attached_ports: Mapped[list[RouterPort]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True,
        order_by="(RouterPort.created_at, RouterPort.port_id)", lazy="selectin")


class RouterPort(Base):
    """A port that belongs to a router: its gateway or one of its interfaces.

    The port id is the key, so no port is ever attached to two routers.
    """

    __tablename__ = "router_ports"

    port_id: Mapped[str] = mapped_column(cascade_fk("ports.id"), primary_key=True)
    router_id: Mapped[str] = mapped_column(cascade_fk("routers.id"), index=True)
    port_type: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime.datetime] = created_at_column()

    port: Mapped[Port] = relationship(lazy="selectin")


class RouterL3AgentBinding(Base):
    """Which L3 agent hosts a router; the key allows one agent per router."""

    __tablename__ = "router_l3_agent_bindings"

    router_id: Mapped[str] = mapped_column(cascade_fk("routers.id"), primary_key=True)
    # CASCADE: deleting an agent unschedules its routers, for another to take.
    l3_agent_id: Mapped[str] = mapped_column(cascade_fk("agents.id"), index=True)

    agent: Mapped[Agent] = relationship(lazy="selectin")


class FloatingIP(Base):
    __tablename__ = "floating_ips"
    # One floating IP per port at most: the database keeps two racing
    # associations from both succeeding.
    __table_args__ = (sa.UniqueConstraint("fixed_port_id",
                                          name="uniq_floating_ips0fixed_port_id"),)

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    floating_network_id: Mapped[str] = mapped_column(cascade_fk("networks.id"), index=True)
    floating_port_id: Mapped[str] = mapped_column(cascade_fk("ports.id"), index=True)
    floating_ip_address: Mapped[str] = mapped_column(sa.String(64))
    fixed_port_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("ports.id", ondelete="SET NULL"), nullable=True)
    fixed_ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    router_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("routers.id", ondelete="SET NULL"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN")
    created_at: Mapped[datetime.datetime] = created_at_column()
    updated_at: Mapped[datetime.datetime] = updated_at_column()
