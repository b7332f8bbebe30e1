"""Tunnel endpoints: the address each host's agent terminates tunnels on."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.lib import errors

LOG = logging.getLogger(__name__)


def endpoint_dicts(session: Session, tunnel_type: str) -> list[dict[str, Any]]:
    query = sa.select(models.TunnelEndpoint).where(
        models.TunnelEndpoint.tunnel_type == tunnel_type).order_by(models.TunnelEndpoint.host)
    return [{"ip_address": e.ip_address, "host": e.host} for e in session.scalars(query)]


class TunnelEndpoints:
    def __init__(self, db: database.Database):
        self.db = db

    def sync(self, tunnel_ip: str, tunnel_type: str, host: str) -> list[dict[str, Any]]:
        """Record ``host``'s endpoint and return all endpoints of the type.

        A host that comes back with a new address replaces its old one; an
        address already owned by another host is a configuration error.
        """
        def work(session: Session) -> list[dict[str, Any]]:
            model = models.TunnelEndpoint
            by_ip = session.get(model, (tunnel_type, tunnel_ip))
            if by_ip is not None and by_ip.host != host:
                raise errors.Conflict(
                    f"Tunnel IP {tunnel_ip} ({tunnel_type}) is in use by host {by_ip.host}, "
                    f"so host {host} cannot have it", "TunnelIpInUse")
            if by_ip is None:
                old = session.scalar(sa.select(model).where(
                    model.tunnel_type == tunnel_type, model.host == host))
                if old is not None:
                    LOG.info("host %s moves its %s endpoint from %s to %s",
                             host, tunnel_type, old.ip_address, tunnel_ip)
                    session.delete(old)
                    session.flush()
                session.add(model(tunnel_type=tunnel_type, ip_address=tunnel_ip, host=host))
                session.flush()
            return endpoint_dicts(session, tunnel_type)

        return self.db.run(work)
