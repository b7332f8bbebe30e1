"""L3 agent scheduling: which host's L3 agent runs a router, and where its ports bind.

A router goes to one alive L3 agent, the one hosting the fewest routers, when
it is created; a router created while no L3 agent was alive goes to the first
L3 agent that asks for its routers (sync_routers). The router's ports bind to
that agent's host, so the host's OVS agent wires them when the L3 agent plugs
them into br-int. With allow_automatic_l3agent_failover a router moves off an
agent that is dead for long (failover.py).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.common import wire
from neutrino.server.db import agents, models
from neutrino.server.plugins.base import CorePlugin
from neutrino.server.plugins.l3 import models as l3_models

LOG = logging.getLogger(__name__)

L3_AGENT_TYPE = wire.L3_AGENT_TYPE


class L3Scheduler:
    def __init__(self, core: CorePlugin, agent_down_time: int):
        self.core = core
        self.agent_down_time = agent_down_time

    def schedule(self, session: Session, router: l3_models.Router) -> models.Agent | None:
        """Put an unscheduled router on the least loaded candidate; None if there is none."""
        candidates = self._candidates(session)
        if not candidates:
            LOG.info("no alive %s to host router %s; the first one to sync takes it",
                     L3_AGENT_TYPE, router.id)
            return None
        load = dict(session.execute(
            sa.select(l3_models.RouterL3AgentBinding.l3_agent_id, sa.func.count())
            .group_by(l3_models.RouterL3AgentBinding.l3_agent_id)).tuples().all())
        # The host name breaks ties, so that equal loads schedule predictably.
        agent = min(candidates, key=lambda candidate: (load.get(candidate.id, 0), candidate.host))
        self._bind(session, router, agent)
        return agent

    def auto_schedule(self, session: Session, host: str) -> list[str]:
        """Give every unscheduled router to ``host``'s L3 agent if it can take them."""
        candidates = [agent for agent in self._candidates(session) if agent.host == host]
        if not candidates:
            return []
        unscheduled = session.scalars(
            sa.select(l3_models.Router)
            .outerjoin(l3_models.RouterL3AgentBinding,
                       l3_models.RouterL3AgentBinding.router_id == l3_models.Router.id)
            .where(l3_models.RouterL3AgentBinding.router_id.is_(None))
            .order_by(l3_models.Router.created_at, l3_models.Router.id)).all()
        for router in unscheduled:
            self._bind(session, router, candidates[0])
        return [router.id for router in unscheduled]

    def host_of(self, session: Session, router_id: str) -> str:
        """The host of the router's L3 agent, '' while it is unscheduled."""
        binding = session.get(l3_models.RouterL3AgentBinding, router_id)
        return binding.agent.host if binding is not None else ""

    def _bind(self, session: Session, router: l3_models.Router, agent: models.Agent) -> None:
        LOG.info("router %s scheduled to %s on host %s", router.id, L3_AGENT_TYPE, agent.host)
        session.add(l3_models.RouterL3AgentBinding(router_id=router.id, l3_agent_id=agent.id))
        for attached in router.attached_ports:
            self.core.update_port(session, attached.port, {"binding:host_id": agent.host})
        # Now: a router another request scheduled meanwhile fails here, and is retried.
        session.flush()

    def has_candidates(self, session: Session) -> bool:
        """Whether any L3 agent could be given a router now."""
        return bool(self._candidates(session))

    def _candidates(self, session: Session) -> list[models.Agent]:
        return agents.schedulable_agents(session, L3_AGENT_TYPE, self.agent_down_time)


def agents_hosting(session: Session, router_id: str) -> list[models.Agent]:
    return list(session.scalars(
        sa.select(models.Agent).join(l3_models.RouterL3AgentBinding)
        .where(l3_models.RouterL3AgentBinding.router_id == router_id)))


def routers_on(session: Session, agent_id: str) -> list[l3_models.Router]:
    return list(session.scalars(
        sa.select(l3_models.Router).join(l3_models.RouterL3AgentBinding)
        .where(l3_models.RouterL3AgentBinding.l3_agent_id == agent_id)
        .order_by(l3_models.Router.created_at, l3_models.Router.id)))
