"""Floating IPs: an address of an external network, mapped by a router to a fixed IP.

The address belongs to a port on the external network (device_owner
network:floatingip), so IPAM hands it out and no port can take it. The router
is found when the floating IP is associated: the one with an interface on the
fixed IP's subnet and its gateway on the floating IP's network.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.db.lookups import load_network, load_port
from neutrino.server.lib import clock, device_owners, errors, events
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import REQUIRED, Attribute, ResourceAttributes, read_only
from neutrino.server.plugins.base import CorePlugin
from neutrino.server.plugins.l3 import models as l3_models
from neutrino.server.plugins.l3.notify import L3AgentNotifier

LOG = logging.getLogger(__name__)

ACTIVE = "ACTIVE"
DOWN = "DOWN"
# What an L3 agent may report for a floating IP.
STATUSES = (ACTIVE, DOWN, "ERROR")

FLOATINGIP = ResourceAttributes("floatingip", (
    Attribute("id"),
    Attribute("description", v.string, ""),
    Attribute("tenant_id", v.string, update=False),
    Attribute("project_id", v.string, update=False),
    Attribute("floating_network_id", v.uuid_string, REQUIRED, update=False),
    Attribute("floating_ip_address", v.ip_address, update=False),
    Attribute("subnet_id", v.uuid_string, update=False),
    Attribute("port_id", v.nullable(v.uuid_string)),
    Attribute("fixed_ip_address", v.nullable(v.ip_address)),
    *read_only("router_id", "status", "created_at", "updated_at"),
))


def load_floating_ip(session: Session, fip_id: str) -> l3_models.FloatingIP:
    fip = session.get(l3_models.FloatingIP, fip_id)
    if fip is None:
        raise errors.NotFound(f"Floating IP {fip_id} could not be found", "FloatingIPNotFound")
    return fip


def floating_ip_dict(fip: l3_models.FloatingIP) -> dict[str, Any]:
    return {
        "id": fip.id,
        "description": fip.description,
        "tenant_id": fip.project_id,
        "project_id": fip.project_id,
        "floating_network_id": fip.floating_network_id,
        "floating_ip_address": fip.floating_ip_address,
        "fixed_ip_address": fip.fixed_ip_address,
        "port_id": fip.fixed_port_id,
        "router_id": fip.router_id,
        "status": fip.status,
        "created_at": clock.to_api(fip.created_at),
        "updated_at": clock.to_api(fip.updated_at),
    }


def bad_floatingip_request(reason: str) -> errors.BadRequest:
    return errors.BadRequest(f"Bad floatingip request: {reason}.", "BadRequest")


def _address_request(network: models.Network, body: dict[str, Any]) -> dict[str, Any]:
    """The fixed_ips entry for the floating IP's port: what was asked, or IPv4."""
    if "floating_ip_address" in body or "subnet_id" in body:
        request = {"ip_address": body.get("floating_ip_address"),
                   "subnet_id": body.get("subnet_id")}
        return {key: value for key, value in request.items() if value is not None}
    for subnet in network.subnets:
        if subnet.ip_version == 4:
            return {"subnet_id": subnet.id}
    raise bad_floatingip_request(f"Network {network.id} does not contain any IPv4 subnet")


def _fixed_ip(port: models.Port, requested: str | None) -> models.IPAllocation:
    """The port's IPv4 address the floating IP maps to."""
    if requested is not None:
        for allocation in port.fixed_ips:
            if allocation.ip_address == requested:
                if ipaddress.ip_address(requested).version != 4:
                    raise bad_floatingip_request(
                        f"fixed_ip_address {requested} is not an IPv4 address")
                return allocation
        raise bad_floatingip_request(f"Port {port.id} does not have fixed ip {requested}")
    ipv4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
    if not ipv4:
        raise bad_floatingip_request(f"Port {port.id} has no IPv4 address to map to")
    if len(ipv4) > 1:
        raise bad_floatingip_request(
            f"Port {port.id} has multiple fixed IPv4 addresses. Must provide a specific "
            "IPv4 address when assigning a floating IP")
    return ipv4[0]


def _router_for(session: Session, fip: l3_models.FloatingIP, port: models.Port,
                subnet_id: str) -> l3_models.Router:
    """The router with an interface on ``subnet_id`` and a gateway on the fip's network."""
    candidates = session.scalars(
        sa.select(l3_models.Router)
        .join(l3_models.RouterPort, l3_models.RouterPort.router_id == l3_models.Router.id)
        .join(models.IPAllocation, models.IPAllocation.port_id == l3_models.RouterPort.port_id)
        .where(l3_models.RouterPort.port_type == device_owners.ROUTER_INTERFACE,
               models.IPAllocation.subnet_id == subnet_id)
        .order_by(l3_models.Router.created_at, l3_models.Router.id)).unique()
    for router in candidates:
        if router.gw_port is not None and router.gw_port.network_id == fip.floating_network_id:
            return router
    raise errors.NotFound(
        f"External network {fip.floating_network_id} is not reachable from subnet "
        f"{subnet_id}. Therefore, cannot associate Port {port.id} with a Floating IP: give "
        "a router an interface on the subnet and a gateway on the external network.",
        "ExternalGatewayForFloatingIPNotFound")


def _associate(session: Session, fip: l3_models.FloatingIP, port_id: str | None,
               fixed_ip_address: str | None) -> list[str]:
    """Map the floating IP to a port's fixed IP, or to nothing; the routers concerned."""
    routers = [fip.router_id] if fip.router_id else []
    if port_id is None:
        if fixed_ip_address is not None:
            raise errors.invalid_input("fixed_ip_address", "cannot be given without a port_id")
        fip.fixed_port_id = fip.fixed_ip_address = fip.router_id = None
        fip.status = DOWN
        return routers
    port = load_port(session, port_id)
    allocation = _fixed_ip(port, fixed_ip_address)
    other = session.scalar(sa.select(l3_models.FloatingIP).where(
        l3_models.FloatingIP.fixed_port_id == port.id, l3_models.FloatingIP.id != fip.id))
    if other is not None:
        raise errors.Conflict(
            f"Cannot associate floating IP {fip.floating_ip_address} ({fip.id}) with port "
            f"{port.id}, as it already has floating IP {other.floating_ip_address} "
            f"({other.id}).", "FloatingIPPortAlreadyAssociated")
    router = _router_for(session, fip, port, allocation.subnet_id)
    fip.fixed_port_id = port.id
    fip.fixed_ip_address = allocation.ip_address
    fip.router_id = router.id
    fip.status = ACTIVE
    return routers + [router.id]


class FloatingIpService:
    def __init__(self, db: database.Database, core: CorePlugin, notifier: L3AgentNotifier,
                 registry: events.Registry | None = None):
        self.db = db
        self.core = core
        self.notifier = notifier
        self.events = registry or events.Registry()

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> tuple[dict[str, Any], list[str]]:
            network = load_network(session, body["floating_network_id"])
            if not network.router_external:
                raise errors.invalid_input(
                    "floating_network_id",
                    f"network {network.id} is not an external network "
                    "(router:external is false)")
            # A region's local server copies a central floating IP, id and all.
            fip_id = body.get("id") or models.new_id()
            port = self.core.add_port(session, {
                "network_id": network.id,
                # No project, as in Neutron: tenants see the floating IP, not its port.
                "tenant_id": "",
                "fixed_ips": [_address_request(network, body)],
                "device_owner": device_owners.FLOATINGIP, "device_id": fip_id})
            fip = l3_models.FloatingIP(
                id=fip_id, project_id=body["project_id"], description=body["description"],
                floating_network_id=network.id, floating_port_id=port.id,
                floating_ip_address=port.fixed_ips[0].ip_address, status=DOWN)
            session.add(fip)
            session.flush()
            routers = _associate(session, fip, body.get("port_id"), body.get("fixed_ip_address"))
            session.flush()
            return floating_ip_dict(fip), routers

        fip, routers = self.db.run(work)
        self.notifier.routers_updated(routers)
        return fip

    def get(self, fip_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: floating_ip_dict(load_floating_ip(session, fip_id)))

    def update(self, fip_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> tuple[dict[str, Any], list[str]]:
            fip = load_floating_ip(session, fip_id)
            if "description" in body:
                fip.description = body["description"]
            routers: list[str] = []
            if "port_id" in body or "fixed_ip_address" in body:
                # Only fixed_ip_address: another address of the same port.
                port_id = body.get("port_id", fip.fixed_port_id)
                routers = _associate(session, fip, port_id, body.get("fixed_ip_address"))
            session.flush()
            return floating_ip_dict(fip), routers

        fip, routers = self.db.run(work)
        self.notifier.routers_updated(routers)
        # Who else must hear of an association (the central server's regions).
        self.events.publish(FLOATINGIP.resource, events.AFTER_UPDATE,
                            events.Payload(fip_id, (fip,)))
        return fip

    def delete(self, fip_id: str) -> None:
        def work(session: Session) -> str | None:
            fip = load_floating_ip(session, fip_id)
            router_id = fip.router_id
            port = load_port(session, fip.floating_port_id)
            session.delete(fip)
            session.flush()
            self.core.remove_port(session, port)
            return router_id

        self.notifier.routers_updated([self.db.run(work)])

    def set_statuses(self, router_id: str, statuses: dict[str, str]) -> None:
        """Record what the router's L3 agent reports; unknown or moved fips are skipped."""
        def work(session: Session) -> None:
            for fip_id, status in statuses.items():
                if status not in STATUSES:
                    raise ValueError(f"status {status!r} of floating IP {fip_id} is not one "
                                     f"of {', '.join(STATUSES)}")
                fip = session.get(l3_models.FloatingIP, fip_id)
                # A floating IP that moved or was disassociated since is not the
                # agent's to report on any more.
                if fip is not None and fip.router_id == router_id:
                    fip.status = status
                else:
                    LOG.debug("status %s of floating IP %s from router %s ignored",
                              status, fip_id, router_id)
        self.db.run(work)

    # Last in the class: below it, mypy would read 'list' in annotations as this method.
    def list(self) -> list[dict[str, Any]]:
        return self.db.list_all(l3_models.FloatingIP, lambda session, fip: floating_ip_dict(fip))
