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
from neutrino.server.plugins.ml2.core_resource import CoreResourceService
from neutrino.server.plugins.ml2.extension_drivers import ExtensionDrivers
from neutrino.server.plugins.ml2.notify import L2AgentNotifier
from neutrino.server.plugins.ml2.type_drivers.base import Segment
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager

# Ports the server deletes along with their network instead of refusing;
# shadow ports (of other regions) go with the network that they stand in on.
AUTO_DELETED_OWNERS = (device_owners.DHCP, device_owners.SHADOW)

MIN_IPV4_MTU = 68   # RFC 791: what every IPv4 link must carry

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


def checked_mtu(mtu: int, largest: int) -> int:
    """A requested MTU, if IPv4 can use it and the segment's encapsulation leaves room."""
    if mtu < MIN_IPV4_MTU:
        raise errors.invalid_input("mtu", f"{mtu} is too small: IPv4 needs at least "
                                          f"{MIN_IPV4_MTU}")
    if mtu > largest:
        raise errors.invalid_input("mtu", f"Requested MTU is too big, maximum is {largest}")
    return mtu


class NetworkService(CoreResourceService):
    resource = events.NETWORK
    model = models.Network

    def __init__(self, db: database.Database, type_manager: TypeManager,
                 notifier: L2AgentNotifier, registry: events.Registry,
                 drivers: ExtensionDrivers):
        super().__init__(db, registry, drivers)
        self.type_manager = type_manager
        self.notifier = notifier

    def view(self, row: models.Network) -> dict[str, Any]:
        return network_dict(row)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        requested = requested_segment(body)
        if requested is not None:
            # Before the transaction: a bad type is the client's error, not a race.
            self.type_manager.validate_provider_segment(requested)

        def work(session: Session) -> dict[str, Any]:
            network = models.Network(
                # A local server of a region copies a central network, id and all.
                id=body.get("id") or models.new_id(), name=body["name"],
                description=body["description"],
                project_id=body["project_id"], admin_state_up=body["admin_state_up"],
                shared=body["shared"], router_external=body.get("router:external", False),
                status="ACTIVE")
            session.add(network)
            session.flush()
            segment = self.type_manager.create_segment(session, network.id, requested)
            largest = self.type_manager.mtu(segment)
            network.mtu = checked_mtu(body["mtu"], largest) if "mtu" in body else largest
            network.segments = [models.NetworkSegment(
                network_type=segment.network_type,
                physical_network=segment.physical_network,
                segmentation_id=segment.segmentation_id)]
            return self.created(session, network, body)

        return self.db.run(work)

    def update(self, network_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            network = load_network(session, network_id)
            before = self.to_dict(session, network)
            for attribute, value in body.items():
                if attribute in _COLUMNS:
                    setattr(network, _COLUMNS[attribute], value)
            row = network.segments[0]
            segment = Segment(row.network_type, row.physical_network, row.segmentation_id)
            if "mtu" in body:
                network.mtu = checked_mtu(body["mtu"], self.type_manager.mtu(segment))
            seg_id = body.get("provider:segmentation_id", segment.segmentation_id)
            if seg_id != segment.segmentation_id:
                row.segmentation_id = self.type_manager.update_segment(
                    session, network.id, segment, seg_id).segmentation_id
            after = self.updated(session, network, body, before)
            if seg_id != segment.segmentation_id:
                # L2 agents wire the network on its new segment.
                after_commit(session, lambda: self.notifier.network_update(after))
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
            self.deleting(session, network)
            for segment in network.segments:
                self.type_manager.release_segment(session, Segment(
                    segment.network_type, segment.physical_network,
                    segment.segmentation_id))
            for port in session.scalars(sa.select(models.Port).where(
                    models.Port.network_id == network_id)):
                session.delete(port)
            session.delete(network)

        self.db.run(work)
