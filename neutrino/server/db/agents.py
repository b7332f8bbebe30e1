"""Agents in the database: whether one is alive, which may be given work, its API view.

Every plugin that schedules work to agents (routers, DHCP) or binds ports
to their hosts asks these questions; the agents resource itself is the
core plugin's.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.lib import clock, errors


def is_alive(heartbeat: datetime.datetime | None, now: datetime.datetime,
             agent_down_time: int) -> bool:
    if heartbeat is None:
        return False
    return now - heartbeat <= datetime.timedelta(seconds=agent_down_time)


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


def dead_limit(agent_down_time: int) -> datetime.timedelta:
    """Neutron's agent_dead_limit_seconds: how long an agent must have been
    silent before failover takes its work away (twice agent_down_time)."""
    return datetime.timedelta(seconds=2 * agent_down_time)


def failover_interval(agent_down_time: int) -> int:
    """Neutron's period for its failover checks: half the down time, at least 1 s."""
    return max(agent_down_time // 2, 1)


def bindings_of_silent_agents(session: Session, binding: Any, agent_id: Any,
                              limit: datetime.timedelta, now: datetime.datetime,
                              order_by: Any) -> list[tuple[Any, models.Agent]]:
    """(binding, agent) for each row of the ``binding`` model whose agent (its
    ``agent_id`` column) is administratively up and silent for longer than ``limit``."""
    return list(session.execute(
        sa.select(binding, models.Agent).join(models.Agent, models.Agent.id == agent_id)
        .where(models.Agent.admin_state_up.is_(True),
               models.Agent.heartbeat_timestamp < now - limit)
        .order_by(order_by)).tuples())


def agent_on_host(session: Session, agent_type: str, host: str) -> models.Agent | None:
    """The agent of a type on ``host``, alive or not; None if it never reported."""
    return session.scalar(sa.select(models.Agent).where(
        models.Agent.agent_type == agent_type, models.Agent.host == host))


def load_agent(session: Session, agent_id: str) -> models.Agent:
    agent = session.get(models.Agent, agent_id)
    if agent is None:
        raise errors.resource_not_found("agent", agent_id)
    return agent
