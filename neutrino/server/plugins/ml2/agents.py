"""Agents: their heartbeats, whether they are alive, and the API's view of them."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.lib import clock, errors

LOG = logging.getLogger(__name__)

OVS_AGENT_TYPE = "Open vSwitch agent"


def is_alive(heartbeat: datetime.datetime | None, now: datetime.datetime,
             agent_down_time: int) -> bool:
    if heartbeat is None:
        return False
    return now - heartbeat <= datetime.timedelta(seconds=agent_down_time)


# The attributes of a agent as the API shows it; lists filter on these.
FIELDS = (
    "id",
    "agent_type",
    "binary",
    "host",
    "topic",
    "alive",
    "admin_state_up",
    "configurations",
    "description",
    "heartbeat_timestamp",
    "started_at",
    "created_at",
)


def agent_dict(agent: models.Agent, now: datetime.datetime,
               agent_down_time: int) -> dict[str, Any]:
    return {
        "id": agent.id,
        "agent_type": agent.agent_type,
        "binary": agent.binary,
        "host": agent.host,
        "topic": agent.topic,
        "alive": is_alive(agent.heartbeat_timestamp, now, agent_down_time),
        "admin_state_up": agent.admin_state_up,
        "configurations": agent.configurations,
        "description": agent.description,
        "heartbeat_timestamp": clock.to_api(agent.heartbeat_timestamp),
        "started_at": clock.to_api(agent.started_at),
        "created_at": clock.to_api(agent.created_at),
    }


def alive_agents_on_host(session: Session, agent_type: str, host: str,
                         agent_down_time: int) -> list[models.Agent]:
    query = sa.select(models.Agent).where(
        models.Agent.agent_type == agent_type, models.Agent.host == host)
    now = clock.utcnow()
    return [agent for agent in session.scalars(query)
            if is_alive(agent.heartbeat_timestamp, now, agent_down_time)]


def schedulable_agents(session: Session, agent_type: str,
                       agent_down_time: int) -> list[models.Agent]:
    """Agents of a type that may be given work: alive and administratively up."""
    query = sa.select(models.Agent).where(
        models.Agent.agent_type == agent_type, models.Agent.admin_state_up.is_(True))
    now = clock.utcnow()
    return [agent for agent in session.scalars(query)
            if is_alive(agent.heartbeat_timestamp, now, agent_down_time)]


def load_agent(session: Session, agent_id: str) -> models.Agent:
    agent = session.get(models.Agent, agent_id)
    if agent is None:
        raise errors.resource_not_found("agent", agent_id)
    return agent


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
            agent = session.scalar(sa.select(models.Agent).where(
                models.Agent.agent_type == state["agent_type"],
                models.Agent.host == state["host"]))
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

    def list(self) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            now = clock.utcnow()
            query = sa.select(models.Agent).order_by(models.Agent.created_at)
            return [agent_dict(agent, now, self.agent_down_time)
                    for agent in session.scalars(query)]
        return self.db.run(work)

    def get(self, agent_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: agent_dict(
            load_agent(session, agent_id), clock.utcnow(), self.agent_down_time))

    def update(self, agent_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            agent = load_agent(session, agent_id)
            for attribute, value in body.items():
                setattr(agent, attribute, value)
            session.flush()
            return agent_dict(agent, clock.utcnow(), self.agent_down_time)
        return self.db.run(work)

    def delete(self, agent_id: str) -> None:
        self.db.run(lambda session: session.delete(load_agent(session, agent_id)))
