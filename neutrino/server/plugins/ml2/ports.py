"""Ports: addresses, MACs and binding on create and update; the port dict."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.lib import clock, device_owners, errors
from neutrino.server.plugins.ml2 import ipam, l2pop, mac_address
from neutrino.server.plugins.ml2.binding import PortBinder
from neutrino.server.plugins.ml2.networks import load_network
from neutrino.server.rpc.notifier import AgentNotifier

_COLUMNS = {"name": "name", "description": "description", "device_id": "device_id",
            "device_owner": "device_owner", "admin_state_up": "admin_state_up"}


def load_port(session: Session, port_id: str) -> models.Port:
    port = session.get(models.Port, port_id)
    if port is None:
        raise errors.resource_not_found("port", port_id)
    return port


def _address_order(allocation: models.IPAllocation) -> tuple[int, int]:
    address = ipaddress.ip_address(allocation.ip_address)
    return address.version, int(address)


# The attributes of a port as the API shows it; lists filter on these.
FIELDS = (
    "id",
    "name",
    "description",
    "network_id",
    "tenant_id",
    "project_id",
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "admin_state_up",
    "status",
    "binding:host_id",
    "binding:vif_type",
    "binding:vif_details",
    "binding:profile",
    "binding:vnic_type",
    "created_at",
    "updated_at",
)


def fixed_ip_dicts(port: models.Port) -> list[dict[str, str]]:
    return [{"subnet_id": a.subnet_id, "ip_address": a.ip_address}
            for a in sorted(port.fixed_ips, key=_address_order)]


def port_dict(port: models.Port) -> dict[str, Any]:
    binding = port.binding
    return {
        "id": port.id,
        "name": port.name,
        "description": port.description,
        "network_id": port.network_id,
        "tenant_id": port.project_id,
        "project_id": port.project_id,
        "mac_address": port.mac_address,
        "fixed_ips": fixed_ip_dicts(port),
        "device_id": port.device_id,
        "device_owner": port.device_owner,
        "admin_state_up": port.admin_state_up,
        "status": port.status,
        "binding:host_id": binding.host,
        "binding:vif_type": binding.vif_type,
        "binding:vif_details": binding.vif_details or {},
        "binding:profile": binding.profile or {},
        "binding:vnic_type": binding.vnic_type,
        "created_at": clock.to_api(port.created_at),
        "updated_at": clock.to_api(port.updated_at),
    }


def dhcp_facts(port: models.Port) -> dict[str, Any]:
    """What a DHCP agent knows of a port: its entry in get_network_info."""
    return {
        "id": port.id,
        "mac_address": port.mac_address,
        "device_owner": port.device_owner,
        "device_id": port.device_id,
        "admin_state_up": port.admin_state_up,
        "fixed_ips": fixed_ip_dicts(port),
    }


def _allocation(port: models.Port, fixed_ip: ipam.FixedIp) -> models.IPAllocation:
    return models.IPAllocation(subnet_id=fixed_ip.subnet_id, ip_address=fixed_ip.ip_address,
                               network_id=port.network_id, port_id=port.id)


# A deleted port's id and its l2pop facts from before the delete.
RemovedPort = tuple[str, l2pop.PortFacts]


@dataclass(frozen=True)
class ChangedPort:
    """An updated port as the API shows it, and what its agents must hear of the change."""

    port: dict[str, Any]
    before: l2pop.PortFacts
    after: l2pop.PortFacts
    # Whether the port's entry in a DHCP agent's view of its network changed.
    dhcp_changed: bool


def _check_not_l3_owned(session: Session, port: models.Port) -> None:
    """409 for a port its router or floating IP still uses, as Neutron refuses it."""
    if port.device_owner not in device_owners.L3_OWNERS:
        return
    if port.device_owner == device_owners.FLOATINGIP:
        in_use = session.scalar(sa.select(models.FloatingIP.id).where(
            models.FloatingIP.floating_port_id == port.id)) is not None
        how = "delete the floating IP instead"
    else:
        in_use = session.get(models.RouterPort, port.id) is not None
        how = ("use remove_router_interface" if port.device_owner ==
               device_owners.ROUTER_INTERFACE else "clear the router's external_gateway_info")
    if in_use:
        raise errors.Conflict(
            f"Port {port.id} cannot be deleted directly via the port API: has device owner "
            f"{port.device_owner} (device {port.device_id}); {how}.", "ServicePortInUse")


def _release_floating_ips(session: Session, port_id: str) -> list[str]:
    """Disassociate the floating IPs of a port about to go; their routers' ids."""
    routers = []
    for fip in session.scalars(sa.select(models.FloatingIP).where(
            models.FloatingIP.fixed_port_id == port_id)):
        if fip.router_id:
            routers.append(fip.router_id)
        fip.fixed_port_id = fip.fixed_ip_address = fip.router_id = None
        fip.status = "DOWN"
    return routers


class PortService:
    def __init__(self, db: database.Database, binder: PortBinder,
                 macs: mac_address.MacGenerator, notifier: AgentNotifier,
                 l2_population: l2pop.L2Population):
        self.db = db
        self.binder = binder
        self.macs = macs
        self.notifier = notifier
        self.l2_population = l2_population

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        port = self.db.run(lambda session: port_dict(self.add(session, body)))
        self.announce_added(port["network_id"])
        return port

    def add(self, session: Session, body: dict[str, Any]) -> models.Port:
        """Create a port from a checked create body, in the caller's transaction."""
        network = load_network(session, body["network_id"])
        port = models.Port(id=models.new_id(), network_id=network.id, status="DOWN",
                           project_id=body["project_id"],
                           **{column: body[name] for name, column in _COLUMNS.items()})
        if "mac_address" in body:
            mac_address.check_requested(session, network.id, body["mac_address"])
            port.mac_address = body["mac_address"]
        else:
            port.mac_address = self.macs.generate(session, network.id)
        planner = ipam.AddressPlanner(session, network)
        port.fixed_ips = [_allocation(port, fixed_ip)
                          for fixed_ip in planner.plan(body.get("fixed_ips"))]
        port.binding = models.PortBinding(
            host=body["binding:host_id"], profile=body["binding:profile"],
            vnic_type=body["binding:vnic_type"])
        session.add(port)
        self.binder.bind(session, port, network)
        session.flush()
        return port

    def announce_added(self, network_id: str) -> None:
        """Tell agents about a port ``add`` created on the network, once that is committed."""
        # A new port is DOWN: only DHCP agents, which serve every port, care yet.
        self.notifier.dhcp_networks_changed([network_id])

    def get(self, port_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: port_dict(load_port(session, port_id)))

    def list(self) -> list[dict[str, Any]]:
        return self.db.list_all(models.Port, port_dict)

    def update(self, port_id: str, body: dict[str, Any]) -> dict[str, Any]:
        changed = self.db.run(lambda session: self.modify(session, load_port(session, port_id),
                                                          body))
        self.announce_changed(changed)
        return changed.port

    def modify(self, session: Session, port: models.Port, body: dict[str, Any]) -> ChangedPort:
        """Apply a checked update body to ``port`` in the caller's transaction."""
        before, dhcp_before = l2pop.PortFacts.of(port), dhcp_facts(port)
        for name, column in _COLUMNS.items():
            if name in body:
                setattr(port, column, body[name])
        if "fixed_ips" in body:
            self.replace_fixed_ips(session, port, body["fixed_ips"])
        if "binding:profile" in body:
            port.binding.profile = body["binding:profile"]
        if "binding:vnic_type" in body:
            port.binding.vnic_type = body["binding:vnic_type"]
        if "binding:host_id" in body:
            self._rebind(session, port, body["binding:host_id"])
        session.flush()
        return ChangedPort(port_dict(port), before, l2pop.PortFacts.of(port),
                           dhcp_facts(port) != dhcp_before)

    def announce_changed(self, changed: ChangedPort) -> None:
        """Tell agents about a port ``modify`` changed, once that is committed."""
        self.notifier.port_update(changed.port)
        self.l2_population.port_changed(changed.before, changed.after)
        if changed.dhcp_changed:
            self.notifier.dhcp_networks_changed([changed.port["network_id"]])

    def delete(self, port_id: str) -> None:
        def work(session: Session) -> tuple[RemovedPort, list[str]]:
            port = load_port(session, port_id)
            _check_not_l3_owned(session, port)
            routers = _release_floating_ips(session, port.id)
            return self.remove(session, port), routers

        removed, routers = self.db.run(work)
        self.announce_removed(removed)
        self.notifier.routers_updated(routers)

    def remove(self, session: Session, port: models.Port) -> RemovedPort:
        """Delete ``port`` in the caller's transaction, whoever owns it."""
        removed = (port.id, l2pop.PortFacts.of(port))
        session.delete(port)
        session.flush()
        return removed

    def announce_removed(self, removed: RemovedPort) -> None:
        """Tell agents about a port ``remove`` deleted, once that is committed."""
        port_id, before = removed
        self.notifier.port_delete(port_id)
        self.l2_population.port_changed(before, None)
        self.notifier.dhcp_networks_changed([before.network_id])

    def replace_fixed_ips(self, session: Session, port: models.Port,
                           requests: Sequence[dict[str, Any]]) -> None:
        current = [ipam.FixedIp(a.subnet_id, a.ip_address) for a in port.fixed_ips]
        planner = ipam.AddressPlanner(session, port.network, port_id=port.id)
        planned = planner.plan(requests, current)
        port.fixed_ips = [a for a in port.fixed_ips
                          if ipam.FixedIp(a.subnet_id, a.ip_address) in planned]
        # Released rows go before new ones, so an address can change hands in one call.
        session.flush()
        for fixed_ip in planned:
            if fixed_ip not in current:
                port.fixed_ips.append(_allocation(port, fixed_ip))

    def _rebind(self, session: Session, port: models.Port, host: str) -> None:
        """Bind again even to the same host: a retry after binding_failed."""
        if host != port.binding.host:
            # Whatever wired the port on the old host no longer does.
            port.status = "DOWN"
        port.binding.host = host
        self.binder.bind(session, port, port.network)
