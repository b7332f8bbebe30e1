"""Ports: addresses, MACs and binding on create and update; the port dict.

Every change to a port, the API's own and those service plugins make
through the core plugin, publishes the port's events; once it is
committed, L2 agents hear of it (port_update or port_delete, and l2pop).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.db.database import after_commit
from neutrino.server.db.lookups import load_network, load_port
from neutrino.server.lib import attributes, clock, events
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import REQUIRED, Attribute, ResourceAttributes
from neutrino.server.plugins.ml2 import ipam, l2pop, mac_address
from neutrino.server.plugins.ml2.core_resource import CoreResourceService
from neutrino.server.plugins.ml2.extension_drivers import ExtensionDrivers
from neutrino.server.plugins.ml2.mechanisms import MechanismManager
from neutrino.server.plugins.ml2.notify import L2AgentNotifier

_COLUMNS = {"name": "name", "description": "description", "device_id": "device_id",
            "device_owner": "device_owner", "admin_state_up": "admin_state_up"}

_FIXED_IP = v.dict_of({"subnet_id": v.uuid_string, "ip_address": v.ip_address})

# A port's own attributes; binding:* come with their extension.
PORT = ResourceAttributes("port", (
    *attributes.common(),
    Attribute("network_id", v.uuid_string, REQUIRED, update=False),
    Attribute("mac_address", v.mac_address, update=False),
    Attribute("fixed_ips", v.list_of(_FIXED_IP)),
    Attribute("device_id", v.string, ""),
    Attribute("device_owner", v.string, ""),
    Attribute("admin_state_up", v.boolean, True),
    Attribute("status"),
    *attributes.timestamps(),
))

# What a port made by a service plugin has unless it says otherwise.
_INTERNAL_DEFAULTS: dict[str, Any] = {
    "name": "", "description": "", "device_id": "", "device_owner": "",
    "admin_state_up": True, "binding:host_id": "", "binding:profile": {},
    "binding:vnic_type": "normal",
}


def internal_body(fields: dict[str, Any]) -> dict[str, Any]:
    """A create body for a port a service plugin makes: ``fields`` and the defaults."""
    body = {**_INTERNAL_DEFAULTS, **fields}
    body["project_id"] = body.pop("tenant_id", None) or body.get("project_id") or ""
    return body


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
        "fixed_ips": port.fixed_ip_list(),
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


def _allocation(port: models.Port, fixed_ip: ipam.FixedIp) -> models.IPAllocation:
    return models.IPAllocation(subnet_id=fixed_ip.subnet_id, ip_address=fixed_ip.ip_address,
                               network_id=port.network_id, port_id=port.id)


class PortService(CoreResourceService):
    resource = events.PORT
    model = models.Port

    def __init__(self, db: database.Database, mechanisms: MechanismManager,
                 macs: mac_address.MacGenerator, notifier: L2AgentNotifier,
                 registry: events.Registry, drivers: ExtensionDrivers):
        super().__init__(db, registry, drivers)
        self.mechanisms = mechanisms
        self.macs = macs
        self.notifier = notifier

    def view(self, row: models.Port) -> dict[str, Any]:
        return port_dict(row)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.db.run(lambda session: self.to_dict(session, self.add(session, body)))

    def add(self, session: Session, body: dict[str, Any]) -> models.Port:
        """Create a port from a checked create body, in the caller's transaction."""
        network = load_network(session, body["network_id"])
        # A local server of a region gives the central copy's id.
        port = models.Port(id=body.get("id") or models.new_id(), network_id=network.id,
                           status="DOWN",
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
            host=body.get("binding:host_id", ""), profile=body.get("binding:profile", {}),
            vnic_type=body.get("binding:vnic_type", "normal"))
        session.add(port)
        self.mechanisms.bind(session, port, network)
        # A new port is DOWN: L2 agents hear of it once it is bound and wired.
        self.created(session, port, body)
        return port

    def update(self, port_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            port = load_port(session, port_id)
            self.modify(session, port, body)
            return self.to_dict(session, port)
        return self.db.run(work)

    def modify(self, session: Session, port: models.Port, body: dict[str, Any]) -> None:
        """Apply a checked update body to ``port`` in the caller's transaction."""
        before = self.to_dict(session, port)
        for name, column in _COLUMNS.items():
            if name in body:
                setattr(port, column, body[name])
        if "fixed_ips" in body:
            self._replace_fixed_ips(session, port, body["fixed_ips"])
        if "binding:profile" in body:
            port.binding.profile = body["binding:profile"]
        if "binding:vnic_type" in body:
            port.binding.vnic_type = body["binding:vnic_type"]
        if "binding:host_id" in body:
            self._rebind(session, port, body["binding:host_id"])
        self._tell_l2_agents_of_update(session, before, self.updated(session, port, body, before))

    def drop_addresses(self, session: Session, port: models.Port, subnet_id: str) -> None:
        """Take the port's addresses on a subnet about to be deleted away."""
        before = self.to_dict(session, port)
        port.fixed_ips = [a for a in port.fixed_ips if a.subnet_id != subnet_id]
        self._tell_l2_agents_of_update(session, before, self.updated(session, port, {}, before))

    def _tell_l2_agents_of_update(self, session: Session, before: dict[str, Any],
                                  after: dict[str, Any]) -> None:
        def tell() -> None:
            self.notifier.port_update(after)
            self.mechanisms.port_changed(l2pop.PortFacts.of_dict(before),
                                         l2pop.PortFacts.of_dict(after))
        after_commit(session, tell)

    def delete(self, port_id: str) -> None:
        """The API's delete: plugins may refuse it (a router's port, say) first."""
        def work(session: Session) -> None:
            port = load_port(session, port_id)
            self.events.publish(events.PORT, events.BEFORE_DELETE, events.Payload(
                port.id, (self.to_dict(session, port),), session=session, db_object=port))
            self.remove(session, port)
        self.db.run(work)

    def remove(self, session: Session, port: models.Port) -> None:
        """Delete ``port`` in the caller's transaction, whoever owns it."""
        before = self.deleting(session, port)
        port_id = port.id

        def tell_l2_agents() -> None:
            self.notifier.port_delete(port_id)
            self.mechanisms.port_changed(l2pop.PortFacts.of_dict(before), None)

        after_commit(session, tell_l2_agents)
        session.delete(port)
        session.flush()

    def _replace_fixed_ips(self, session: Session, port: models.Port,
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
        self.mechanisms.bind(session, port, port.network)
