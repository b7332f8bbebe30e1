"""Asynchronous jobs: the central server's work across regions, recorded in its database.

A change that concerns several regions (a port bound in one, to be
shadowed in the others) is queued as a job on the resource it is about.
Workers run jobs in the background: one job per resource at a time (a
lock row per resource, which the database keeps unique), each tried
``attempts`` times with a growing delay, then SUCCESS or FAIL with the
last error.  A failed job runs again when asked (``redo``) or with the
periodic redo, and is dropped once a later job on its resource succeeded.
Jobs are idempotent: they compare what each region has
with what it should have, so running one twice does no harm.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database
from neutrino.server.db.database import after_commit
from neutrino.server.lib import errors
from neutrino.server.plugins.regions.models import AsyncJob, JobLock

LOG = logging.getLogger(__name__)

NEW, RUNNING, SUCCESS, FAIL = "NEW", "RUNNING", "SUCCESS", "FAIL"
# The kinds of job the central server runs.
SHADOW_PORT_SETUP = "shadow_port_setup"
ROUTER_SETUP = "router_setup"
FLOATINGIP_SETUP = "floatingip_setup"
STATUSES = (NEW, RUNNING, SUCCESS, FAIL)
# Seconds an idle worker waits for a new job before it looks again anyway.
IDLE_WAIT = 1.0

Handler = Callable[[str], None]


def _key(job: AsyncJob) -> str:
    return f"{job.type}:{job.resource_id}"


class JobRunner:
    """Queues and runs jobs; ``handlers`` maps a job type to what does it."""

    def __init__(self, db: database.Database, handlers: dict[str, Handler], attempts: int,
                 retry_delay: float):
        self.db = db
        self.handlers = handlers
        self.attempts = attempts
        self.retry_delay = retry_delay
        self._wake = threading.Event()

    def recover(self) -> None:
        """At start: what a stopped server was running is queued again, its locks gone."""
        def work(session: Session) -> None:
            session.execute(sa.delete(JobLock))
            session.execute(sa.update(AsyncJob).where(
                AsyncJob.status == RUNNING).values(status=NEW))
        self.db.run(work)

    def enqueue(self, session: Session, job_type: str, resource_id: str,
                project_id: str = "") -> AsyncJob:
        """Queue a job in the caller's transaction; one already waiting for the
        resource does for both."""
        if job_type not in self.handlers:
            raise errors.invalid_input("type", f"{job_type!r} is not one of "
                                               f"{', '.join(self.handlers)}")
        waiting = session.scalar(sa.select(AsyncJob).where(
            AsyncJob.type == job_type, AsyncJob.resource_id == resource_id,
            AsyncJob.status == NEW))
        if waiting is not None:
            return waiting
        job = AsyncJob(type=job_type, resource_id=resource_id, project_id=project_id,
                              status=NEW)
        session.add(job)
        session.flush()
        after_commit(session, self._wake.set)
        return job

    def queue(self, job_type: str, resource_id: str, project_id: str = "") -> None:
        """``enqueue`` in a transaction of its own."""
        self.db.run(lambda session: self.enqueue(session, job_type, resource_id, project_id))

    def redo(self, session: Session, job: AsyncJob) -> None:
        if job.status != FAIL:
            raise errors.Conflict(f"Job {job.id} is {job.status}: only a failed job can be "
                                  "run again", "JobNotFailed")
        job.status = NEW
        job.last_error = ""
        after_commit(session, self._wake.set)

    def redo_failed(self) -> int:
        """Queue every failed job again (the periodic redo); how many there were."""
        def work(session: Session) -> int:
            failed = list(session.scalars(sa.select(AsyncJob).where(
                AsyncJob.status == FAIL)))
            for job in failed:
                self.redo(session, job)
            return len(failed)
        count = self.db.run(work)
        if count:
            LOG.info("%d failed job(s) queued again", count)
        return count

    # -- workers ---------------------------------------------------------------
    def work(self) -> None:
        """One round of a worker: wait for jobs a while, then run all it can claim."""
        self._wake.wait(IDLE_WAIT)
        self._wake.clear()
        while (claimed := self.db.run(self._claim)) is not None:
            self._run(*claimed)
            self.db.end_scope()

    def _claim(self, session: Session) -> tuple[str, str, str] | None:
        """The oldest waiting job whose resource no other job holds, now RUNNING."""
        waiting = session.scalars(sa.select(AsyncJob).where(
            AsyncJob.status == NEW).order_by(AsyncJob.created_at))
        for job in waiting:
            key = _key(job)
            if session.get(JobLock, key) is not None:
                continue
            # Two workers claiming at once both insert: the loser's transaction
            # fails on the key and runs again, and then sees the lock.
            session.add(JobLock(resource_key=key, job_id=job.id))
            job.status = RUNNING
            session.flush()
            return job.id, job.type, job.resource_id
        return None

    def _run(self, job_id: str, job_type: str, resource_id: str) -> None:
        error: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                self.handlers[job_type](resource_id)
                error = None
                break
            except Exception as failure:  # noqa: BLE001 - recorded with the job
                error = failure
                LOG.warning("job %s (%s of %s), attempt %d of %d failed: %s", job_id,
                            job_type, resource_id, attempt, self.attempts, failure)
                if attempt < self.attempts:
                    time.sleep(self.retry_delay * 2 ** (attempt - 1))
        self.db.run(lambda session: self._finish(session, job_id, attempt, error))
        # A job held back by this one's lock may run now.
        self._wake.set()

    @staticmethod
    def _finish(session: Session, job_id: str, attempts: int, error: Exception | None) -> None:
        job = session.get(AsyncJob, job_id)
        if job is None:
            return
        session.execute(sa.delete(JobLock).where(JobLock.job_id == job_id))
        job.attempts = (job.attempts or 0) + attempts
        job.status = FAIL if error is not None else SUCCESS
        job.last_error = "" if error is None else str(error)[:2000]
        if error is not None:
            LOG.error("job %s (%s of %s) failed: %s", job.id, job.type, job.resource_id, error)
            return
        LOG.info("job %s (%s of %s) succeeded", job.id, job.type, job.resource_id)
        # Its work was all theirs (a job brings its resource's whole state about):
        # the resource's failed jobs before it are done with.
        superseded = session.scalars(sa.select(AsyncJob).where(
            AsyncJob.type == job.type, AsyncJob.resource_id == job.resource_id,
            AsyncJob.status == FAIL, AsyncJob.created_at <= job.created_at))
        for old in superseded:
            LOG.info("failed job %s is superseded by job %s", old.id, job.id)
            session.delete(old)
