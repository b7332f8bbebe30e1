"""The database wrapper: retried transactions, nesting, engine choices."""

from __future__ import annotations

import sqlalchemy as sa
import testtools
from sqlalchemy import exc

from neutrino.server.db import database, models
from tests.unit import test_server_support as support


def _integrity_error():
    return exc.IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed"))


class TestRun(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.db = self.useFixture(support.SqliteDatabase()).db

    def _count_networks(self):
        return self.db.run(lambda s: s.scalar(sa.select(sa.func.count()).select_from(
            models.Network)))

    def test_a_lost_race_is_run_again(self):
        attempts = []

        def work(session):
            attempts.append(1)
            session.add(models.Network(name=f"try-{len(attempts)}"))
            session.flush()
            if len(attempts) < 3:
                raise _integrity_error()
            return "done"

        self.assertEqual("done", self.db.run(work))
        self.assertEqual(3, len(attempts))
        # The failed attempts were rolled back: only the last one's row is there.
        self.assertEqual(1, self._count_networks())

    def test_gives_up_after_max_attempts(self):
        self.db.max_attempts = 2
        attempts = []

        def work(session):
            attempts.append(1)
            raise _integrity_error()

        self.assertRaises(exc.IntegrityError, self.db.run, work)
        self.assertEqual(2, len(attempts))

    def test_other_errors_are_not_retried(self):
        attempts = []

        def work(session):
            attempts.append(1)
            raise exc.OperationalError("SELECT", {}, Exception("no such table: x"))

        self.assertRaises(exc.OperationalError, self.db.run, work)
        self.assertEqual(1, len(attempts))

    def test_nested_run_joins_the_outer_transaction(self):
        def outer(session):
            self.db.run(lambda inner: inner.add(models.Network(name="inner")))
            raise RuntimeError("outer fails after the inner work")

        self.assertRaises(RuntimeError, self.db.run, outer)
        self.assertEqual(0, self._count_networks())


class TestRetryable(testtools.TestCase):
    def test_mysql_deadlock_and_sqlite_lock_are_retryable(self):
        deadlock = exc.OperationalError("UPDATE", {}, Exception(1213, "Deadlock found"))
        locked = exc.OperationalError("INSERT", {}, Exception("database is locked"))
        gone = exc.OperationalError("SELECT", {}, Exception(2006, "MySQL server has gone away"))
        self.assertEqual((True, True, False, True),
                         tuple(database.is_retryable(e)
                               for e in (deadlock, locked, gone, _integrity_error())))


class TestEngine(testtools.TestCase):
    def test_in_memory_sqlite_is_refused_with_advice(self):
        for url in ("sqlite://", "sqlite:///:memory:"):
            error = self.assertRaises(ValueError, database.Database, url)
            self.assertIn("sqlite:////path/to/file.db", str(error))
