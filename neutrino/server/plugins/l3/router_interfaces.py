"""A router's interfaces: add_router_interface and remove_router_interface.

An interface is a port on a tenant subnet that the router's namespace owns:
either one made here with the subnet's gateway address, or a port the client
made and hands over by id.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.db.lookups import load_port, load_subnet
from neutrino.server.lib import device_owners, errors
from neutrino.server.lib import validators as v
from neutrino.server.plugins.base import CorePlugin
from neutrino.server.plugins.l3 import models as l3_models
from neutrino.server.plugins.l3.notify import L3AgentNotifier
from neutrino.server.plugins.l3.routers import (
    attach,
    bad_router_request,
    check_subnets_fit,
    detach,
    interface_ports,
    load_router,
    subnets_of,
)
from neutrino.server.plugins.l3.scheduler import L3Scheduler

_KEYS = ("subnet_id", "port_id")


def interface_request(body: Any, adding: bool) -> dict[str, str]:
    """The checked body of add/remove_router_interface: subnet_id and/or port_id."""
    if not isinstance(body, dict):
        raise errors.BadRequest("The request body must be a JSON object with subnet_id "
                                "or port_id")
    unknown = sorted(set(body) - set(_KEYS))
    if unknown:
        raise errors.BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}' for a "
                                "router interface; give subnet_id or port_id")
    request = {}
    for key in _KEYS:
        if body.get(key) is not None:
            try:
                request[key] = v.uuid_string(body[key])
            except ValueError as error:
                raise errors.invalid_input(key, str(error)) from None
    if not request:
        raise bad_router_request("Either subnet_id or port_id must be specified")
    # Removing may name both: the port, checked to be on the subnet.
    if adding and len(request) == 2:
        raise bad_router_request("Cannot specify both subnet-id and port-id")
    return request


def interface_info(router: l3_models.Router, port: models.Port, subnet_id: str,
                   subnet_ids: list[str]) -> dict[str, Any]:
    return {"id": router.id, "tenant_id": port.project_id, "port_id": port.id,
            "subnet_id": subnet_id, "subnet_ids": subnet_ids, "network_id": port.network_id}


def _check_no_floating_ips(session: Session, router: l3_models.Router,
                           subnets: list[models.Subnet]) -> None:
    """409 if a floating IP reaches a fixed IP of ``subnets`` through the router."""
    fixed_ips = session.scalars(sa.select(l3_models.FloatingIP.fixed_ip_address).where(
        l3_models.FloatingIP.router_id == router.id))
    addresses = [ipaddress.ip_address(fixed_ip) for fixed_ip in fixed_ips if fixed_ip]
    for subnet in subnets:
        network = ipaddress.ip_network(subnet.cidr)
        if any(address in network for address in addresses):
            raise errors.Conflict(
                f"Router interface for subnet {subnet.id} on router {router.id} cannot be "
                "deleted, as it is required by one or more floating IPs: disassociate "
                "them first.", "RouterInterfaceInUseByFloatingIP")


class RouterInterfaces:
    def __init__(self, db: database.Database, core: CorePlugin, scheduler: L3Scheduler,
                 notifier: L3AgentNotifier):
        self.db = db
        self.core = core
        self.scheduler = scheduler
        self.notifier = notifier

    def add(self, router_id: str, body: Any) -> dict[str, Any]:
        request = interface_request(body, adding=True)

        def work(session: Session) -> dict[str, Any]:
            router = load_router(session, router_id, lock=True)
            if "port_id" in request:
                port = self._adopt_port(session, router, request["port_id"])
            else:
                port = self._new_port(session, router, request["subnet_id"])
            attach(router, port, device_owners.ROUTER_INTERFACE)
            session.flush()
            subnet_ids = [subnet.id for subnet in subnets_of(session, port)]
            return interface_info(router, port, subnet_ids[0], subnet_ids)

        info = self.db.run(work)
        self.notifier.routers_updated([router_id])
        return info

    def remove(self, router_id: str, body: Any) -> dict[str, Any]:
        request = interface_request(body, adding=False)

        def work(session: Session) -> dict[str, Any]:
            router = load_router(session, router_id, lock=True)
            subnet = (load_subnet(session, request["subnet_id"])
                      if "subnet_id" in request else None)
            port = self._interface_port(session, router, request.get("port_id"), subnet)
            subnets = subnets_of(session, port)
            leaving = subnets if subnet is None else [subnet]
            _check_no_floating_ips(session, router, leaving)
            info = interface_info(router, port, leaving[0].id, [s.id for s in subnets])
            if len(leaving) < len(subnets):
                # The port stays on the router with its other subnets.
                self.core.update_port(session, port, {"fixed_ips": [
                    ip for ip in port.fixed_ip_list() if ip["subnet_id"] != leaving[0].id]})
            else:
                detach(session, router, port)
                self.core.remove_port(session, port)
            return info

        info = self.db.run(work)
        self.notifier.routers_updated([router_id])
        return info

    def _new_port(self, session: Session, router: l3_models.Router,
                  subnet_id: str) -> models.Port:
        """A port with the subnet's gateway address, for the router to own."""
        subnet = load_subnet(session, subnet_id)
        if subnet.gateway_ip is None:
            raise bad_router_request(
                f"Subnet {subnet.id} for router interface must have a gateway IP")
        check_subnets_fit(session, router, [subnet])
        return self.core.add_port(session, {
            "network_id": subnet.network_id, "tenant_id": subnet.project_id,
            "fixed_ips": [{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}],
            "device_owner": device_owners.ROUTER_INTERFACE, "device_id": router.id,
            "binding:host_id": self.scheduler.host_of(session, router.id)})

    def _adopt_port(self, session: Session, router: l3_models.Router,
                    port_id: str) -> models.Port:
        """An existing port of the router's project, handed over to the router."""
        port = load_port(session, port_id)
        if port.device_id or session.get(l3_models.RouterPort, port.id) is not None:
            raise errors.Conflict(
                f"Unable to complete operation on port {port.id} for network "
                f"{port.network_id}. Port already has an attached device "
                f"{port.device_id or '(a router)'}.", "PortInUse")
        if port.project_id != router.project_id:
            raise errors.Conflict(
                f"Port {port.id} belongs to project '{port.project_id}', not to project "
                f"'{router.project_id}' of router {router.id}: a router takes only its "
                "own project's ports.", "PortInUse")
        subnets = subnets_of(session, port)
        if not subnets:
            raise bad_router_request(
                f"Router port {port.id} must have at least one fixed IP")
        if sum(1 for subnet in subnets if subnet.ip_version == 4) > 1:
            raise bad_router_request(
                f"Cannot have multiple IPv4 subnets on router port {port.id}")
        check_subnets_fit(session, router, subnets)
        # Its binding moves to the router's host: its old host's agent lets go.
        self.core.update_port(session, port, {
            "device_owner": device_owners.ROUTER_INTERFACE, "device_id": router.id,
            "binding:host_id": self.scheduler.host_of(session, router.id)})
        return port

    def _interface_port(self, session: Session, router: l3_models.Router, port_id: str | None,
                        subnet: models.Subnet | None) -> models.Port:
        """The interface to remove, by port id or by subnet; 404 if the router has none."""
        interfaces = interface_ports(router)
        if port_id is not None:
            port = next((p for p in interfaces if p.id == port_id), None)
            if port is None:
                raise errors.NotFound(
                    f"Router {router.id} does not have an interface with id {port_id}",
                    "RouterInterfaceNotFound")
            if subnet is not None and subnet.id not in {a.subnet_id for a in port.fixed_ips}:
                raise errors.BadRequest(
                    f"Subnet on port {port_id} does not match the requested subnet "
                    f"{subnet.id}", "SubnetMismatchForPort")
            return port
        assert subnet is not None
        for port in interfaces:
            if subnet.id in {a.subnet_id for a in port.fixed_ips}:
                return port
        raise errors.NotFound(f"Router {router.id} has no interface on subnet {subnet.id}",
                              "RouterInterfaceNotFoundForSubnet")
