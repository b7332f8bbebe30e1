"""A per-test RabbitMQ vhost and user, through the management HTTP API.

The management API creates a vhost in ~35 ms where ``rabbitmqctl`` needs
~550 ms per call, and it needs no Erlang start-up in the test process.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import fixtures
import pika

from fullstack import prerequisites

VHOST_STEM = "fullstack."
AMQP_PORT = 5672


class ManagementApi:
    """A tiny client of RabbitMQ's management API (admin account)."""

    def __init__(self, admin_url: str, timeout: float = 10.0):
        parsed = urllib.parse.urlsplit(admin_url)
        self.base = f"{parsed.scheme}://{parsed.hostname}:{parsed.port or 15672}/api"
        creds = f"{urllib.parse.unquote(parsed.username or '')}:" \
                f"{urllib.parse.unquote(parsed.password or '')}"
        self._auth = "Basic " + base64.b64encode(creds.encode()).decode()
        self.timeout = timeout

    def request(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", self._auth)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                payload = resp.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(
                f"RabbitMQ management API {method} {path}: {exc.code} {exc.read()[:200]!r}"
            ) from exc
        except OSError as exc:
            raise prerequisites.MissingPrerequisite(
                f"RabbitMQ management API at {self.base} unreachable ({exc})"
            ) from exc
        return json.loads(payload) if payload else None

    @staticmethod
    def quote(name: str) -> str:
        return urllib.parse.quote(name, safe="")

    def create_vhost(self, vhost: str) -> None:
        self.request("PUT", f"/vhosts/{self.quote(vhost)}", {})

    def delete_vhost(self, vhost: str) -> None:
        self._delete(f"/vhosts/{self.quote(vhost)}")

    def create_user(self, user: str, password: str) -> None:
        self.request("PUT", f"/users/{self.quote(user)}", {"password": password, "tags": ""})

    def delete_user(self, user: str) -> None:
        self._delete(f"/users/{self.quote(user)}")

    def grant_vhost(self, vhost: str, user: str) -> None:
        self.request(
            "PUT",
            f"/permissions/{self.quote(vhost)}/{self.quote(user)}",
            {"configure": ".*", "write": ".*", "read": ".*"},
        )

    def vhosts(self) -> list[str]:
        return [v["name"] for v in self.request("GET", "/vhosts")]

    def users(self) -> list[str]:
        return [u["name"] for u in self.request("GET", "/users")]

    def connections(self, vhost: str) -> list[dict]:
        return self.request("GET", f"/vhosts/{self.quote(vhost)}/connections")

    def declare_topic_queue(self, vhost: str, exchange: str, queue: str) -> None:
        """A topic exchange and a queue bound to it by its own name, as an RPC
        server declares them (transient, not auto-deleted, no arguments)."""
        vh = self.quote(vhost)
        self.request("PUT", f"/exchanges/{vh}/{self.quote(exchange)}",
                     {"type": "topic", "durable": False, "auto_delete": False})
        self.request("PUT", f"/queues/{vh}/{self.quote(queue)}",
                     {"durable": False, "auto_delete": False, "arguments": {}})
        self.request("POST", f"/bindings/{vh}/e/{self.quote(exchange)}/q/{self.quote(queue)}",
                     {"routing_key": queue})

    def close_connection(self, name: str) -> None:
        self._delete(f"/connections/{self.quote(name)}")

    def _delete(self, path: str) -> None:
        try:
            self.request("DELETE", path)
        except RuntimeError as exc:
            if ": 404 " not in str(exc):
                raise


class RabbitmqVhost(fixtures.Fixture):
    """A vhost named after the test's prefix and a user that reaches only it."""

    def __init__(self, admin_url: str, prefix: str, amqp_port: int = AMQP_PORT,
                 remove: bool = True):
        super().__init__()
        self.api = ManagementApi(admin_url)
        self.vhost = VHOST_STEM + prefix
        self.user = VHOST_STEM + prefix
        self.password = secrets.token_hex(12)
        self.amqp_port = amqp_port
        # False on a private node, which goes with its vhosts at cleanup.
        self.remove = remove

    def _setUp(self) -> None:
        self.api.create_vhost(self.vhost)
        if self.remove:
            self.addCleanup(self.api.delete_vhost, self.vhost)
        self.api.create_user(self.user, self.password)
        if self.remove:
            self.addCleanup(self.api.delete_user, self.user)
        self.api.grant_vhost(self.vhost, self.user)

    def queue_consumers(self, queue: str) -> int:
        """How many consumers ``queue`` has now; 0 while it does not exist.

        Asked over AMQP (a passive declare), which the broker answers from
        the queue itself: the management API's figure is a statistic,
        refreshed every 5 s, which made a server that consumed at once look
        busy for seconds more.
        """
        credentials = pika.PlainCredentials(self.user, self.password)
        params = pika.ConnectionParameters("127.0.0.1", self.amqp_port, self.vhost, credentials,
                                           connection_attempts=1, socket_timeout=10)
        with contextlib.closing(pika.BlockingConnection(params)) as connection:
            try:
                declared = connection.channel().queue_declare(queue, passive=True)
            except pika.exceptions.ChannelClosedByBroker as closed:
                if closed.reply_code == 404:
                    return 0
                raise
        return int(declared.method.consumer_count)

    def declare_topic_queue(self, exchange: str, queue: str) -> None:
        self.api.declare_topic_queue(self.vhost, exchange, queue)

    def transport_url(self, host: str = "127.0.0.1") -> str:
        """The AMQP URL agents and the server use, reaching RabbitMQ at ``host``."""
        q = urllib.parse.quote
        return (f"amqp://{q(self.user, safe='')}:{self.password}@{host}:{self.amqp_port}/"
                f"{q(self.vhost, safe='')}")
