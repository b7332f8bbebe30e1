"""Networks: create with a segment from the type drivers, show, update, delete."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.db.database import after_commit
from neutrino.server.db.lookups import load_network
from neutrino.server.lib import attributes, clock, device_owners, errors, events
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute, ResourceAttributes
from neutrino.server.plugins.base import publish_change
from neutrino.server.plugins.ml2.extension_drivers import ExtensionDrivers
from neutrino.server.plugins.ml2.notify import L2AgentNotifier
from neutrino.server.plugins.ml2.type_drivers.base import Segment
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager

# Ports the server deletes along with their network instead of refusing.
AUTO_DELETED_OWNERS = (device_owners.DHCP,)

_PROVIDER_ATTRIBUTES = ("provider:network_type", "provider:physical_network",
                        "provider:segmentation_id")
_COLUMNS = {"name": "name", "description": "description", "admin_state_up": "admin_state_up",
            "shared": "shared", "router:external": "router_external"}

# A network's own attributes; provider:*, router:external and mtu come with
# their extensions.
NETWORK = ResourceAttributes("network", (
    *attributes.common(),
    Attribute("admin_state_up", v.boolean, True),
    Attribute("status"),
    Attribute("shared", v.boolean, False),
    Attribute("subnets"),
    *attributes.timestamps(),
))


def network_dict(network: models.Network) -> dict[str, Any]:
    segment = network.segments[0] if network.segments else None
    return {
        "id": network.id,
        "name": network.name,
        "description": network.description,
        "tenant_id": network.project_id,
        "project_id": network.project_id,
        "admin_state_up": network.admin_state_up,
        "status": network.status,
        "shared": network.shared,
        "mtu": network.mtu,
        "subnets": [subnet.id for subnet in network.subnets],
        "router:external": network.router_external,
        "provider:network_type": segment.network_type if segment else None,
        "provider:physical_network": segment.physical_network if segment else None,
        "provider:segmentation_id": segment.segmentation_id if segment else None,
        "created_at": clock.to_api(network.created_at),
        "updated_at": clock.to_api(network.updated_at),
    }


def requested_segment(body: dict[str, Any]) -> Segment | None:
    """The provider segment a create body asks for, or None for a tenant network."""
    if not any(body.get(name) is not None for name in _PROVIDER_ATTRIBUTES):
        return None
    network_type = body.get("provider:network_type")
    if network_type is None:
        raise errors.invalid_input(
            "provider:network_type",
            "required when provider:physical_network or provider:segmentation_id is given")
    return Segment(network_type, body.get("provider:physical_network"),
                   body.get("provider:segmentation_id"))


class NetworkService:
    def __init__(self, db: database.Database, type_manager: TypeManager,
                 notifier: L2AgentNotifier, registry: events.Registry,
                 drivers: ExtensionDrivers):
        self.db = db
        self.type_manager = type_manager
        self.notifier = notifier
        self.events = registry
        self.drivers = drivers

    def to_dict(self, session: Session, network: models.Network) -> dict[str, Any]:
        return self.drivers.extend_dict(events.NETWORK, session, network, network_dict(network))

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        requested = requested_segment(body)
        if requested is not None:
            # Before the transaction: a bad type is the client's error, not a race.
            self.type_manager.validate_provider_segment(requested)

        def work(session: Session) -> dict[str, Any]:
            network = models.Network(
                name=body["name"], description=body["description"],
                project_id=body["project_id"], admin_state_up=body["admin_state_up"],
                shared=body["shared"], router_external=body.get("router:external", False),
                status="ACTIVE")
            session.add(network)
            session.flush()
            segment = self.type_manager.create_segment(session, network.id, requested)
            network.mtu = self.type_manager.mtu(segment)
            network.segments = [models.NetworkSegment(
                network_type=segment.network_type,
                physical_network=segment.physical_network,
                segmentation_id=segment.segmentation_id)]
            self.drivers.process_create(events.NETWORK, session, body, network)
            session.flush()
            result = self.to_dict(session, network)
            publish_change(self.events, events.NETWORK, "create", events.Payload(
                network.id, (result,), body, session, network))
            return result

        return self.db.run(work)

    def get(self, network_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: self.to_dict(session, load_network(session, network_id)))

    def list(self) -> list[dict[str, Any]]:
        return self.db.list_all(models.Network, self.to_dict)

    def update(self, network_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            network = load_network(session, network_id)
            before = self.to_dict(session, network)
            for attribute, value in body.items():
                if attribute in _COLUMNS:
                    setattr(network, _COLUMNS[attribute], value)
            self.drivers.process_update(events.NETWORK, session, body, network)
            session.flush()
            after = self.to_dict(session, network)
            publish_change(self.events, events.NETWORK, "update", events.Payload(
                network_id, (before, after), body, session, network))
            return after

        return self.db.run(work)

    def delete(self, network_id: str) -> None:
        def work(session: Session) -> None:
            network = load_network(session, network_id)
            in_use = session.scalar(
                sa.select(sa.func.count()).select_from(models.Port).where(
                    models.Port.network_id == network_id,
                    models.Port.device_owner.not_in(AUTO_DELETED_OWNERS)))
            if in_use:
                raise errors.Conflict(
                    f"Unable to complete operation on network {network_id}. There are "
                    f"one or more ports still in use on the network.", "NetworkInUse")
            after_commit(session, lambda: self.notifier.network_delete(network_id))
            publish_change(self.events, events.NETWORK, "delete", events.Payload(
                network_id, (self.to_dict(session, network),), session=session,
                db_object=network))
            for segment in network.segments:
                self.type_manager.release_segment(session, Segment(
                    segment.network_type, segment.physical_network,
                    segment.segmentation_id))
            for port in session.scalars(sa.select(models.Port).where(
                    models.Port.network_id == network_id)):
                session.delete(port)
            session.delete(network)

        self.db.run(work)
