"""Which networks DHCP agents host, as the API shows and changes it by hand.

Neutron's dhcp_agent_scheduler extension: /networks/{id}/dhcp-agents lists a
network's agents; /agents/{id}/dhcp-networks lists, adds and removes an
agent's networks. Removing a network from an agent also deletes that agent's
DHCP port on it, so its address is free again. The failover task moves
networks off dead agents the same way.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import agents, database, models
from neutrino.server.db.lookups import load_network
from neutrino.server.lib import clock, errors
from neutrino.server.lib import validators as v
from neutrino.server.plugins.base import CorePlugin
from neutrino.server.plugins.dhcp import models as dhcp_models
from neutrino.server.plugins.dhcp import scheduler as dhcp_scheduler
from neutrino.server.plugins.dhcp.notify import DhcpAgentNotifier
from neutrino.server.plugins.dhcp.ports import DhcpPorts
from neutrino.server.plugins.dhcp.scheduler import DHCP_AGENT_TYPE, DhcpScheduler

LOG = logging.getLogger(__name__)


def requested_network_id(body: Any) -> str:
    """The network_id of a POST /agents/{id}/dhcp-networks body, checked."""
    if not isinstance(body, dict) or set(body) != {"network_id"}:
        raise errors.BadRequest("The request body must be a JSON object with the one key "
                                "'network_id'")
    try:
        network_id: str = v.uuid_string(body["network_id"])
    except ValueError as error:
        raise errors.invalid_input("network_id", str(error)) from None
    return network_id


def _load_dhcp_agent(session: Session, agent_id: str) -> models.Agent:
    agent = agents.load_agent(session, agent_id)
    if agent.agent_type != DHCP_AGENT_TYPE:
        raise errors.BadRequest(
            f"Agent {agent_id} is not a valid DHCP Agent: it is the {agent.agent_type!r} "
            f"of host {agent.host}, not a {DHCP_AGENT_TYPE!r}.", "InvalidDHCPAgent")
    return agent


class DhcpNetworks:
    def __init__(self, db: database.Database, core: CorePlugin, scheduler: DhcpScheduler,
                 dhcp_ports: DhcpPorts, notifier: DhcpAgentNotifier, agent_down_time: int):
        self.db = db
        self.core = core
        self.scheduler = scheduler
        self.dhcp_ports = dhcp_ports
        self.notifier = notifier
        self.dead_limit = agents.dead_limit(agent_down_time)

    def move_from_dead_agents(self) -> list[str]:
        """Networks of DHCP agents dead past the dead limit go to alive agents
        (Neutron's allow_automatic_dhcp_failover); the ids of those moved.

        An agent that started lately is given the dead limit plus 2 s per
        network it hosts before it counts, as Neutron gives one that is still
        working through its networks. With no alive agent nothing moves.
        """
        def work(session: Session) -> list[str]:
            now = clock.utcnow()
            binding = dhcp_models.NetworkDhcpAgentBinding
            dead = [(row, agent) for row, agent in agents.bindings_of_silent_agents(
                        session, binding, binding.dhcp_agent_id, self.dead_limit, now,
                        order_by=models.Agent.host)
                    if not self._starting_up(session, agent, now)]
            if not dead or not self.scheduler.has_candidates(session):
                return []
            moved = []
            for row, agent in dead:
                network_id = row.network_id
                LOG.warning("network %s moves off the DHCP agent of host %s: no heartbeat "
                            "for %s", network_id, agent.host, now - agent.heartbeat_timestamp)
                session.delete(row)
                self.dhcp_ports.remove_on_host(session, network_id, agent.host)
                session.flush()
                network = session.get(models.Network, network_id)
                if network is not None:
                    self.scheduler.schedule(session, network)
                moved.append(network_id)
            return moved

        moved = self.db.run(work)
        if moved:
            self.notifier.dhcp_networks_changed(moved)
        return moved

    def _starting_up(self, session: Session, agent: models.Agent,
                     now: datetime.datetime) -> bool:
        hosted = session.scalar(sa.select(sa.func.count()).where(
            dhcp_models.NetworkDhcpAgentBinding.dhcp_agent_id == agent.id))
        grace = self.dead_limit + datetime.timedelta(seconds=2 * (hosted or 0))
        return agent.started_at + grace > now

    def dhcp_agents(self, network_id: str) -> list[dict[str, Any]]:
        """The agents hosting the network, as /agents shows them."""
        def work(session: Session) -> list[dict[str, Any]]:
            load_network(session, network_id)
            return [self.core.agent_dict(agent)
                    for agent in dhcp_scheduler.agents_hosting(session, network_id)]
        return self.db.run(work)

    def on_agent(self, agent_id: str) -> list[dict[str, Any]]:
        """The networks an agent hosts, as /networks shows them."""
        def work(session: Session) -> list[dict[str, Any]]:
            agents.load_agent(session, agent_id)
            return [self.core.network_dict(session, network)
                    for network in dhcp_scheduler.networks_on(session, agent_id)]
        return self.db.run(work)

    def add(self, agent_id: str, body: Any) -> None:
        """Schedule a network to an agent by hand, DHCP-enabled or not, even past
        dhcp_agents_per_network, as Neutron allows."""
        network_id = requested_network_id(body)

        def work(session: Session) -> None:
            agent = _load_dhcp_agent(session, agent_id)
            load_network(session, network_id)
            if dhcp_scheduler.is_hosted_by(session, network_id, agent_id):
                raise errors.Conflict(
                    f"The network {network_id} has been already hosted by the DHCP Agent "
                    f"{agent_id}.", "NetworkHostedByDHCPAgent")
            self.scheduler.bind(session, network_id, agent)

        self.db.run(work)
        self.notifier.dhcp_networks_changed([network_id])

    def remove(self, agent_id: str, network_id: str) -> None:
        def work(session: Session) -> None:
            agent = _load_dhcp_agent(session, agent_id)
            binding = session.get(dhcp_models.NetworkDhcpAgentBinding, (network_id, agent_id))
            if binding is None:
                raise errors.NotFound(
                    f"The network {network_id} is not hosted by the DHCP agent {agent_id}.",
                    "NetworkNotHostedByDhcpAgent")
            session.delete(binding)
            self.dhcp_ports.remove_on_host(session, network_id, agent.host)

        self.db.run(work)
        self.notifier.dhcp_networks_changed([network_id])
