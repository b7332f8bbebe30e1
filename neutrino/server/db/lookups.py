"""Rows by id that every plugin looks up, with the API's 404 when one is missing."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.lib import errors

Row = TypeVar("Row", bound=models.Base)


def load(session: Session, model: type[Row], resource: str, resource_id: str) -> Row:
    """The ``model`` row ``resource_id``; a 404 naming the ``resource`` if there is none."""
    row = session.get(model, resource_id)
    if row is None:
        raise errors.resource_not_found(resource, resource_id)
    return row


def load_network(session: Session, network_id: str) -> models.Network:
    return load(session, models.Network, "network", network_id)


def load_subnet(session: Session, subnet_id: str) -> models.Subnet:
    return load(session, models.Subnet, "subnet", subnet_id)


def load_port(session: Session, port_id: str) -> models.Port:
    return load(session, models.Port, "port", port_id)
