"""The calling side: requests to a topic's queue, replies on a queue of the client's own."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import uuid
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

from neutrino.common.rpc import message, topology
from neutrino.common.rpc.errors import RpcError, RpcTimeout
from neutrino.common.rpc.publisher import Publisher

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(eq=False)
class _PendingCall:
    method: str
    arrived: threading.Event = dataclasses.field(default_factory=threading.Event)
    body: bytes = b""
    error: RpcError | None = None


class RpcClient:
    """Calls and casts to the servers consuming ``topic``; safe to share between threads."""

    def __init__(self, url: str, topic: str):
        self.topic = topic
        # A name fixed for the client's life: after a reconnect the queue comes
        # back under the same name, so replies sent from then on still arrive.
        self.reply_queue = f"reply.{topic}.{uuid.uuid4().hex}"
        self._pending: dict[str, _PendingCall] = {}
        self._lock = threading.Lock()
        self._refusal = ""   # once calls were aborted, why every later call fails at once
        self._publisher = Publisher(url, f"{topic}:client:{os.getpid()}", setup=self._setup)

    def call(self, method: str, timeout: float = 30.0, **kwargs: Any) -> Any:
        """``method(**kwargs)`` on one server; its JSON result, or RemoteError if it raised."""
        correlation_id = uuid.uuid4().hex
        pending = _PendingCall(method)
        with self._lock:
            if self._refusal:
                raise RpcError(f"{self._refusal}: call {method} not sent")
            self._pending[correlation_id] = pending
        properties = pika.BasicProperties(
            content_type=message.CONTENT_TYPE,
            correlation_id=correlation_id,
            reply_to=self.reply_queue,
            # A request nobody took in time is dropped, not handled for a caller long gone.
            expiration=str(max(0, int(timeout * 1000))),
        )
        try:
            request = self._publisher.submit(
                "", self.topic, message.encode_request(method, kwargs), properties
            )
            if not pending.arrived.wait(timeout):
                request.cancelled = True
                raise RpcTimeout(self._timeout_reason(method, timeout, request.sent.is_set()))
        finally:
            with self._lock:
                self._pending.pop(correlation_id, None)
        if pending.error:
            raise pending.error
        return message.decode_reply(pending.body)

    def cast(self, method: str, **kwargs: Any) -> None:
        """``method(**kwargs)`` on one server, without waiting for it to run."""
        properties = pika.BasicProperties(content_type=message.CONTENT_TYPE)
        self._publisher.send(
            "", self.topic, message.encode_request(method, kwargs), properties,
            what=f"cast {method} to {self.topic!r}",
        )

    def close(self) -> None:
        self._publisher.close()
        self.abort_calls(f"client of {self.topic!r} closed")

    def abort_calls(self, reason: str) -> None:
        """Make every call in progress, and every later one, raise RpcError at once."""
        with self._lock:
            self._refusal = reason
            pending, self._pending = list(self._pending.values()), {}
        for call in pending:
            call.error = RpcError(f"{reason} during call {call.method}")
            call.arrived.set()

    def abort_calls_soon(self, reason: str) -> None:
        """abort_calls from a thread of its own: safe in a signal handler, which
        may have interrupted this very thread while it held the lock."""
        threading.Thread(target=self.abort_calls, args=(reason,), name="rpc-abort",
                         daemon=True).start()

    def _timeout_reason(self, method: str, timeout: float, sent: bool) -> str:
        reason = f"no reply to {method} from topic {self.topic!r} within {timeout} s"
        if not sent:
            reason += f"; the request was never published ({self._publisher.last_error})"
        return reason

    def _setup(self, channel: BlockingChannel) -> None:
        topology.declare_topic_queue(channel, self.topic)
        channel.queue_declare(self.reply_queue, exclusive=True, auto_delete=True)
        channel.basic_consume(self.reply_queue, self._on_reply, auto_ack=True)

    def _on_reply(self, channel, deliver, properties, body: bytes) -> None:
        with self._lock:
            pending = self._pending.get(properties.correlation_id)
        if pending is None:
            LOG.debug("%s: dropping a reply nobody waits for any more", self.topic)
            return
        pending.body = body
        pending.arrived.set()
