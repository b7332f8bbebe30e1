"""The event registry, the after-commit queue, and the RPC endpoint dispatcher."""

from __future__ import annotations

import fixtures
import sqlalchemy as sa
import testtools
from sqlalchemy import exc

from neutrino.server.db import database, models
from neutrino.server.lib import errors, events
from neutrino.server.rpc.dispatch import Endpoints
from tests.unit import test_server_support as support


class TestRegistry(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.registry = events.Registry()
        self.calls = []

    def subscriber(self, name, fail=None):
        def callback(payload):
            self.calls.append((name, payload.resource_id))
            if fail is not None:
                raise fail
        return callback

    def test_subscribers_run_in_order_for_their_resource_and_event_only(self):
        self.registry.subscribe(self.subscriber("a"), events.PORT, events.AFTER_CREATE)
        self.registry.subscribe(self.subscriber("b"), events.PORT, events.AFTER_CREATE)
        self.registry.subscribe(self.subscriber("other"), events.PORT, events.AFTER_DELETE)
        self.registry.subscribe(self.subscriber("net"), events.NETWORK, events.AFTER_CREATE)
        self.registry.publish(events.PORT, events.AFTER_CREATE, events.Payload("p1"))
        self.assertEqual([("a", "p1"), ("b", "p1")], self.calls)

    def test_a_before_subscriber_refuses_by_raising(self):
        refusal = errors.Conflict("in use", "ServicePortInUse")
        self.registry.subscribe(self.subscriber("guard", refusal), events.PORT,
                                events.BEFORE_DELETE)
        self.registry.subscribe(self.subscriber("later"), events.PORT, events.BEFORE_DELETE)
        raised = self.assertRaises(errors.Conflict, self.registry.publish, events.PORT,
                                   events.BEFORE_DELETE, events.Payload("p1"))
        self.assertIs(refusal, raised)
        self.assertEqual([("guard", "p1")], self.calls)

    def test_a_failing_after_subscriber_is_logged_and_the_rest_still_run(self):
        logger = self.useFixture(fixtures.FakeLogger())
        self.registry.subscribe(self.subscriber("broken", RuntimeError("boom")), events.PORT,
                                events.AFTER_DELETE)
        self.registry.subscribe(self.subscriber("fine"), events.PORT, events.AFTER_DELETE)
        self.registry.publish(events.PORT, events.AFTER_DELETE, events.Payload("p1"))
        self.assertEqual([("broken", "p1"), ("fine", "p1")], self.calls)
        self.assertIn("port after_delete subscriber", logger.output)
        self.assertIn("RuntimeError: boom", logger.output)


class TestAfterCommit(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        self.db = self.useFixture(support.SqliteDatabase()).db
        self.ran = []

    def add_network(self, session, name):
        session.add(models.Network(name=name))
        session.flush()

    def test_callbacks_run_in_order_once_committed(self):
        def work(session):
            self.add_network(session, "n")
            database.after_commit(session, lambda: self.ran.append(
                self.db.run(lambda s: s.scalar(sa.select(sa.func.count()).select_from(
                    models.Network)))))
            database.after_commit(session, lambda: self.ran.append("second"))
            self.assertEqual([], self.ran)
        self.db.run(work)
        # The first callback saw the committed row from a transaction of its own.
        self.assertEqual([1, "second"], self.ran)

    def test_a_failed_transaction_runs_none(self):
        def work(session):
            database.after_commit(session, lambda: self.ran.append("never"))
            raise errors.Conflict("refused")
        self.assertRaises(errors.Conflict, self.db.run, work)
        self.assertEqual([], self.ran)

    def test_a_retried_attempt_drops_what_it_queued(self):
        attempts = []

        def work(session):
            attempt = len(attempts) + 1
            attempts.append(attempt)
            database.after_commit(session, lambda: self.ran.append(attempt))
            if attempt == 1:
                raise exc.IntegrityError("INSERT", {}, Exception("lost a race"))
        self.db.run(work)
        self.assertEqual([1, 2], attempts)
        self.assertEqual([2], self.ran)

    def test_a_joined_transaction_queues_on_the_outer_one(self):
        def inner(session):
            database.after_commit(session, lambda: self.ran.append("inner"))

        def outer(session):
            self.db.run(inner)
            self.assertEqual([], self.ran)
        self.db.run(outer)
        self.assertEqual(["inner"], self.ran)

    def test_outside_a_transaction_it_refuses(self):
        session = self.db._sessions()
        self.assertRaises(RuntimeError, database.after_commit, session, lambda: None)


class L2:
    def report_state(self, agent_state):
        return "alive"

    def _helper(self):
        raise AssertionError("private methods are not RPC methods")


class L3:
    def sync_routers(self, host):
        return [host]


class TestEndpoints(testtools.TestCase):
    def test_finds_each_method_on_its_endpoint_and_ends_the_scope(self):
        ended = []
        endpoint = Endpoints([L2(), L3()], on_call_done=lambda: ended.append(True))
        self.assertEqual(["report_state", "sync_routers"], endpoint.methods)
        self.assertEqual(["host-1"], endpoint.sync_routers(host="host-1"))
        self.assertEqual("alive", endpoint.report_state(agent_state={}))
        self.assertEqual([True, True], ended)
        self.assertRaises(AttributeError, getattr, endpoint, "_helper")
        self.assertRaises(AttributeError, getattr, endpoint, "get_dhcp_port")

    def test_two_endpoints_with_one_method_are_refused(self):
        error = self.assertRaises(ValueError, Endpoints, [L3(), L3()], lambda: None)
        self.assertIn("'sync_routers' is served by both L3 and L3", str(error))
