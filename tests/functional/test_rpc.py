"""neutrino's RPC against the real RabbitMQ, in a vhost of the test's own."""

from __future__ import annotations

import logging
import os
import random
import socket
import string
import threading
import time

import fixtures
import testtools

from fullstack import prerequisites
from fullstack.resources import rabbitmq
from fullstack.wait import wait_until_true
from neutrino.common import rpc
from neutrino.common.rpc import publisher

TOPIC = "q-plugin"
PID = os.getpid()


def unique_prefix() -> str:
    return "rt" + "".join(random.choices(string.ascii_lowercase + string.digits, k=4))


def closed_port() -> int:
    """A local TCP port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """An RPC endpoint that remembers what it was asked to do."""

    def __init__(self):
        self.calls: list[object] = []
        self.blocked = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def add(self, a, b):
        return a + b

    def echo(self, **kwargs):
        return kwargs

    def fail(self, message):
        raise ValueError(message)

    def record(self, value):
        with self._lock:
            self.calls.append(value)
        return value

    def block(self):
        self.blocked.set()
        self.release.wait(10)
        return "released"

    def _secret(self):
        return "never reachable over RPC"


class PortEvents:
    """A notification endpoint that records the events it got, in order."""

    def __init__(self):
        self.received: list[tuple[str, str]] = []

    def port_update(self, port_id):
        self.received.append(("port_update", port_id))

    def network_delete(self, network_id):
        self.received.append(("network_delete", network_id))


class RpcTestCase(testtools.TestCase):
    def setUp(self):
        super().setUp()
        admin_url = prerequisites.Settings.from_environment().rabbit_admin_url
        self.vhost = self.useFixture(rabbitmq.RabbitmqVhost(admin_url, unique_prefix()))
        self.url = self.vhost.transport_url()
        self.log = self.useFixture(
            fixtures.FakeLogger(name="neutrino.common.rpc", level=logging.INFO)
        )
        self.useFixture(fixtures.FakeLogger(name="pika", level=logging.WARNING))

    def server(self, endpoint, topic=TOPIC, workers=4):
        server = rpc.RpcServer(self.url, topic, endpoint, workers=workers)
        self.addCleanup(server.stop)
        server.start()
        return server

    def client(self, topic=TOPIC):
        client = rpc.RpcClient(self.url, topic)
        self.addCleanup(client.close)
        return client

    def listener(self, endpoint, events=None):
        listener = rpc.NotificationListener(self.url, endpoint, events=events)
        self.addCleanup(listener.stop)
        listener.start()
        return listener

    def notifier(self):
        notifier = rpc.Notifier(self.url)
        self.addCleanup(notifier.close)
        return notifier


class TestCalls(RpcTestCase):
    def test_call_passes_kwargs_and_returns_the_json_result(self):
        self.server(Recorder())
        client = self.client()
        self.assertEqual(5, client.call("add", a=2, b=3))
        kwargs = {"port": {"id": "p1", "fixed_ips": [{"ip": "10.0.0.3"}]}, "up": True, "n": None}
        self.assertEqual(kwargs, client.call("echo", **kwargs))

    def test_remote_error_carries_type_and_message(self):
        self.server(Recorder())
        client = self.client()
        error = self.assertRaises(rpc.RemoteError, client.call, "fail", message="no such port")
        self.assertEqual("ValueError", error.exc_type)
        self.assertEqual("no such port", error.message)
        self.assertEqual(3, client.call("add", a=1, b=2), "server died with its handler")

    def test_unknown_or_private_method_is_no_such_method(self):
        self.server(Recorder())
        client = self.client()
        for method in ("no_such_thing", "_secret"):
            error = self.assertRaises(rpc.RemoteError, client.call, method)
            self.assertEqual("NoSuchMethod", error.exc_type)
            self.assertIn(method, error.message)

    def test_call_times_out_when_no_server_consumes(self):
        client = self.client(topic="q-nobody")
        start = time.monotonic()
        self.assertRaises(rpc.RpcTimeout, client.call, "add", timeout=1.0, a=1, b=2)
        self.assertGreaterEqual(time.monotonic() - start, 1.0)
        self.assertLess(time.monotonic() - start, 2.0)

    def test_aborted_calls_fail_at_once_and_so_do_later_ones(self):
        client = self.client(topic="q-nobody")
        outcome: list[BaseException] = []

        def call() -> None:
            try:
                client.call("add", timeout=60.0, a=1, b=2)
            except rpc.RpcError as exc:
                outcome.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        wait_until_true(lambda: bool(client._pending), timeout=10, sleep=0.01)
        client.abort_calls_soon("the agent is stopping")
        caller.join(10)   # far less than the call's own 60 s
        self.assertFalse(caller.is_alive())
        self.assertNotIsInstance(outcome[0], rpc.RpcTimeout)
        self.assertIn("the agent is stopping during call add", str(outcome[0]))
        error = self.assertRaises(rpc.RpcError, client.call, "add", timeout=60.0, a=1, b=2)
        self.assertIn("not sent", str(error))

    def test_cast_runs_the_method(self):
        endpoint = Recorder()
        self.server(endpoint)
        client = self.client()
        self.assertIsNone(client.cast("record", value=7))
        wait_until_true(lambda: endpoint.calls == [7], timeout=5,
                        exception=lambda: f"cast record(value=7) not handled: calls "
                                          f"{endpoint.calls}")

    def test_competing_servers_handle_each_call_once(self):
        first, second = Recorder(), Recorder()
        self.server(first)
        self.server(second)
        client = self.client()
        for value in range(20):
            self.assertEqual(value, client.call("record", value=value))
        self.assertEqual(list(range(20)), sorted(first.calls + second.calls))
        self.assertTrue(first.calls and second.calls, "one server got every call")

    def test_concurrent_callers_each_get_their_own_replies(self):
        self.server(Recorder())
        client = self.client()
        results: dict[int, list] = {}
        errors: list[Exception] = []

        def caller(n):
            try:
                results[n] = [client.call("echo", caller=n, i=i, timeout=10) for i in range(5)]
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
        self.assertEqual([], errors)
        expected = {n: [{"caller": n, "i": i} for i in range(5)] for n in range(8)}
        self.assertEqual(expected, results)

    def test_slow_handler_does_not_hold_up_other_calls(self):
        endpoint = Recorder()
        self.server(endpoint, workers=2)
        self.addCleanup(endpoint.release.set)  # before stopping the server
        client = self.client()
        client.cast("block")
        wait_until_true(endpoint.blocked.is_set, timeout=5, exception="block() never started")
        start = time.monotonic()
        self.assertEqual(5, client.call("add", a=2, b=3, timeout=5))
        self.assertLess(time.monotonic() - start, 1.0)


class TestStop(RpcTestCase):
    def setUp(self):
        super().setUp()
        self.threads_before = set(threading.enumerate())

    def _threads_named(self, name):
        """This test's live threads with ``name`` in their name (not earlier tests')."""
        new = set(threading.enumerate()) - self.threads_before
        return [thread.name for thread in new if name in thread.name]

    def test_stop_joins_its_threads(self):
        server = self.server(Recorder())
        self.assertEqual(3, self.client().call("add", a=1, b=2))
        name = f"{TOPIC}:server:{PID}"
        self.assertNotEqual([], self._threads_named(name))
        start = time.monotonic()
        server.stop()
        self.assertLess(time.monotonic() - start, 2.0)
        self.assertEqual([], self._threads_named(name))

    def test_stop_is_prompt_while_a_handler_runs(self):
        endpoint = Recorder()
        self.addCleanup(endpoint.release.set)
        server = self.server(endpoint)
        self.client().cast("block")
        wait_until_true(endpoint.blocked.is_set, timeout=5, exception="block() never started")
        start = time.monotonic()
        server.stop()
        self.assertLess(time.monotonic() - start, 2.0)
        self.assertEqual([], self._threads_named(f"rpc:{TOPIC}:server:{PID}"))
        # The handler it could not wait for still ends cleanly once released.
        endpoint.release.set()
        wait_until_true(lambda: not self._threads_named(f"{TOPIC}:server:{PID}"), timeout=5,
                        exception="a released handler's worker thread did not end")
        self.assertIn("connection lost before a reply or ack", self.log.output)


class TestNotifications(RpcTestCase):
    def test_listeners_get_only_the_events_they_bound(self):
        everything, ports_only = PortEvents(), PortEvents()
        self.listener(everything)
        self.listener(ports_only, events=["port_update"])
        notifier = self.notifier()
        notifier.notify("port_update", port_id="p1")
        notifier.notify("network_delete", network_id="n1")
        notifier.notify("port_update", port_id="p2")
        wait_until_true(
            lambda: len(everything.received) == 3 and len(ports_only.received) == 2,
            timeout=5,
            exception=lambda: f"events missing: {everything.received} / {ports_only.received}",
        )
        self.assertEqual(
            [("port_update", "p1"), ("network_delete", "n1"), ("port_update", "p2")],
            everything.received,
        )
        # One queue is FIFO: a wrongly routed network_delete would sit before p2.
        self.assertEqual([("port_update", "p1"), ("port_update", "p2")], ports_only.received)


class TestReconnect(RpcTestCase):
    def _connection_names(self):
        connections = self.vhost.api.connections(self.vhost.vhost)
        return sorted(c["client_properties"].get("connection_name", "?") for c in connections)

    def _reconnected(self):
        marker = ": reconnected to "
        lines = self.log.output.splitlines()
        return sorted(line.split(marker)[0] for line in lines if marker in line)

    def _answers(self, client):
        try:
            return client.call("add", a=20, b=22, timeout=1.0) == 42
        except rpc.RpcTimeout:
            return False

    def _notified(self, notifier, events):
        notifier.notify("port_update", port_id="after-close")
        return ("port_update", "after-close") in events.received

    def test_everything_reconnects_after_the_broker_closes_connections(self):
        endpoint, events = Recorder(), PortEvents()
        self.addCleanup(endpoint.release.set)
        self.server(endpoint)
        client = self.client()
        self.listener(events)
        notifier = self.notifier()
        expected = sorted([f"{TOPIC}:server:{PID}", f"{TOPIC}:client:{PID}",
                           f"neutrino-notify:listener:{PID}", f"neutrino-notify:notifier:{PID}"])
        # The management API lists a connection after its next statistics round (~5 s).
        wait_until_true(lambda: self._connection_names() == expected, timeout=15,
                        exception=f"expected connections {expected} not all listed")

        in_flight: dict[str, object] = {}
        caller = threading.Thread(target=self._call_block, args=(client, in_flight))
        caller.start()
        wait_until_true(endpoint.blocked.is_set, timeout=5, exception="block() never started")
        for connection in self.vhost.api.connections(self.vhost.vhost):
            self.vhost.api.close_connection(connection["name"])

        wait_until_true(lambda: self._answers(client), timeout=15, sleep=0,
                        exception="calls still unanswered 15 s after the connections closed")
        wait_until_true(lambda: self._notified(notifier, events), timeout=15, sleep=0.2,
                        exception="no notification delivered 15 s after the connections closed")
        self.assertEqual(expected, self._reconnected())
        self.assertIn("CONNECTION_FORCED", self.log.output)

        # The call in flight was redelivered to the reconnected server; its reply
        # reaches the client's re-declared reply queue.
        endpoint.release.set()
        caller.join(10)
        self.assertEqual({"result": "released"}, in_flight)

    @staticmethod
    def _call_block(client, outcome):
        try:
            outcome["result"] = client.call("block", timeout=8.0)
        except rpc.RpcError as exc:
            outcome["error"] = exc


class TestUnreachableBroker(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.log = self.useFixture(
            fixtures.FakeLogger(name="neutrino.common.rpc", level=logging.INFO)
        )
        self.useFixture(fixtures.FakeLogger(name="pika", level=logging.WARNING))
        self.useFixture(fixtures.MockPatchObject(publisher, "PUBLISH_TIMEOUT", 0.5))
        self.client = rpc.RpcClient(f"amqp://guest:guest@127.0.0.1:{closed_port()}/%2F", TOPIC)
        self.addCleanup(self.client.close)

    def test_call_times_out_at_its_deadline(self):
        start = time.monotonic()
        error = self.assertRaises(rpc.RpcTimeout, self.client.call, "add", timeout=1.0, a=1, b=2)
        self.assertLess(time.monotonic() - start, 2.0)
        self.assertIn("never published", str(error))

    def test_cast_gives_up_with_rpc_error(self):
        error = self.assertRaises(rpc.RpcError, self.client.cast, "record", value=1)
        self.assertIn("not published", str(error))
        self.assertIn("reconnecting", self.log.output)
