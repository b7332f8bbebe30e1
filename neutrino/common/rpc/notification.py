"""Broadcast events: every listener bound to an event on the exchange gets it."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

from neutrino.common import wire
from neutrino.common.rpc import message, topology
from neutrino.common.rpc.consumer import Consumer, Delivery
from neutrino.common.rpc.publisher import Publisher

LOG = logging.getLogger(__name__)

DEFAULT_EXCHANGE = wire.NOTIFY_EXCHANGE
# A listener handles events one at a time, in order; this many wait on its side.
LISTENER_PREFETCH = 16


class Notifier:
    """Sends events to the listeners of ``exchange``; safe to share between threads."""

    def __init__(self, url: str, exchange: str = DEFAULT_EXCHANGE):
        self.exchange = exchange
        self._publisher = Publisher(
            url,
            f"{exchange}:notifier:{os.getpid()}",
            setup=functools.partial(topology.declare_notify_exchange, exchange=exchange),
        )

    def notify(self, event: str, **kwargs: Any) -> None:
        properties = pika.BasicProperties(content_type=message.CONTENT_TYPE)
        self._publisher.send(
            self.exchange, event, message.encode_request(event, kwargs), properties,
            what=f"event {event} to {self.exchange!r}",
        )

    def close(self) -> None:
        self._publisher.close()


class NotificationListener:
    """Calls ``endpoint.<event>(**kwargs)`` for each event it is bound to, in order of arrival.

    ``events=None`` binds every public method of ``endpoint``. Events sent while
    the listener is disconnected are lost: its queue goes with its connection.
    """

    def __init__(
        self,
        url: str,
        endpoint: object,
        exchange: str = DEFAULT_EXCHANGE,
        events: Iterable[str] | None = None,
    ):
        self.endpoint = endpoint
        self.exchange = exchange
        self.events = _events_to_bind(endpoint, events)
        self._consumer = Consumer(
            url,
            f"{exchange}:listener:{os.getpid()}",
            declare=self._declare,
            handle=self._handle,
            workers=1,
            prefetch=LISTENER_PREFETCH,
        )

    def start(self) -> None:
        self._consumer.start()

    def stop(self) -> None:
        self._consumer.stop()

    def _declare(self, channel: BlockingChannel) -> str:
        return topology.declare_listener_queue(channel, self.exchange, self.events)

    def _handle(self, delivery: Delivery) -> None:
        try:
            event, kwargs = message.decode_request(delivery.body)
            if event not in self.events:
                raise message.NoSuchMethod(f"event {event!r} is not one this listener bound")
            message.find_handler(self.endpoint, event)(**kwargs)
        except Exception:
            LOG.exception("%s: handling an event failed", self.exchange)


def _events_to_bind(endpoint: object, events: Iterable[str] | None) -> tuple[str, ...]:
    """The events to bind, checked now rather than when the first one arrives."""
    handlers = message.public_methods(endpoint)
    chosen = tuple(handlers if events is None else events)
    unknown = [event for event in chosen if event not in handlers]
    if unknown:
        raise ValueError(
            f"{type(endpoint).__name__} has no public method for event(s) {', '.join(unknown)}"
        )
    if not chosen:
        raise ValueError(f"no events to listen for on {type(endpoint).__name__}")
    return chosen
