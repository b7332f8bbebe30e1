"""Routers: create, show, update and delete them, with their external gateway.

A router's ports are listed in router_ports; its gateway port is also named
by routers.gw_port_id. Interfaces are added and removed by
``router_interfaces``; this module owns the gateway.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.db.lookups import load_network
from neutrino.server.lib import attributes, clock, device_owners, errors
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute, ResourceAttributes
from neutrino.server.plugins.base import CorePlugin
from neutrino.server.plugins.l3 import models as l3_models
from neutrino.server.plugins.l3 import scheduler as l3_scheduler
from neutrino.server.plugins.l3.notify import L3AgentNotifier

_FIXED_IP = v.dict_of({"subnet_id": v.uuid_string, "ip_address": v.ip_address})
_EXTERNAL_GATEWAY = v.dict_of(
    {"network_id": v.uuid_string, "enable_snat": v.boolean,
     "external_fixed_ips": v.list_of(_FIXED_IP)}, frozenset({"network_id"}))


def _external_gateway_info(value: Any) -> dict[str, Any] | None:
    """The gateway a router asks for; null and {} both mean none, as in Neutron."""
    if value is None or value == {}:
        return None
    converted: dict[str, Any] = _EXTERNAL_GATEWAY(value)
    return converted


ROUTER = ResourceAttributes("router", (
    *attributes.common(),
    Attribute("admin_state_up", v.boolean, True),
    Attribute("status"),
    Attribute("external_gateway_info", _external_gateway_info),
    *attributes.timestamps(),
))


def load_router(session: Session, router_id: str, lock: bool = False) -> l3_models.Router:
    """The router, locked for the transaction if ``lock``: changes to one router's
    ports then run one after another (on MySQL; SQLite runs every writer so)."""
    query = sa.select(l3_models.Router).where(l3_models.Router.id == router_id)
    router = session.scalar(query.with_for_update() if lock else query)
    if router is None:
        raise errors.resource_not_found("router", router_id)
    return router


def bad_router_request(reason: str) -> errors.BadRequest:
    return errors.BadRequest(f"Bad router request: {reason}.", "BadRequest")


def gateway_info(router: l3_models.Router) -> dict[str, Any] | None:
    port = router.gw_port
    if port is None:
        return None
    return {"network_id": port.network_id, "enable_snat": router.enable_snat,
            "external_fixed_ips": port.fixed_ip_list()}


def router_dict(router: l3_models.Router) -> dict[str, Any]:
    return {
        "id": router.id,
        "name": router.name,
        "description": router.description,
        "tenant_id": router.project_id,
        "project_id": router.project_id,
        "admin_state_up": router.admin_state_up,
        "status": router.status,
        "external_gateway_info": gateway_info(router),
        "availability_zone_hints": list(router.availability_zone_hints or ()),
        "availability_zones": list(router.availability_zone_hints or ()),
        "created_at": clock.to_api(router.created_at),
        "updated_at": clock.to_api(router.updated_at),
    }


def interface_ports(router: l3_models.Router) -> list[models.Port]:
    return [attached.port for attached in router.attached_ports
            if attached.port_type == device_owners.ROUTER_INTERFACE]


def subnets_of(session: Session, port: models.Port) -> list[models.Subnet]:
    """The subnets the port has addresses on, each once, in address order."""
    subnet_ids = dict.fromkeys(fixed_ip["subnet_id"] for fixed_ip in port.fixed_ip_list())
    return [session.get_one(models.Subnet, subnet_id) for subnet_id in subnet_ids]


def check_subnets_fit(session: Session, router: l3_models.Router,
                      subnets: Sequence[models.Subnet], ignore_port_id: str | None = None) -> None:
    """400 if one of ``subnets`` is on the router already or overlaps one that is.

    The router's namespace holds one route per subnet, so two ports on
    overlapping subnets would make its routing ambiguous.
    """
    attached = {allocation.subnet_id for router_port in router.attached_ports
                if router_port.port_id != ignore_port_id
                for allocation in router_port.port.fixed_ips}
    for subnet in subnets:
        for other_id in sorted(attached):
            if other_id == subnet.id:
                raise bad_router_request(
                    f"Router {router.id} already has a port on subnet {subnet.id}")
            other = session.get_one(models.Subnet, other_id)
            if ipaddress.ip_network(subnet.cidr).overlaps(
                    ipaddress.ip_network(other.cidr)):  # type: ignore[arg-type]
                raise bad_router_request(
                    f"Cidr {subnet.cidr} of subnet {subnet.id} overlaps with cidr "
                    f"{other.cidr} of subnet {other.id}")


def attach(router: l3_models.Router, port: models.Port, port_type: str) -> None:
    router.attached_ports.append(
        l3_models.RouterPort(router_id=router.id, port_id=port.id, port_type=port_type))


def detach(session: Session, router: l3_models.Router, port: models.Port) -> None:
    router.attached_ports = [attached for attached in router.attached_ports
                             if attached.port_id != port.id]
    session.flush()


def _check_gateway_unused(session: Session, router: l3_models.Router, network_id: str) -> None:
    in_use = session.scalar(sa.select(l3_models.FloatingIP.id).where(
        l3_models.FloatingIP.router_id == router.id,
        l3_models.FloatingIP.floating_network_id == network_id).limit(1))
    if in_use is not None:
        raise errors.Conflict(
            f"Gateway cannot be updated for router {router.id}, since a gateway to external "
            f"network {network_id} is required by one or more floating IPs (such as "
            f"{in_use}): disassociate or delete them first.",
            "RouterExternalGatewayInUseByFloatingIp")


class RouterService:
    def __init__(self, db: database.Database, core: CorePlugin,
                 scheduler: l3_scheduler.L3Scheduler, notifier: L3AgentNotifier):
        self.db = db
        self.core = core
        self.scheduler = scheduler
        self.notifier = notifier

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            router = l3_models.Router(
                # A region's local server copies a central router, id and all.
                id=body.get("id") or models.new_id(),
                name=body["name"], description=body["description"],
                project_id=body["project_id"], admin_state_up=body["admin_state_up"],
                availability_zone_hints=body.get("availability_zone_hints") or [],
                status="ACTIVE")
            session.add(router)
            session.flush()
            # First: the gateway port binds to the host the router lands on.
            self.scheduler.schedule(session, router)
            if body.get("external_gateway_info"):
                self._update_gateway(session, router, body["external_gateway_info"])
            session.flush()
            return router_dict(router)

        router = self.db.run(work)
        self.notifier.routers_updated([router["id"]])
        return router

    def get(self, router_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: router_dict(load_router(session, router_id)))

    def update(self, router_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            router = load_router(session, router_id, lock=True)
            for name in ("name", "description", "admin_state_up"):
                if name in body:
                    setattr(router, name, body[name])
            if "external_gateway_info" in body:
                self._update_gateway(session, router, body["external_gateway_info"])
            session.flush()
            return router_dict(router)

        router = self.db.run(work)
        self.notifier.routers_updated([router_id])
        return router

    def delete(self, router_id: str) -> None:
        def work(session: Session) -> None:
            router = load_router(session, router_id, lock=True)
            interfaces = interface_ports(router)
            if interfaces:
                raise errors.Conflict(
                    f"Router {router_id} still has ports ({len(interfaces)} interfaces, such "
                    f"as port {interfaces[0].id}): remove them with remove_router_interface "
                    "first.", "RouterInUse")
            self._update_gateway(session, router, None)
            session.delete(router)

        self.db.run(work)
        self.notifier.router_deleted(router_id)

    def l3_agents(self, router_id: str) -> list[dict[str, Any]]:
        """The agents hosting the router (one at most), as /agents shows them."""
        def work(session: Session) -> list[dict[str, Any]]:
            load_router(session, router_id)
            return [self.core.agent_dict(agent)
                    for agent in l3_scheduler.agents_hosting(session, router_id)]
        return self.db.run(work)

    def on_agent(self, agent_id: str) -> list[dict[str, Any]]:
        """The routers an agent hosts."""
        def work(session: Session) -> list[dict[str, Any]]:
            if session.get(models.Agent, agent_id) is None:
                raise errors.resource_not_found("agent", agent_id)
            return [router_dict(router) for router in l3_scheduler.routers_on(session, agent_id)]
        return self.db.run(work)

    def _update_gateway(self, session: Session, router: l3_models.Router,
                        info: dict[str, Any] | None) -> None:
        """Make the router's gateway what ``info`` asks for."""
        current = router.gw_port
        if info is None:
            if current is not None:
                self._remove_gateway(session, router, current)
            return
        network = load_network(session, info["network_id"])
        if not network.router_external:
            raise errors.invalid_input(
                "external_gateway_info",
                f"network {network.id} is not an external network (router:external is false)")
        # Like Neutron's ext-gw-mode: a gateway given without enable_snat SNATs.
        router.enable_snat = info.get("enable_snat", True)
        if current is not None and current.network_id == network.id:
            if "external_fixed_ips" in info:
                self.core.update_port(session, current, {"fixed_ips": info["external_fixed_ips"]})
                check_subnets_fit(session, router, subnets_of(session, current), current.id)
            return
        if current is not None:
            self._remove_gateway(session, router, current)
        self._add_gateway(session, router, network, info.get("external_fixed_ips"))

    def _add_gateway(self, session: Session, router: l3_models.Router, network: models.Network,
                     fixed_ips: list[dict[str, Any]] | None) -> None:
        if not network.subnets:
            raise errors.invalid_input(
                "external_gateway_info",
                f"external network {network.id} has no subnet to give the gateway an address")
        port = self.core.add_port(session, {
            "network_id": network.id,
            # No project, as in Neutron: the gateway port is the operator's, not the tenant's.
            "tenant_id": "",
            "fixed_ips": [{"subnet_id": network.subnets[0].id}] if fixed_ips is None
            else fixed_ips,
            "device_owner": device_owners.ROUTER_GATEWAY, "device_id": router.id,
            "binding:host_id": self.scheduler.host_of(session, router.id)})
        if not port.fixed_ips:
            raise errors.invalid_input(
                "external_gateway_info", "external_fixed_ips must name at least one address")
        check_subnets_fit(session, router, subnets_of(session, port))
        router.gw_port = port
        attach(router, port, device_owners.ROUTER_GATEWAY)

    def _remove_gateway(self, session: Session, router: l3_models.Router,
                        port: models.Port) -> None:
        _check_gateway_unused(session, router, port.network_id)
        router.gw_port = None
        detach(session, router, port)
        self.core.remove_port(session, port)

    # Last in the class: below it, mypy would read 'list' in annotations as this method.
    def list(self) -> list[dict[str, Any]]:
        return self.db.list_all(l3_models.Router, lambda session, router: router_dict(router))
