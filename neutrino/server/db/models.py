"""The server's tables, as SQLAlchemy ORM classes.

Uniqueness that concurrent requests could break is enforced by the database
(primary keys and unique constraints), never only by a check in Python: the
code checks first for a friendly error, and a lost race surfaces as an
IntegrityError that ``database.Database.run`` retries.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from neutrino.server.lib import clock

# MySQL's DATETIME drops fractions of a second unless asked; the order of a
# network's subnets ("the first subnet") depends on them.
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def new_id() -> str:
    return str(uuid.uuid4())


class JsonText(sa.types.TypeDecorator):
    """A dict or list stored as JSON text; assign a new value to change it."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class Base(DeclarativeBase):
    pass


def id_column() -> Mapped[str]:
    return mapped_column(sa.String(36), primary_key=True, default=new_id)


def created_at_column() -> Mapped[datetime.datetime]:
    return mapped_column(Timestamp, default=clock.utcnow)


def updated_at_column() -> Mapped[datetime.datetime]:
    return mapped_column(Timestamp, default=clock.utcnow, onupdate=clock.utcnow)


def cascade_fk(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


class Network(Base):
    __tablename__ = "networks"

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    admin_state_up: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="ACTIVE")
    shared: Mapped[bool] = mapped_column(default=False)
    router_external: Mapped[bool] = mapped_column(default=False)
    mtu: Mapped[int] = mapped_column(default=1500)
    created_at: Mapped[datetime.datetime] = created_at_column()
    updated_at: Mapped[datetime.datetime] = updated_at_column()

    segments: Mapped[list[NetworkSegment]] = relationship(
        back_populates="network", cascade="all, delete-orphan", passive_deletes=True,
        order_by="NetworkSegment.segment_index", lazy="selectin")
    subnets: Mapped[list[Subnet]] = relationship(
        back_populates="network", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(Subnet.created_at, Subnet.id)", lazy="selectin")
    ports: Mapped[list[Port]] = relationship(
        back_populates="network", cascade="all, delete-orphan", passive_deletes=True)


class NetworkSegment(Base):
    __tablename__ = "network_segments"

    id: Mapped[str] = id_column()
    network_id: Mapped[str] = mapped_column(cascade_fk("networks.id"), index=True)
    network_type: Mapped[str] = mapped_column(sa.String(32))
    physical_network: Mapped[str | None] = mapped_column(sa.String(64))
    # BigInteger: GRE keys go up to 2**32 - 1, past a signed 32-bit column.
    segmentation_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    segment_index: Mapped[int] = mapped_column(default=0)

    network: Mapped[Network] = relationship(back_populates="segments")


class Subnet(Base):
    __tablename__ = "subnets"

    id: Mapped[str] = id_column()
    network_id: Mapped[str] = mapped_column(cascade_fk("networks.id"), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    cidr: Mapped[str] = mapped_column(sa.String(64))
    ip_version: Mapped[int] = mapped_column()
    gateway_ip: Mapped[str | None] = mapped_column(sa.String(64))
    enable_dhcp: Mapped[bool] = mapped_column(default=True)
    dns_nameservers: Mapped[list] = mapped_column(JsonText, default=list)
    host_routes: Mapped[list] = mapped_column(JsonText, default=list)
    created_at: Mapped[datetime.datetime] = created_at_column()
    updated_at: Mapped[datetime.datetime] = updated_at_column()

    network: Mapped[Network] = relationship(back_populates="subnets")
    allocation_pools: Mapped[list[AllocationPool]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True,
        order_by="AllocationPool.position", lazy="selectin")


class AllocationPool(Base):
    __tablename__ = "allocation_pools"

    id: Mapped[str] = id_column()
    subnet_id: Mapped[str] = mapped_column(cascade_fk("subnets.id"), index=True)
    first_ip: Mapped[str] = mapped_column(sa.String(64))
    last_ip: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0)


class Port(Base):
    __tablename__ = "ports"
    __table_args__ = (sa.UniqueConstraint("network_id", "mac_address",
                                          name="uniq_ports0network_id0mac_address"),)

    id: Mapped[str] = id_column()
    network_id: Mapped[str] = mapped_column(cascade_fk("networks.id"), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    mac_address: Mapped[str] = mapped_column(sa.String(32))
    admin_state_up: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(sa.String(255), default="")
    device_owner: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime.datetime] = created_at_column()
    updated_at: Mapped[datetime.datetime] = updated_at_column()

    network: Mapped[Network] = relationship(back_populates="ports")
    fixed_ips: Mapped[list[IPAllocation]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")
    binding: Mapped[PortBinding] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")

    def fixed_ip_list(self) -> list[dict[str, str]]:
        """The port's addresses as the API lists them: IPv4 first, each in address order."""
        def order(allocation: IPAllocation) -> tuple[int, int]:
            address = ipaddress.ip_address(allocation.ip_address)
            return address.version, int(address)
        return [{"subnet_id": a.subnet_id, "ip_address": a.ip_address}
                for a in sorted(self.fixed_ips, key=order)]


class IPAllocation(Base):
    __tablename__ = "ip_allocations"

    # The primary key is what keeps two ports from getting one address.
    subnet_id: Mapped[str] = mapped_column(cascade_fk("subnets.id"), primary_key=True)
    ip_address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(cascade_fk("ports.id"), index=True)
    network_id: Mapped[str] = mapped_column(cascade_fk("networks.id"), index=True)


class PortBinding(Base):
    __tablename__ = "port_bindings"

    port_id: Mapped[str] = mapped_column(cascade_fk("ports.id"), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    vif_type: Mapped[str] = mapped_column(sa.String(64), default="unbound")
    vif_details: Mapped[dict] = mapped_column(JsonText, default=dict)
    profile: Mapped[dict] = mapped_column(JsonText, default=dict)
    vnic_type: Mapped[str] = mapped_column(sa.String(64), default="normal")


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (sa.UniqueConstraint("agent_type", "host",
                                          name="uniq_agents0agent_type0host"),)

    id: Mapped[str] = id_column()
    agent_type: Mapped[str] = mapped_column(sa.String(255))
    binary: Mapped[str] = mapped_column(sa.String(255))
    host: Mapped[str] = mapped_column(sa.String(255))
    topic: Mapped[str] = mapped_column(sa.String(255))
    admin_state_up: Mapped[bool] = mapped_column(default=True)
    configurations: Mapped[dict] = mapped_column(JsonText, default=dict)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    heartbeat_timestamp: Mapped[datetime.datetime] = mapped_column(Timestamp)
    started_at: Mapped[datetime.datetime] = mapped_column(Timestamp)
    created_at: Mapped[datetime.datetime] = created_at_column()


class VxlanAllocation(Base):
    """One row per VNI in use; a free VNI has no row, so the key guards reuse."""

    __tablename__ = "vxlan_allocations"

    segmentation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    network_id: Mapped[str] = mapped_column(sa.String(36))


class GreAllocation(Base):
    """One row per GRE key in use, like VxlanAllocation."""

    __tablename__ = "gre_allocations"

    segmentation_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True,
                                                 autoincrement=False)
    network_id: Mapped[str] = mapped_column(sa.String(36))


class VlanAllocation(Base):
    """One row per (physical network, VLAN) in use."""

    __tablename__ = "vlan_allocations"

    physical_network: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    segmentation_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    network_id: Mapped[str] = mapped_column(sa.String(36))


class FlatAllocation(Base):
    """One row per physical network carrying a flat network: it carries one at most."""

    __tablename__ = "flat_allocations"

    physical_network: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    network_id: Mapped[str] = mapped_column(sa.String(36))


class TunnelEndpoint(Base):
    __tablename__ = "tunnel_endpoints"
    __table_args__ = (sa.UniqueConstraint("tunnel_type", "host",
                                          name="uniq_tunnel_endpoints0tunnel_type0host"),)

    tunnel_type: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    ip_address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255))
