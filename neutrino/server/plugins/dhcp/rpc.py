"""What DHCP agents ask over RPC: their networks, and their ports on them.

A network comes with everything dnsmasq needs, so one get_network_info call
after a dhcp_networks_changed notification is enough:

    {"id", "name", "mtu", "admin_state_up",
     "subnets": [{"id", "cidr", "ip_version", "gateway_ip", "enable_dhcp",
                  "dns_nameservers", "host_routes": [{"destination", "nexthop"}],
                  "allocation_pools": [{"start", "end"}]}],
     "ports": [{"id", "mac_address", "device_owner", "device_id", "admin_state_up",
                "fixed_ips": [{"subnet_id", "ip_address"}]}]}

with every subnet and every port of the network, DHCP ports included.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.db.lookups import load_network
from neutrino.server.plugins.dhcp import scheduler as dhcp_scheduler
from neutrino.server.plugins.dhcp.notify import DhcpAgentNotifier
from neutrino.server.plugins.dhcp.ports import DhcpPorts
from neutrino.server.plugins.dhcp.scheduler import DhcpScheduler

LOG = logging.getLogger(__name__)

# What a DHCP agent's view of a network shows of each port.
PORT_FACTS = ("id", "mac_address", "device_owner", "device_id", "admin_state_up", "fixed_ips")


def port_facts(port: models.Port) -> dict[str, Any]:
    return {"id": port.id, "mac_address": port.mac_address,
            "device_owner": port.device_owner, "device_id": port.device_id,
            "admin_state_up": port.admin_state_up, "fixed_ips": port.fixed_ip_list()}


def subnet_info(subnet: models.Subnet) -> dict[str, Any]:
    return {
        "id": subnet.id,
        "cidr": subnet.cidr,
        "ip_version": subnet.ip_version,
        "gateway_ip": subnet.gateway_ip,
        "enable_dhcp": subnet.enable_dhcp,
        "dns_nameservers": list(subnet.dns_nameservers or []),
        "host_routes": [{"destination": route["destination"], "nexthop": route["nexthop"]}
                        for route in subnet.host_routes or []],
        "allocation_pools": [{"start": pool.first_ip, "end": pool.last_ip}
                             for pool in subnet.allocation_pools],
    }


def network_info(session: Session, network: models.Network) -> dict[str, Any]:
    network_ports = session.scalars(
        sa.select(models.Port).where(models.Port.network_id == network.id)
        .order_by(models.Port.created_at, models.Port.id))
    return {
        "id": network.id,
        "name": network.name,
        "mtu": network.mtu,
        "admin_state_up": network.admin_state_up,
        "subnets": [subnet_info(subnet) for subnet in network.subnets],
        "ports": [port_facts(port) for port in network_ports],
    }


class DhcpRpcEndpoint:
    """What DHCP agents call on the plugin topic."""

    def __init__(self, db: database.Database, scheduler: DhcpScheduler,
                 dhcp_ports: DhcpPorts, notifier: DhcpAgentNotifier):
        self._db = db
        self._scheduler = scheduler
        self._dhcp_ports = dhcp_ports
        self._notifier = notifier

    def get_active_networks_info(self, host: str) -> list[dict[str, Any]]:
        """The networks of ``host``'s DHCP agent, after giving it those short of agents."""
        scheduled = self._db.run(lambda session: self._scheduler.auto_schedule(session, host))
        if scheduled:
            LOG.info("networks %s auto-scheduled to the DHCP agent of host %s",
                     ", ".join(scheduled), host)
            self._notifier.dhcp_networks_changed(scheduled)

        def work(session: Session) -> list[dict[str, Any]]:
            agent = dhcp_scheduler.dhcp_agent_on(session, host)
            if agent is None:
                return []
            return [network_info(session, network)
                    for network in dhcp_scheduler.networks_on(session, agent.id)]
        return self._db.run(work)

    def get_network_info(self, host: str, network_id: str) -> dict[str, Any] | None:
        """The network if ``host``'s DHCP agent serves it, else None: it should not."""
        def work(session: Session) -> dict[str, Any] | None:
            agent = dhcp_scheduler.dhcp_agent_on(session, host)
            if agent is None or not dhcp_scheduler.is_hosted_by(session, network_id, agent.id):
                return None
            return network_info(session, session.get_one(models.Network, network_id))
        return self._db.run(work)

    def get_dhcp_port(self, host: str, network_id: str, device_id: str) -> dict[str, Any]:
        return self._db.run(lambda session: self._dhcp_ports.ensure(
            session, load_network(session, network_id), device_id, host))

    def release_dhcp_port(self, host: str, network_id: str, device_id: str) -> None:
        released = self._db.run(
            lambda session: self._dhcp_ports.release(session, network_id, device_id))
        if released is not None:
            LOG.info("DHCP port %s of host %s on network %s released", released, host,
                     network_id)
