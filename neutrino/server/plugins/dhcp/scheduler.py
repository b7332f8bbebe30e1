"""DHCP agent scheduling: which hosts' DHCP agents serve a network.

A network needs DHCP once one of its subnets has enable_dhcp. It then gets
up to ``dhcp_agents_per_network`` alive DHCP agents, the least loaded
(fewest networks) first, when such a subnet is created or a subnet is
switched to enable_dhcp. A network that found too few agents alive then is
topped up by the next DHCP agent that asks for its networks
(get_active_networks_info). Bindings stay until the network, the agent or
the binding itself (by hand, through the API) is deleted, or, with
allow_automatic_dhcp_failover, until the agent is dead for twice
agent_down_time: then the network moves to an alive agent (hosting.py).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.common import wire
from neutrino.server.db import agents, models
from neutrino.server.plugins.dhcp import models as dhcp_models

LOG = logging.getLogger(__name__)

DHCP_AGENT_TYPE = wire.DHCP_AGENT_TYPE

_Binding = dhcp_models.NetworkDhcpAgentBinding


def is_dhcp_enabled(network: models.Network) -> bool:
    return any(subnet.enable_dhcp for subnet in network.subnets)


def dhcp_agent_on(session: Session, host: str) -> models.Agent | None:
    """The DHCP agent of ``host``, alive or not; None if it never reported."""
    return agents.agent_on_host(session, DHCP_AGENT_TYPE, host)


def agents_hosting(session: Session, network_id: str) -> list[models.Agent]:
    return list(session.scalars(
        sa.select(models.Agent).join(_Binding, _Binding.dhcp_agent_id == models.Agent.id)
        .where(_Binding.network_id == network_id)
        .order_by(models.Agent.host, models.Agent.id)))


def networks_on(session: Session, agent_id: str) -> list[models.Network]:
    return list(session.scalars(
        sa.select(models.Network).join(_Binding, _Binding.network_id == models.Network.id)
        .where(_Binding.dhcp_agent_id == agent_id)
        .order_by(models.Network.created_at, models.Network.id)))


def is_hosted_by(session: Session, network_id: str, agent_id: str) -> bool:
    return session.get(_Binding, (network_id, agent_id)) is not None


class DhcpScheduler:
    def __init__(self, agent_down_time: int, agents_per_network: int):
        self.agent_down_time = agent_down_time
        self.agents_per_network = agents_per_network

    def schedule(self, session: Session, network: models.Network) -> list[models.Agent]:
        """Give a DHCP-enabled network the agents it lacks; the ones it got."""
        if not is_dhcp_enabled(network):
            return []
        hosting = self._lock_hosting(session, network.id)
        wanted = self.agents_per_network - len(hosting)
        if wanted <= 0:
            return []
        candidates = [agent for agent in self._candidates(session) if agent.id not in hosting]
        if not candidates:
            LOG.info("no alive %s to serve network %s; the next one to ask takes it",
                     DHCP_AGENT_TYPE, network.id)
            return []
        load = dict(session.execute(
            sa.select(_Binding.dhcp_agent_id, sa.func.count())
            .group_by(_Binding.dhcp_agent_id)).tuples().all())
        # The host name breaks ties, so that equal loads schedule predictably.
        candidates.sort(key=lambda candidate: (load.get(candidate.id, 0), candidate.host))
        chosen = candidates[:wanted]
        for agent in chosen:
            self.bind(session, network.id, agent)
        return chosen

    def auto_schedule(self, session: Session, host: str) -> list[str]:
        """Give ``host``'s DHCP agent, if it can take them, the DHCP-enabled
        networks that have fewer agents than they should; their ids."""
        agent = next((a for a in self._candidates(session) if a.host == host), None)
        if agent is None:
            return []
        not_hosted_by_agent = ~sa.exists().where(
            _Binding.network_id == models.Network.id, _Binding.dhcp_agent_id == agent.id)
        with_dhcp = sa.exists().where(
            models.Subnet.network_id == models.Network.id, models.Subnet.enable_dhcp.is_(True))
        network_ids = session.scalars(
            sa.select(models.Network.id).where(with_dhcp, not_hosted_by_agent)
            .order_by(models.Network.created_at, models.Network.id)).all()
        scheduled = []
        for network_id in network_ids:
            if len(self._lock_hosting(session, network_id)) < self.agents_per_network:
                self.bind(session, network_id, agent)
                scheduled.append(network_id)
        return scheduled

    def bind(self, session: Session, network_id: str, agent: models.Agent) -> None:
        LOG.info("network %s scheduled to %s on host %s", network_id, DHCP_AGENT_TYPE,
                 agent.host)
        session.add(_Binding(network_id=network_id, dhcp_agent_id=agent.id))
        # Now: a binding another request made meanwhile fails here, and is retried.
        session.flush()

    def _lock_hosting(self, session: Session, network_id: str) -> set[str]:
        """The ids of the agents hosting the network, read after locking it.

        The network's row lock makes schedulers of one network take turns on
        MySQL, and the locking read sees bindings committed meanwhile, so two
        of them cannot both fill the network's last place. (SQLite runs every
        writer one after another anyway.)
        """
        session.execute(sa.select(models.Network.id).where(
            models.Network.id == network_id).with_for_update())
        return set(session.scalars(sa.select(_Binding.dhcp_agent_id).where(
            _Binding.network_id == network_id).with_for_update()))

    def has_candidates(self, session: Session) -> bool:
        """Whether any DHCP agent could be given a network now."""
        return bool(self._candidates(session))

    def _candidates(self, session: Session) -> list[models.Agent]:
        return agents.schedulable_agents(session, DHCP_AGENT_TYPE, self.agent_down_time)
