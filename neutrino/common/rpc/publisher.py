"""Publishing from any thread through one connection, owned by an I/O thread."""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Callable

import pika
from pika.adapters.blocking_connection import BlockingChannel

from neutrino.common.rpc.connection import ConnectionThread
from neutrino.common.rpc.errors import RpcError

# How long cast and notify keep retrying before they give up with RpcError.
PUBLISH_TIMEOUT = 5.0


@dataclasses.dataclass(eq=False)
class Outgoing:
    """A message waiting for the I/O thread; ``sent`` is set once the broker has it."""

    exchange: str
    routing_key: str
    body: bytes
    properties: pika.BasicProperties
    sent: threading.Event = dataclasses.field(default_factory=threading.Event)
    cancelled: bool = False


class Publisher:
    """Queues messages from any thread; its I/O thread publishes them, reconnecting as needed.

    ``setup(channel)`` runs on every (re)connection, e.g. to declare and consume a reply queue.
    """

    def __init__(self, url: str, name: str, setup: Callable[[BlockingChannel], None] | None = None):
        # deque append and popleft are atomic; only the I/O thread pops.
        self._outbox: collections.deque[Outgoing] = collections.deque()
        self._extra_setup = setup
        self._link = ConnectionThread(url, name, setup=self._setup, on_pump=self._flush)
        self._link.start()

    @property
    def name(self) -> str:
        return self._link.name

    @property
    def last_error(self) -> str:
        return self._link.last_error

    def submit(self, exchange: str, routing_key: str, body: bytes,
               properties: pika.BasicProperties) -> Outgoing:
        if self._link.stopped:
            raise RpcError(f"{self.name}: closed")
        message = Outgoing(exchange, routing_key, body, properties)
        self._outbox.append(message)
        # If the connection is down, the outbox is flushed right after reconnecting.
        self._link.wake()
        return message

    def send(self, exchange: str, routing_key: str, body: bytes,
             properties: pika.BasicProperties, what: str) -> None:
        """Publish and wait until the broker has the message; RpcError if it cannot."""
        message = self.submit(exchange, routing_key, body, properties)
        if not message.sent.wait(PUBLISH_TIMEOUT):
            message.cancelled = True
            raise RpcError(
                f"{self.name}: {what} not published within {PUBLISH_TIMEOUT} s "
                f"(broker {self._link.broker}: {self.last_error})"
            )

    def close(self) -> None:
        self._link.stop()

    def _setup(self, channel: BlockingChannel) -> None:
        # With confirms a publish returns once the broker holds the message; one
        # lost with a dying connection stays in the outbox and goes out again on
        # the next connection (at least once) instead of vanishing.
        channel.confirm_delivery()
        if self._extra_setup:
            self._extra_setup(channel)

    def _flush(self, channel: BlockingChannel) -> None:
        while self._outbox:
            message = self._outbox[0]
            if not message.cancelled:
                channel.basic_publish(
                    message.exchange, message.routing_key, message.body, message.properties
                )
                message.sent.set()
            self._outbox.popleft()
