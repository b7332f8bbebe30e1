"""Routers of dead L3 agents move to alive ones (Neutron's allow_automatic_l3agent_failover).

Off by default, as in Neutron: a router that moves is built anew on another
host, so its connections start over. When on, a periodic task moves every
router whose agent has not reported for twice agent_down_time (and is
administratively up) to the least loaded alive agent; its ports bind to the
new host and both agents are told.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from neutrino.server.db import agents, database
from neutrino.server.lib import clock
from neutrino.server.plugins.l3 import models as l3_models
from neutrino.server.plugins.l3.notify import L3AgentNotifier
from neutrino.server.plugins.l3.scheduler import L3Scheduler

LOG = logging.getLogger(__name__)


class RouterFailover:
    def __init__(self, db: database.Database, scheduler: L3Scheduler,
                 notifier: L3AgentNotifier, agent_down_time: int):
        self.db = db
        self.scheduler = scheduler
        self.notifier = notifier
        self.dead_limit = agents.dead_limit(agent_down_time)

    def move_from_dead_agents(self) -> list[str]:
        """Reschedule the routers of dead L3 agents; the ids of those moved.

        With no alive agent to take them they stay where they are.
        """
        def work(session: Session) -> list[str]:
            now = clock.utcnow()
            binding = l3_models.RouterL3AgentBinding
            dead = agents.bindings_of_silent_agents(
                session, binding, binding.l3_agent_id, self.dead_limit, now,
                order_by=binding.router_id)
            if not dead or not self.scheduler.has_candidates(session):
                return []
            moved = []
            for row, old_agent in dead:
                router = session.get(l3_models.Router, row.router_id)
                session.delete(row)
                session.flush()
                if router is None:
                    continue
                new_agent = self.scheduler.schedule(session, router)
                LOG.warning("router %s moves from the L3 agent of host %s (no heartbeat for "
                            "%s) to host %s", router.id, old_agent.host,
                            now - old_agent.heartbeat_timestamp,
                            new_agent.host if new_agent else "none")
                moved.append(router.id)
            return moved

        moved = self.db.run(work)
        self.notifier.routers_updated(moved)
        return moved
