"""The agents resource: heartbeats recorded over RPC, and the API's view of them."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import agents, database, models
from neutrino.server.lib import clock
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute, ResourceAttributes, read_only

LOG = logging.getLogger(__name__)

AGENT = ResourceAttributes("agent", (
    *read_only("id", "agent_type", "binary", "host", "topic", "alive"),
    Attribute("admin_state_up", v.boolean, create=False),
    *read_only("configurations"),
    Attribute("description", v.string, create=False),
    *read_only("heartbeat_timestamp", "started_at", "created_at"),
))


class AgentService:
    def __init__(self, db: database.Database, agent_down_time: int):
        self.db = db
        self.agent_down_time = agent_down_time

    def report_state(self, state: dict[str, Any]) -> None:
        """Record a heartbeat; the first one from an (agent_type, host) creates the agent."""
        missing = [key for key in ("agent_type", "host", "binary", "topic") if key not in state]
        if missing:
            raise ValueError(f"agent_state lacks {', '.join(missing)}: {state!r}")

        def work(session: Session) -> None:
            now = clock.utcnow()
            agent = agents.agent_on_host(session, state["agent_type"], state["host"])
            if agent is None:
                LOG.info("new agent %s on host %s", state["agent_type"], state["host"])
                agent = models.Agent(agent_type=state["agent_type"], host=state["host"],
                                     started_at=now, created_at=now)
                session.add(agent)
            elif state.get("start_flag"):
                agent.started_at = now
            agent.binary = state["binary"]
            agent.topic = state["topic"]
            agent.configurations = dict(state.get("configurations") or {})
            agent.heartbeat_timestamp = now
            session.flush()

        self.db.run(work)

    def to_dict(self, agent: models.Agent) -> dict[str, Any]:
        return agents.agent_dict(agent, clock.utcnow(), self.agent_down_time)

    def list(self) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            now = clock.utcnow()
            query = sa.select(models.Agent).order_by(models.Agent.created_at)
            return [agents.agent_dict(agent, now, self.agent_down_time)
                    for agent in session.scalars(query)]
        return self.db.run(work)

    def get(self, agent_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: self.to_dict(agents.load_agent(session, agent_id)))

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("agents are created by their first heartbeat, not by the API")

    def update(self, agent_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            agent = agents.load_agent(session, agent_id)
            for attribute, value in body.items():
                setattr(agent, attribute, value)
            session.flush()
            return self.to_dict(agent)
        return self.db.run(work)

    def delete(self, agent_id: str) -> None:
        self.db.run(lambda session: session.delete(agents.load_agent(session, agent_id)))
