"""DHCP ports: the port a DHCP agent serves a network on, one per agent and network.

The agent names its port by a device_id of its own choosing and asks for it
with get_dhcp_port. The port has one address on every DHCP-enabled subnet of
the network and is bound to the agent's host, so that the host's OVS agent
wires it like any other port.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.lib import device_owners
from neutrino.server.plugins.base import CorePlugin

LOG = logging.getLogger(__name__)


def port_reply(port: models.Port) -> dict[str, Any]:
    prefixlen = {subnet.id: ipaddress.ip_network(subnet.cidr).prefixlen
                 for subnet in port.network.subnets}
    return {
        "id": port.id,
        "mac_address": port.mac_address,
        "network_id": port.network_id,
        "device_id": port.device_id,
        "fixed_ips": [dict(fixed_ip, prefixlen=prefixlen[fixed_ip["subnet_id"]])
                      for fixed_ip in port.fixed_ip_list()],
    }


def _wanted_fixed_ips(network: models.Network, port: models.Port | None) -> list[dict[str, str]]:
    """One address per DHCP-enabled subnet, keeping those the port has already."""
    current = {} if port is None else {a.subnet_id: a.ip_address for a in port.fixed_ips}
    return [{"subnet_id": subnet.id, "ip_address": current[subnet.id]}
            if subnet.id in current else {"subnet_id": subnet.id}
            for subnet in network.subnets if subnet.enable_dhcp]


def _lock(session: Session, network_id: str) -> None:
    """Make calls for one network take turns (on MySQL; SQLite runs every writer
    so): two calls for one device_id must not both create a port."""
    session.execute(sa.select(models.Network.id).where(
        models.Network.id == network_id).with_for_update())


class DhcpPorts:
    def __init__(self, core: CorePlugin):
        self.core = core

    def ensure(self, session: Session, network: models.Network, device_id: str,
               host: str) -> dict[str, Any]:
        """The DHCP port ``device_id`` on ``network``, created or brought up to date."""
        _lock(session, network.id)
        port = self.find(session, network.id, device_id)
        wanted = _wanted_fixed_ips(network, port)
        if port is None:
            port = self.core.add_port(session, {
                "network_id": network.id, "tenant_id": network.project_id,
                "device_owner": device_owners.DHCP, "device_id": device_id,
                "binding:host_id": host, "fixed_ips": wanted})
            LOG.info("DHCP port %s created for host %s on network %s", port.id, host,
                     network.id)
            return port_reply(port)
        update: dict[str, Any] = {}
        if len(port.fixed_ips) != len(wanted) or any("ip_address" not in w for w in wanted):
            update["fixed_ips"] = wanted
        if port.binding.host != host:
            LOG.info("DHCP port %s moves from host %r to host %s", port.id,
                     port.binding.host, host)
            update["binding:host_id"] = host
        if update:
            self.core.update_port(session, port, update)
        return port_reply(port)

    def release(self, session: Session, network_id: str, device_id: str) -> str | None:
        """Delete the agent's DHCP port on the network; its id, None if it had none."""
        port = self.find(session, network_id, device_id)
        if port is None:
            return None
        self.core.remove_port(session, port)
        return port.id

    def remove_on_host(self, session: Session, network_id: str, host: str) -> None:
        """Delete the DHCP ports on the network bound to ``host``."""
        found = session.scalars(
            sa.select(models.Port).join(models.PortBinding)
            .where(models.Port.network_id == network_id,
                   models.Port.device_owner == device_owners.DHCP,
                   models.PortBinding.host == host)).all()
        for port in found:
            self.core.remove_port(session, port)

    def find(self, session: Session, network_id: str, device_id: str) -> models.Port | None:
        return session.scalars(
            sa.select(models.Port).where(
                models.Port.network_id == network_id, models.Port.device_id == device_id,
                models.Port.device_owner == device_owners.DHCP)
            .order_by(models.Port.created_at, models.Port.id)).first()
