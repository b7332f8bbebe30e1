"""Consuming one queue on a connection of its own, handling messages in a worker pool."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from neutrino.common.rpc import message
from neutrino.common.rpc.connection import ConnectionThread, call_soon
from neutrino.common.rpc.workers import WorkerPool

LOG = logging.getLogger(__name__)

START_TIMEOUT = 5.0
# Split of the 2 s stop() promise: handlers first, then the connection.
HANDLER_STOP_TIMEOUT = 1.0
CONNECTION_STOP_TIMEOUT = 0.8


@dataclasses.dataclass(frozen=True)
class Delivery:
    """A message and the connection and channel it came on (where it must be acked)."""

    connection: BlockingConnection
    channel: BlockingChannel
    tag: int
    properties: pika.BasicProperties
    body: bytes


class Consumer:
    """Consumes the queue ``declare(channel)`` returns; ``handle(delivery)`` gives the reply.

    Messages are acked after their handler ran, and the broker hands out at most
    ``prefetch`` unacked ones: competing consumers share the load, and the
    messages a consumer had not finished go to the others when it disconnects.
    """

    def __init__(
        self,
        url: str,
        name: str,
        declare: Callable[[BlockingChannel], str],
        handle: Callable[[Delivery], bytes | None],
        workers: int,
        prefetch: int,
    ):
        self.name = name
        self._declare = declare
        self._handle = handle
        self._prefetch = prefetch
        self._accepting = True
        self._pool = WorkerPool(workers, name)
        self._link = ConnectionThread(url, name, setup=self._setup)

    def start(self) -> None:
        """Start, and wait (boundedly) until consuming, so nothing sent next is missed."""
        self._pool.start()
        self._link.start()
        if not self._link.ready.wait(START_TIMEOUT):
            LOG.warning(
                "%s: not consuming after %.0f s (%s); still trying in the background",
                self.name, START_TIMEOUT, self._link.last_error,
            )

    def stop(self) -> None:
        # Unfinished messages stay unacked and return to the queue on disconnect.
        self._accepting = False
        self._pool.stop(HANDLER_STOP_TIMEOUT)
        self._link.stop(CONNECTION_STOP_TIMEOUT)

    def _setup(self, channel: BlockingChannel) -> None:
        channel.basic_qos(prefetch_count=self._prefetch)
        queue = self._declare(channel)
        channel.basic_consume(queue, self._on_message)

    def _on_message(self, channel: BlockingChannel, deliver, properties, body: bytes) -> None:
        if not self._accepting:
            return
        delivery = Delivery(channel.connection, channel, deliver.delivery_tag, properties, body)
        self._pool.submit(functools.partial(self._process, delivery))

    def _process(self, delivery: Delivery) -> None:
        if not delivery.channel.is_open:
            # The broker redelivers it, to us after reconnecting or to another consumer.
            LOG.info("%s: skipping a message from a lost connection", self.name)
            return
        reply = self._handle(delivery)
        if not call_soon(delivery.connection, functools.partial(self._finish, delivery, reply)):
            LOG.warning("%s: connection lost before a reply or ack could be sent", self.name)

    @staticmethod
    def _finish(delivery: Delivery, reply: bytes | None) -> None:
        """Runs on the connection's thread: the only one that may use the channel."""
        reply_to = delivery.properties.reply_to
        if reply is not None and reply_to:
            properties = pika.BasicProperties(
                content_type=message.CONTENT_TYPE,
                correlation_id=delivery.properties.correlation_id,
            )
            delivery.channel.basic_publish("", reply_to, reply, properties)
        delivery.channel.basic_ack(delivery.tag)
