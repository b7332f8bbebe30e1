"""The serving side: calls and casts on a topic dispatched to an endpoint's methods."""

from __future__ import annotations

import logging
import os

from pika.adapters.blocking_connection import BlockingChannel

from neutrino.common.rpc import message, topology
from neutrino.common.rpc.consumer import Consumer, Delivery

LOG = logging.getLogger(__name__)


class RpcServer:
    """Runs ``endpoint.m(**kwargs)`` for each call or cast of ``m`` on ``topic``.

    Several servers may consume one topic; each message is handled by one of them.
    """

    def __init__(self, url: str, topic: str, endpoint: object, workers: int = 4):
        self.topic = topic
        self.endpoint = endpoint
        self._consumer = Consumer(
            url,
            f"{topic}:server:{os.getpid()}",
            declare=self._declare,
            handle=self._handle,
            workers=workers,
            prefetch=workers,
        )

    def start(self) -> None:
        self._consumer.start()

    def stop(self) -> None:
        self._consumer.stop()

    def _declare(self, channel: BlockingChannel) -> str:
        return topology.declare_topic_queue(channel, self.topic)

    def _handle(self, delivery: Delivery) -> bytes:
        try:
            method, kwargs = message.decode_request(delivery.body)
        except message.MalformedMessage as exc:
            LOG.warning("%s: %s", self.topic, exc)
            return message.encode_error(exc)
        try:
            result = message.find_handler(self.endpoint, method)(**kwargs)
        except message.NoSuchMethod as exc:
            LOG.warning("%s: %s", self.topic, exc)
            return message.encode_error(exc)
        except Exception as exc:
            LOG.exception("%s: %s raised", self.topic, method)
            return message.encode_error(exc)
        return message.encode_result(result)
