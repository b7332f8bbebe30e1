"""The database connection: engine, per-thread sessions and retried transactions."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from neutrino.server.db import models
from neutrino.server.lib import errors

LOG = logging.getLogger(__name__)
T = TypeVar("T")

# Where a transaction's session keeps what is to run once it has committed.
_AFTER_COMMIT = "neutrino.after_commit"

# Which attempt of its transaction a session is in (1 until a race is lost).
_ATTEMPT = "neutrino.attempt"

# MySQL error codes worth another try: deadlock found, lock wait timeout.
_MYSQL_RETRY_CODES = {1213, 1205}
# MySQL client errors of a server out of reach: no socket, cannot connect,
# server gone away, connection lost during a query.
_MYSQL_GONE_CODES = {2002, 2003, 2006, 2013}


def attempt(session: Session) -> int:
    """1 for a transaction's first run, then 2, 3, ... for each retry after a lost race."""
    return int(session.info.get(_ATTEMPT, 1))


def is_unavailable(error: BaseException) -> bool:
    """True when the database server cannot be reached: down, restarting, or the
    connection dropped under a query (the request is then a 503, not a 500)."""
    if not isinstance(error, (exc.OperationalError, exc.InterfaceError)):
        return False
    if error.connection_invalidated:
        return True
    orig = error.orig
    code = orig.args[0] if orig is not None and orig.args else None
    return code in _MYSQL_GONE_CODES


def is_retryable(error: BaseException) -> bool:
    """True for errors a concurrent transaction caused: a lost race for a key,
    a deadlock, a lock that was busy. Running the work again then succeeds or
    fails with the proper API error from the work's own checks."""
    if isinstance(error, exc.IntegrityError):
        return True
    if isinstance(error, exc.OperationalError):
        orig = error.orig
        code = orig.args[0] if orig is not None and orig.args else None
        return code in _MYSQL_RETRY_CODES or "database is locked" in str(orig)
    return False


def _make_engine(url: str) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, pool_recycle=3600)
    if parsed.database in (None, "", ":memory:"):
        raise ValueError(f"[database] connection {url!r} is an in-memory SQLite database, "
                         "which the API and RPC threads cannot share: use "
                         "sqlite:////path/to/file.db")
    engine = sa.create_engine(url, pool_pre_ping=True,
                              connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front: SQLite then runs writers
        # one after another instead of failing one of two that read first.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the transaction of ``session`` has committed.

    Callbacks run in the order they were queued, after the commit and in the
    caller's thread; a transaction that fails or is retried drops them.
    What they raise is logged: the change is committed and stays.
    """
    queued = session.info.get(_AFTER_COMMIT)
    if queued is None:
        raise RuntimeError("after_commit needs a transaction of Database.run")
    queued.append(callback)


def _run_after_commit(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - see after_commit
            LOG.exception("after-commit callback %s failed",
                          getattr(callback, "__qualname__", callback))


class Database:
    """One engine and a thread-local session for each request or RPC call."""

    def __init__(self, url: str, max_attempts: int = 20):
        self.engine = _make_engine(url)
        # Work returns plain dicts built inside the transaction; expiring on
        # commit makes the next transaction of this session read fresh rows.
        self._sessions = scoped_session(sessionmaker(self.engine, expire_on_commit=True))
        self.max_attempts = max_attempts

    def create_schema(self) -> None:
        models.Base.metadata.create_all(self.engine)

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in one transaction, again on a lost race.

        ``work`` must be safe to repeat: it does its own reads and checks, so
        a retry sees what the winning transaction committed. Called from
        inside another ``run``, it joins that transaction instead.
        """
        session = self._sessions()
        if session.in_transaction():
            return work(session)
        for attempt in range(1, self.max_attempts + 1):
            # What an attempt that lost its race queued is dropped with it.
            session.info[_AFTER_COMMIT] = []
            session.info[_ATTEMPT] = attempt
            try:
                with session.begin():
                    result = work(session)
            except (exc.IntegrityError, exc.OperationalError, exc.InterfaceError) as error:
                if is_unavailable(error):
                    LOG.warning("database unavailable: %s", error.orig)
                    raise errors.ServiceUnavailable(
                        f"The database is unavailable ({error.orig}); nothing was changed, "
                        "try again later.", "DatabaseUnavailable") from error
                if not is_retryable(error) or attempt == self.max_attempts:
                    raise
                LOG.debug("transaction attempt %d lost a race (%s), retrying",
                          attempt, error.orig)
                session.expunge_all()
                # Random backoff so that the racers do not collide again in step.
                time.sleep(random.uniform(0, min(0.5, 0.005 * 2 ** attempt)))
                continue
            finally:
                callbacks = session.info.pop(_AFTER_COMMIT, [])
                session.info.pop(_ATTEMPT, None)
            _run_after_commit(callbacks)
            return result
        raise AssertionError("unreachable")

    def list_all(self, model: type[models.Base],
                 to_dict: Callable[[Session, Any], dict[str, Any]]) -> list[dict[str, Any]]:
        """Every row of ``model``, oldest first, each as ``to_dict(session, row)`` shows it."""
        def work(session: Session) -> list[dict[str, Any]]:
            query = sa.select(model).order_by(model.created_at)  # type: ignore[attr-defined]
            return [to_dict(session, row) for row in session.scalars(query)]
        return self.run(work)

    def end_scope(self) -> None:
        """Forget this thread's session; call when a request or RPC call ends."""
        self._sessions.remove()

    def dispose(self) -> None:
        self._sessions.remove()
        self.engine.dispose()
