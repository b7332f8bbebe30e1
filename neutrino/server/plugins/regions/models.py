"""The regions plugin's tables (the central server's own): pods, routings, jobs."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.server.db.models import (
    Base,
    cascade_fk,
    created_at_column,
    id_column,
    updated_at_column,
)


class Pod(Base):
    """A region the central server knows, and where its local server answers."""

    __tablename__ = "pods"

    pod_id: Mapped[str] = id_column()
    region_name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    pod_az_name: Mapped[str] = mapped_column(sa.String(255), default="")
    az_name: Mapped[str] = mapped_column(sa.String(255), default="")
    dc_name: Mapped[str] = mapped_column(sa.String(255), default="")
    endpoint: Mapped[str] = mapped_column(sa.String(255), default="")


class ResourceRouting(Base):
    """Which local resource of which region a central resource is (top -> bottom)."""

    __tablename__ = "resource_routings"
    __table_args__ = (sa.UniqueConstraint("top_id", "pod_id", "resource_type",
                                          name="uniq_resource_routings0top0pod0type"),)

    id: Mapped[str] = id_column()
    top_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    bottom_id: Mapped[str] = mapped_column(sa.String(36))
    pod_id: Mapped[str] = mapped_column(cascade_fk("pods.pod_id"), index=True)
    resource_type: Mapped[str] = mapped_column(sa.String(64))
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime.datetime] = created_at_column()
    updated_at: Mapped[datetime.datetime] = updated_at_column()


class AsyncJob(Base):
    """Work across regions the central server runs in the background, and how it went."""

    __tablename__ = "async_jobs"

    id: Mapped[str] = id_column()
    type: Mapped[str] = mapped_column(sa.String(64))
    resource_id: Mapped[str] = mapped_column(sa.String(36), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="NEW", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime.datetime] = created_at_column()
    updated_at: Mapped[datetime.datetime] = updated_at_column()


class JobLock(Base):
    """Held while a job works on a resource: the key stops a second worker."""

    __tablename__ = "job_locks"

    resource_key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(36))
    created_at: Mapped[datetime.datetime] = created_at_column()
