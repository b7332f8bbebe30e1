"""Rows by id that every plugin looks up, with the API's 404 when one is missing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.lib import errors


def load_network(session: Session, network_id: str) -> models.Network:
    network = session.get(models.Network, network_id)
    if network is None:
        raise errors.resource_not_found("network", network_id)
    return network


def load_subnet(session: Session, subnet_id: str) -> models.Subnet:
    subnet = session.get(models.Subnet, subnet_id)
    if subnet is None:
        raise errors.resource_not_found("subnet", subnet_id)
    return subnet


def load_port(session: Session, port_id: str) -> models.Port:
    port = session.get(models.Port, port_id)
    if port is None:
        raise errors.resource_not_found("port", port_id)
    return port
