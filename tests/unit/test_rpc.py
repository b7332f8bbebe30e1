"""The parts of neutrino's RPC that need no broker: wire format, dispatch, backoff, pool."""

from __future__ import annotations

import logging
import pickle
import threading

import fixtures
import testtools

from neutrino.common import rpc
from neutrino.common.rpc import connection, message, workers


class Endpoint:
    greeting = "not callable"

    def get_device_details(self, device):
        return {"device": device}

    def _internal(self):
        return "private"


class TestWireFormat(testtools.TestCase):
    def test_request_round_trip(self):
        body = message.encode_request("update_port", {"port_id": "p1", "up": True})
        self.assertEqual(("update_port", {"port_id": "p1", "up": True}),
                         message.decode_request(body))

    def test_request_without_kwargs_gets_empty_kwargs(self):
        self.assertEqual(("ping", {}), message.decode_request(b'{"method": "ping"}'))

    def test_malformed_requests_are_rejected(self):
        for body in (b"not json", b"[1, 2]", b'{"kwargs": {}}', b'{"method": "m", "kwargs": []}',
                     b"\xff\xfe"):
            self.assertRaises(message.MalformedMessage, message.decode_request, body)

    def test_result_round_trip(self):
        result = {"ports": [{"id": "p1", "fixed_ips": ["10.0.0.3"]}], "count": 1}
        self.assertEqual(result, message.decode_reply(message.encode_result(result)))

    def test_none_result_round_trip(self):
        self.assertIsNone(message.decode_reply(message.encode_result(None)))

    def test_error_reply_raises_remote_error(self):
        body = message.encode_error(KeyError("network n1"))
        error = self.assertRaises(rpc.RemoteError, message.decode_reply, body)
        self.assertEqual("KeyError", error.exc_type)
        self.assertEqual("'network n1'", error.message)

    def test_unserializable_result_becomes_an_error_reply(self):
        error = self.assertRaises(rpc.RemoteError, message.decode_reply,
                                  message.encode_result({"when": object()}))
        self.assertEqual("TypeError", error.exc_type)
        self.assertIn("not JSON serializable", error.message)


class TestDispatch(testtools.TestCase):
    def test_public_method_is_found(self):
        handler = message.find_handler(Endpoint(), "get_device_details")
        self.assertEqual({"device": "d1"}, handler(device="d1"))

    def test_private_missing_and_non_callable_names_are_no_such_method(self):
        for name in ("_internal", "__init__", "missing", "greeting"):
            error = self.assertRaises(message.NoSuchMethod, message.find_handler, Endpoint(), name)
            self.assertIn(repr(name), str(error))

    def test_no_such_method_is_reported_under_its_name(self):
        error = self.assertRaises(message.NoSuchMethod, message.find_handler, Endpoint(), "x")
        remote = self.assertRaises(rpc.RemoteError, message.decode_reply,
                                   message.encode_error(error))
        self.assertEqual("NoSuchMethod", remote.exc_type)

    def test_public_methods(self):
        self.assertEqual(["get_device_details"], message.public_methods(Endpoint()))

    def test_listener_rejects_events_the_endpoint_cannot_handle(self):
        url = "amqp://u:p@127.0.0.1:5672/v"
        error = self.assertRaises(ValueError, rpc.NotificationListener, url, Endpoint(),
                                  events=["get_device_details", "port_delete"])
        self.assertIn("port_delete", str(error))
        self.assertRaises(ValueError, rpc.NotificationListener, url, object())


class TestErrors(testtools.TestCase):
    def test_hierarchy(self):
        self.assertTrue(issubclass(rpc.RpcTimeout, rpc.RpcError))
        self.assertTrue(issubclass(rpc.RemoteError, rpc.RpcError))

    def test_remote_error_text_and_pickling(self):
        error = rpc.RemoteError("ValueError", "bad cidr")
        self.assertEqual("ValueError: bad cidr", str(error))
        self.assertEqual("NoSuchMethod", str(rpc.RemoteError("NoSuchMethod")))
        copy = pickle.loads(pickle.dumps(error))
        self.assertEqual(("ValueError", "bad cidr"), (copy.exc_type, copy.message))


class TestConnectionParameters(testtools.TestCase):
    def test_quoted_url_and_connection_name(self):
        url = "amqp://fullstack.rt1a%2Fb:p%40ss%3A1@240.1.2.1:5673/fullstack.rt1ab"
        params = connection.parameters(url, "q-plugin:server:42")
        self.assertEqual(("240.1.2.1", 5673), (params.host, params.port))
        self.assertEqual("fullstack.rt1ab", params.virtual_host)
        self.assertEqual("fullstack.rt1a/b", params.credentials.username)
        self.assertEqual("p@ss:1", params.credentials.password)
        self.assertEqual("q-plugin:server:42", params.client_properties["connection_name"])
        self.assertEqual(1, params.connection_attempts)
        self.assertEqual(connection.HEARTBEAT, params.heartbeat)

    def test_backoff_doubles_up_to_its_cap_and_resets(self):
        backoff = connection.Backoff(first=0.1, cap=2.0)
        delays = [backoff.next_delay() for _ in range(7)]
        self.assertEqual([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0], [round(d, 3) for d in delays])
        backoff.reset()
        self.assertEqual(0.1, backoff.next_delay())


class TestWorkerPool(testtools.TestCase):
    def _pool(self, size):
        pool = workers.WorkerPool(size, "test-pool")
        self.addCleanup(pool.stop)
        pool.start()
        return pool

    def test_one_worker_keeps_order_and_survives_a_failing_task(self):
        log = self.useFixture(fixtures.FakeLogger(name=workers.__name__, level=logging.ERROR))
        pool = self._pool(1)
        done = threading.Event()
        seen: list[int] = []
        pool.submit(lambda: seen.append(1))
        pool.submit(lambda: 1 / 0)
        pool.submit(lambda: seen.append(2))
        pool.submit(done.set)
        self.assertTrue(done.wait(5), "tasks after a failing one never ran")
        self.assertEqual([1, 2], seen)
        self.assertIn("ZeroDivisionError", log.output)

    def test_stop_joins_idle_workers(self):
        pool = self._pool(3)
        pool.stop(timeout=1.0)
        self.assertFalse(any(thread.is_alive() for thread in pool._threads))

    def test_size_must_be_positive(self):
        self.assertRaises(ValueError, workers.WorkerPool, 0, "empty")
