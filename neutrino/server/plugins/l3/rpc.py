"""What L3 agents ask over RPC: their routers, as sync_routers returns them.

A router comes with everything its agent needs to build the namespace, so
one call after a routers_updated notification is enough:

    {"id", "name", "admin_state_up", "tenant_id", "enable_snat",
     "gw_port": None or PORT, "interfaces": [PORT, ...],
     "floating_ips": [{"id", "floating_ip_address", "fixed_ip_address", "port_id"}]}

where PORT is {"id", "mac_address", "network_id", "mtu",
"fixed_ips": [{"subnet_id", "ip_address", "prefixlen"}],
"subnets": [{"id", "cidr", "gateway_ip"}]}; the gateway's PORT has
"extra_subnets" too: the external network's subnets it has no address on,
which the agent reaches on the link (as Neutron's agent does).

Only routers that are administratively up are returned: an agent removes
one set down, as Neutron's does.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.plugins.l3 import models as l3_models
from neutrino.server.plugins.l3.floating_ips import FloatingIpService
from neutrino.server.plugins.l3.notify import L3AgentNotifier
from neutrino.server.plugins.l3.routers import interface_ports, subnets_of
from neutrino.server.plugins.l3.scheduler import L3_AGENT_TYPE, L3Scheduler

LOG = logging.getLogger(__name__)


def port_info(session: Session, port: models.Port) -> dict[str, Any]:
    subnets = subnets_of(session, port)
    prefixlen = {subnet.id: ipaddress.ip_network(subnet.cidr).prefixlen for subnet in subnets}
    return {
        "id": port.id,
        "mac_address": port.mac_address,
        "network_id": port.network_id,
        "fixed_ips": [dict(fixed_ip, prefixlen=prefixlen[fixed_ip["subnet_id"]])
                      for fixed_ip in port.fixed_ip_list()],
        "subnets": [{"id": subnet.id, "cidr": subnet.cidr, "gateway_ip": subnet.gateway_ip}
                    for subnet in subnets],
        "mtu": port.network.mtu,
    }


def gateway_info(session: Session, port: models.Port) -> dict[str, Any]:
    """A gateway port, with the subnets of its network it has no address on."""
    info = port_info(session, port)
    own = {subnet["id"] for subnet in info["subnets"]}
    info["extra_subnets"] = [
        {"id": subnet.id, "cidr": subnet.cidr, "gateway_ip": subnet.gateway_ip}
        for subnet in session.scalars(sa.select(models.Subnet).where(
            models.Subnet.network_id == port.network_id, models.Subnet.ip_version == 4)
            .order_by(models.Subnet.created_at, models.Subnet.id))
        if subnet.id not in own]
    return info


def router_info(session: Session, router: l3_models.Router) -> dict[str, Any]:
    fips = session.scalars(
        # Only associated floating IPs have a router.
        sa.select(l3_models.FloatingIP).where(l3_models.FloatingIP.router_id == router.id)
        .order_by(l3_models.FloatingIP.floating_ip_address))
    return {
        "id": router.id,
        "name": router.name,
        "admin_state_up": router.admin_state_up,
        "tenant_id": router.project_id,
        "gw_port": None if router.gw_port is None else gateway_info(session, router.gw_port),
        "enable_snat": router.enable_snat,
        "interfaces": [port_info(session, port) for port in interface_ports(router)],
        "floating_ips": [{"id": fip.id, "floating_ip_address": fip.floating_ip_address,
                          "fixed_ip_address": fip.fixed_ip_address, "port_id": fip.fixed_port_id}
                         for fip in fips],
    }


def routers_for_host(session: Session, host: str,
                     router_ids: Sequence[str] | None) -> list[dict[str, Any]]:
    """The routers scheduled to ``host``'s L3 agent, only ``router_ids`` if given."""
    query = (sa.select(l3_models.Router)
             .join(l3_models.RouterL3AgentBinding)
             .join(models.Agent, models.Agent.id == l3_models.RouterL3AgentBinding.l3_agent_id)
             .where(models.Agent.agent_type == L3_AGENT_TYPE, models.Agent.host == host,
                    l3_models.Router.admin_state_up.is_(True))
             .order_by(l3_models.Router.created_at, l3_models.Router.id))
    if router_ids is not None:
        query = query.where(l3_models.Router.id.in_(list(router_ids)))
    return [router_info(session, router) for router in session.scalars(query)]


class L3RpcEndpoint:
    """What L3 agents call on the plugin topic."""

    def __init__(self, db: database.Database, scheduler: L3Scheduler,
                 floating_ips: FloatingIpService, notifier: L3AgentNotifier):
        self._db = db
        self._scheduler = scheduler
        self._floating_ips = floating_ips
        self._notifier = notifier

    def sync_routers(self, host: str,
                     router_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The routers of ``host``'s L3 agent, after giving it any unscheduled ones."""
        scheduled = self._db.run(lambda session: self._scheduler.auto_schedule(session, host))
        if scheduled:
            LOG.info("routers %s auto-scheduled to host %s", ", ".join(scheduled), host)
            self._notifier.routers_updated(scheduled)
        return self._db.run(lambda session: routers_for_host(session, host, router_ids))

    def update_floatingip_statuses(self, router_id: str, fip_statuses: dict[str, str]) -> None:
        self._floating_ips.set_statuses(router_id, fip_statuses)
