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


def _id_column() -> Mapped[str]:
    return mapped_column(sa.String(36), primary_key=True, default=new_id)


def _created_at() -> Mapped[datetime.datetime]:
    return mapped_column(Timestamp, default=clock.utcnow)


def _updated_at() -> Mapped[datetime.datetime]:
    return mapped_column(Timestamp, default=clock.utcnow, onupdate=clock.utcnow)


def _fk(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


class Network(Base):
    __tablename__ = "networks"

    id: Mapped[str] = _id_column()
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    admin_state_up: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="ACTIVE")
    shared: Mapped[bool] = mapped_column(default=False)
    router_external: Mapped[bool] = mapped_column(default=False)
    mtu: Mapped[int] = mapped_column(default=1500)
    created_at: Mapped[datetime.datetime] = _created_at()
    updated_at: Mapped[datetime.datetime] = _updated_at()

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

    id: Mapped[str] = _id_column()
    network_id: Mapped[str] = mapped_column(_fk("networks.id"), index=True)
    network_type: Mapped[str] = mapped_column(sa.String(32))
    physical_network: Mapped[str | None] = mapped_column(sa.String(64))
    # BigInteger: GRE keys go up to 2**32 - 1, past a signed 32-bit column.
    segmentation_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    segment_index: Mapped[int] = mapped_column(default=0)

    network: Mapped[Network] = relationship(back_populates="segments")


class Subnet(Base):
    __tablename__ = "subnets"

    id: Mapped[str] = _id_column()
    network_id: Mapped[str] = mapped_column(_fk("networks.id"), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    cidr: Mapped[str] = mapped_column(sa.String(64))
    ip_version: Mapped[int] = mapped_column()
    gateway_ip: Mapped[str | None] = mapped_column(sa.String(64))
    enable_dhcp: Mapped[bool] = mapped_column(default=True)
    dns_nameservers: Mapped[list] = mapped_column(JsonText, default=list)
    host_routes: Mapped[list] = mapped_column(JsonText, default=list)
    created_at: Mapped[datetime.datetime] = _created_at()
    updated_at: Mapped[datetime.datetime] = _updated_at()

    network: Mapped[Network] = relationship(back_populates="subnets")
    allocation_pools: Mapped[list[AllocationPool]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True,
        order_by="AllocationPool.position", lazy="selectin")


class AllocationPool(Base):
    __tablename__ = "allocation_pools"

    id: Mapped[str] = _id_column()
    subnet_id: Mapped[str] = mapped_column(_fk("subnets.id"), index=True)
    first_ip: Mapped[str] = mapped_column(sa.String(64))
    last_ip: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0)


class Port(Base):
    __tablename__ = "ports"
    __table_args__ = (sa.UniqueConstraint("network_id", "mac_address",
                                          name="uniq_ports0network_id0mac_address"),)

    id: Mapped[str] = _id_column()
    network_id: Mapped[str] = mapped_column(_fk("networks.id"), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    mac_address: Mapped[str] = mapped_column(sa.String(32))
    admin_state_up: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(sa.String(255), default="")
    device_owner: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime.datetime] = _created_at()
    updated_at: Mapped[datetime.datetime] = _updated_at()

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
    subnet_id: Mapped[str] = mapped_column(_fk("subnets.id"), primary_key=True)
    ip_address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(_fk("ports.id"), index=True)
    network_id: Mapped[str] = mapped_column(_fk("networks.id"), index=True)


class PortBinding(Base):
    __tablename__ = "port_bindings"

    port_id: Mapped[str] = mapped_column(_fk("ports.id"), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    vif_type: Mapped[str] = mapped_column(sa.String(64), default="unbound")
    vif_details: Mapped[dict] = mapped_column(JsonText, default=dict)
    profile: Mapped[dict] = mapped_column(JsonText, default=dict)
    vnic_type: Mapped[str] = mapped_column(sa.String(64), default="normal")


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (sa.UniqueConstraint("agent_type", "host",
                                          name="uniq_agents0agent_type0host"),)

    id: Mapped[str] = _id_column()
    agent_type: Mapped[str] = mapped_column(sa.String(255))
    binary: Mapped[str] = mapped_column(sa.String(255))
    host: Mapped[str] = mapped_column(sa.String(255))
    topic: Mapped[str] = mapped_column(sa.String(255))
    admin_state_up: Mapped[bool] = mapped_column(default=True)
    configurations: Mapped[dict] = mapped_column(JsonText, default=dict)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    heartbeat_timestamp: Mapped[datetime.datetime] = mapped_column(Timestamp)
    started_at: Mapped[datetime.datetime] = mapped_column(Timestamp)
    created_at: Mapped[datetime.datetime] = _created_at()


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


class Router(Base):
    __tablename__ = "routers"

    id: Mapped[str] = _id_column()
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
    created_at: Mapped[datetime.datetime] = _created_at()
    updated_at: Mapped[datetime.datetime] = _updated_at()

    gw_port: Mapped[Port | None] = relationship(lazy="selectin")
    attached_ports: Mapped[list[RouterPort]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True,
        order_by="(RouterPort.created_at, RouterPort.port_id)", lazy="selectin")


class RouterPort(Base):
    """A port that belongs to a router: its gateway or one of its interfaces.

    The port id is the key, so no port is ever attached to two routers.
    """

    __tablename__ = "router_ports"

    port_id: Mapped[str] = mapped_column(_fk("ports.id"), primary_key=True)
    router_id: Mapped[str] = mapped_column(_fk("routers.id"), index=True)
    port_type: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime.datetime] = _created_at()

    port: Mapped[Port] = relationship(lazy="selectin")


class RouterL3AgentBinding(Base):
    """Which L3 agent hosts a router; the key allows one agent per router."""

    __tablename__ = "router_l3_agent_bindings"

    router_id: Mapped[str] = mapped_column(_fk("routers.id"), primary_key=True)
    # CASCADE: deleting an agent unschedules its routers, for another to take.
    l3_agent_id: Mapped[str] = mapped_column(_fk("agents.id"), index=True)

    agent: Mapped[Agent] = relationship(lazy="selectin")


class NetworkDhcpAgentBinding(Base):
    """Which DHCP agents serve a network; the key allows each agent once per network."""

    __tablename__ = "network_dhcp_agent_bindings"

    # CASCADE on both: deleting the network or the agent removes its bindings.
    network_id: Mapped[str] = mapped_column(_fk("networks.id"), primary_key=True)
    dhcp_agent_id: Mapped[str] = mapped_column(_fk("agents.id"), primary_key=True, index=True)

    agent: Mapped[Agent] = relationship(lazy="selectin")


class FloatingIP(Base):
    __tablename__ = "floating_ips"
    # One floating IP per port at most: the database keeps two racing
    # associations from both succeeding.
    __table_args__ = (sa.UniqueConstraint("fixed_port_id",
                                          name="uniq_floating_ips0fixed_port_id"),)

    id: Mapped[str] = _id_column()
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    floating_network_id: Mapped[str] = mapped_column(_fk("networks.id"), index=True)
    floating_port_id: Mapped[str] = mapped_column(_fk("ports.id"), index=True)
    floating_ip_address: Mapped[str] = mapped_column(sa.String(64))
    fixed_port_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("ports.id", ondelete="SET NULL"), nullable=True)
    fixed_ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    router_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("routers.id", ondelete="SET NULL"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN")
    created_at: Mapped[datetime.datetime] = _created_at()
    updated_at: Mapped[datetime.datetime] = _updated_at()


class SecurityGroup(Base):
    __tablename__ = "security_groups"

    id: Mapped[str] = _id_column()
    project_id: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    stateful: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime.datetime] = _created_at()
    updated_at: Mapped[datetime.datetime] = _updated_at()

    rules: Mapped[list[SecurityGroupRule]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin",
        foreign_keys="SecurityGroupRule.security_group_id",
        order_by="(SecurityGroupRule.created_at, SecurityGroupRule.id)")


class DefaultSecurityGroup(Base):
    """A project's ``default`` group; the key keeps two racing first uses from
    both creating one."""

    __tablename__ = "default_security_groups"

    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(_fk("security_groups.id"), unique=True)


class SecurityGroupRule(Base):
    __tablename__ = "security_group_rules"
    # The same rule twice in a group: refused by the database too, whatever
    # the race (``fingerprint`` is the rule's normalised fields).
    __table_args__ = (sa.UniqueConstraint(
        "security_group_id", "fingerprint", name="uniq_security_group_rules0fingerprint"),)

    id: Mapped[str] = _id_column()
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    security_group_id: Mapped[str] = mapped_column(_fk("security_groups.id"), index=True)
    # CASCADE: a rule naming a deleted group goes with it, as in Neutron.
    remote_group_id: Mapped[str | None] = mapped_column(
        _fk("security_groups.id"), nullable=True, index=True)
    direction: Mapped[str] = mapped_column(sa.String(16))
    ethertype: Mapped[str] = mapped_column(sa.String(8))
    protocol: Mapped[str | None] = mapped_column(sa.String(40))
    port_range_min: Mapped[int | None] = mapped_column()
    port_range_max: Mapped[int | None] = mapped_column()
    remote_ip_prefix: Mapped[str | None] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime.datetime] = _created_at()
    updated_at: Mapped[datetime.datetime] = _updated_at()


class SecurityGroupPortBinding(Base):
    """A port's membership of a group; a group that has members cannot be deleted."""

    __tablename__ = "security_group_port_bindings"

    port_id: Mapped[str] = mapped_column(_fk("ports.id"), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        sa.ForeignKey("security_groups.id"), primary_key=True, index=True)


class PortSecurity(Base):
    __tablename__ = "port_security"

    port_id: Mapped[str] = mapped_column(_fk("ports.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)


class NetworkSecurity(Base):
    """port_security_enabled of a network: what its new ports get unless told."""

    __tablename__ = "network_security"

    network_id: Mapped[str] = mapped_column(_fk("networks.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)


# -- regions (the central server's own tables) ---------------------------------
class Pod(Base):
    """A region the central server knows, and where its local server answers."""

    __tablename__ = "pods"

    pod_id: Mapped[str] = _id_column()
    region_name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    pod_az_name: Mapped[str] = mapped_column(sa.String(255), default="")
    az_name: Mapped[str] = mapped_column(sa.String(255), default="")
    dc_name: Mapped[str] = mapped_column(sa.String(255), default="")
    endpoint: Mapped[str] = mapped_column(sa.String(255), default="")


class ResourceRouting(Base):
    """Which local resource of which region a central resource is (top -> bottom)."""

    __tablename__ = "resource_routings"
    __table_args__ = (sa.UniqueConstraint("top_id", "pod_id", "resource_type",
                                          name="uniq_resource_routings0top0pod0type"),)

    id: Mapped[str] = _id_column()
    top_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    bottom_id: Mapped[str] = mapped_column(sa.String(36))
    pod_id: Mapped[str] = mapped_column(_fk("pods.pod_id"), index=True)
    resource_type: Mapped[str] = mapped_column(sa.String(64))
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime.datetime] = _created_at()
    updated_at: Mapped[datetime.datetime] = _updated_at()


class AsyncJob(Base):
    """Work across regions the central server runs in the background, and how it went."""

    __tablename__ = "async_jobs"

    id: Mapped[str] = _id_column()
    type: Mapped[str] = mapped_column(sa.String(64))
    resource_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="NEW", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime.datetime] = _created_at()
    updated_at: Mapped[datetime.datetime] = _updated_at()


class JobLock(Base):
    """Held while a job works on a resource: the key stops a second worker."""

    __tablename__ = "job_locks"

    resource_key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(36))
    created_at: Mapped[datetime.datetime] = _created_at()
