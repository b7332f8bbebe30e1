"""Networks: create with a segment from the type drivers, show, update, delete."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.lib import clock, device_owners, errors
from neutrino.server.plugins.ml2.type_drivers.base import Segment
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager
from neutrino.server.rpc.notifier import AgentNotifier

# Ports the server deletes along with their network instead of refusing.
AUTO_DELETED_OWNERS = (device_owners.DHCP,)

# Attributes a DHCP agent's view of a network (get_network_info) shows.
_DHCP_SERVED_ATTRIBUTES = {"name", "admin_state_up"}

_PROVIDER_ATTRIBUTES = ("provider:network_type", "provider:physical_network",
                        "provider:segmentation_id")


def load_network(session: Session, network_id: str) -> models.Network:
    network = session.get(models.Network, network_id)
    if network is None:
        raise errors.resource_not_found("network", network_id)
    return network


# The attributes of a network as the API shows it; lists filter on these.
FIELDS = (
    "id",
    "name",
    "description",
    "tenant_id",
    "project_id",
    "admin_state_up",
    "status",
    "shared",
    "mtu",
    "subnets",
    "router:external",
    "provider:network_type",
    "provider:physical_network",
    "provider:segmentation_id",
    "created_at",
    "updated_at",
)


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


def _check_not_in_external_use(session: Session, network_id: str) -> None:
    """409 if router gateways or floating IPs still need the network to be external."""
    in_use = session.scalar(sa.select(sa.func.count()).select_from(models.Port).where(
        models.Port.network_id == network_id,
        models.Port.device_owner.in_(device_owners.EXTERNAL_OWNERS)))
    if in_use:
        raise errors.Conflict(
            f"External network {network_id} cannot be updated, since it has existing "
            "gateway ports or floating IPs.", "ExternalNetworkInUse")


class NetworkService:
    def __init__(self, db: database.Database, type_manager: TypeManager,
                 notifier: AgentNotifier):
        self.db = db
        self.type_manager = type_manager
        self.notifier = notifier

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        requested = requested_segment(body)
        if requested is not None:
            # Before the transaction: a bad type is the client's error, not a race.
            self.type_manager.validate_provider_segment(requested)

        def work(session: Session) -> dict[str, Any]:
            network = models.Network(
                name=body["name"], description=body["description"],
                project_id=body["project_id"], admin_state_up=body["admin_state_up"],
                shared=body["shared"], router_external=body["router:external"],
                status="ACTIVE")
            session.add(network)
            session.flush()
            segment = self.type_manager.create_segment(session, network.id, requested)
            network.mtu = self.type_manager.mtu(segment)
            network.segments = [models.NetworkSegment(
                network_type=segment.network_type,
                physical_network=segment.physical_network,
                segmentation_id=segment.segmentation_id)]
            session.flush()
            return network_dict(network)

        return self.db.run(work)

    def get(self, network_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: network_dict(load_network(session, network_id)))

    def list(self) -> list[dict[str, Any]]:
        return self.db.list_all(models.Network, network_dict)

    def update(self, network_id: str, body: dict[str, Any]) -> dict[str, Any]:
        columns = {"name": "name", "description": "description",
                   "admin_state_up": "admin_state_up", "shared": "shared",
                   "router:external": "router_external"}

        def work(session: Session) -> dict[str, Any]:
            network = load_network(session, network_id)
            if network.router_external and body.get("router:external") is False:
                _check_not_in_external_use(session, network_id)
            for attribute, value in body.items():
                setattr(network, columns[attribute], value)
            session.flush()
            return network_dict(network)

        network = self.db.run(work)
        if body.keys() & _DHCP_SERVED_ATTRIBUTES:
            self.notifier.dhcp_networks_changed([network_id])
        return network

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
            for segment in network.segments:
                self.type_manager.release_segment(session, Segment(
                    segment.network_type, segment.physical_network,
                    segment.segmentation_id))
            for port in session.scalars(sa.select(models.Port).where(
                    models.Port.network_id == network_id)):
                session.delete(port)
            session.delete(network)

        self.db.run(work)
        self.notifier.network_delete(network_id)
        self.notifier.dhcp_network_deleted(network_id)
