"""A broker connection owned by one thread, which keeps it up until stopped.

pika's BlockingConnection is not thread-safe, so each connection lives on a
thread of its own; other threads reach it only through ``call_soon``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

LOG = logging.getLogger(__name__)

# Heartbeats stay on: the owning thread pumps its connection at least every
# PUMP_INTERVAL, so they are always serviced, and they detect a broker that
# vanished without closing TCP (host gone, partition) within ~2 heartbeats
# instead of TCP's ~15 minutes.
HEARTBEAT = 20
PUMP_INTERVAL = 0.5
# Longer than a heartbeat so a blocked broker (memory alarm) still ends in a reconnect.
BLOCKED_CONNECTION_TIMEOUT = 60
SOCKET_TIMEOUT = 5.0
FIRST_RETRY_DELAY = 0.1
MAX_RETRY_DELAY = 2.0

# What a lost or refused connection raises; anything else is a bug, still retried.
CONNECTION_ERRORS = (pika.exceptions.AMQPError, OSError)


def parameters(url: str, connection_name: str) -> pika.URLParameters:
    """pika's parameters for ``url`` (percent-quoted user, password and vhost)."""
    params = pika.URLParameters(url)
    params.client_properties = {"connection_name": connection_name, "product": "neutrino"}
    params.heartbeat = HEARTBEAT
    params.blocked_connection_timeout = BLOCKED_CONNECTION_TIMEOUT
    params.socket_timeout = SOCKET_TIMEOUT
    # One attempt: the owning thread retries itself, with backoff and a log line.
    params.connection_attempts = 1
    return params


class Backoff:
    """Delays between reconnect attempts: doubling from ``first`` up to ``cap``."""

    def __init__(self, first: float = FIRST_RETRY_DELAY, cap: float = MAX_RETRY_DELAY):
        self.first = first
        self.cap = cap
        self._next = first

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay

    def reset(self) -> None:
        self._next = self.first


def call_soon(connection: BlockingConnection | None, callback: Callable[[], None]) -> bool:
    """Run ``callback`` on ``connection``'s thread; False if it is already closed."""
    if connection is None:
        return False
    try:
        connection.add_callback_threadsafe(callback)
    except pika.exceptions.ConnectionWrongStateError:
        return False
    return True


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class ConnectionThread:
    """Connects, runs ``setup(channel)``, then pumps I/O until stopped; reconnects on loss.

    ``on_pump(channel)`` runs on the thread before each pump, e.g. to publish.
    """

    def __init__(
        self,
        url: str,
        name: str,
        setup: Callable[[BlockingChannel], None],
        on_pump: Callable[[BlockingChannel], None] | None = None,
    ):
        self.name = name
        self._params = parameters(url, name)
        self._setup = setup
        self._on_pump = on_pump
        self._stopping = threading.Event()
        self.ready = threading.Event()
        self.last_error = "not connected yet"
        self.connection: BlockingConnection | None = None
        self._was_up = False  # whether the last session got as far as serving
        self._thread = threading.Thread(target=self._run, name=f"rpc:{name}", daemon=True)

    @property
    def broker(self) -> str:
        p = self._params
        return f"{p.host}:{p.port}/{p.virtual_host}"

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        self._stopping.set()
        call_soon(self.connection, lambda: None)  # end the current pump now
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            LOG.warning("%s: connection thread still busy %.1f s after stop", self.name, timeout)

    def wake(self) -> None:
        call_soon(self.connection, lambda: None)

    def _run(self) -> None:
        backoff = Backoff()
        attempts = 0
        while not self._stopping.is_set():
            attempts += 1
            try:
                self._session(backoff, reconnecting=attempts > 1)
            except CONNECTION_ERRORS as exc:
                self.last_error = _describe(exc)
            except Exception as exc:
                self.last_error = _describe(exc)
                LOG.exception("%s: unexpected error on connection to %s", self.name, self.broker)
            if self._stopping.is_set():
                break
            delay = backoff.next_delay()
            LOG.warning(
                "%s: connection to %s %s (%s); reconnecting in %.1f s",
                self.name, self.broker, "lost" if self._was_up else "failed",
                self.last_error, delay,
            )
            self._stopping.wait(delay)

    def _session(self, backoff: Backoff, reconnecting: bool) -> None:
        self._was_up = False
        connection = pika.BlockingConnection(self._params)
        self.connection = connection
        try:
            channel = connection.channel()
            self._setup(channel)
            self._was_up = True
            self.ready.set()
            backoff.reset()
            if reconnecting:
                LOG.warning("%s: reconnected to %s", self.name, self.broker)
            else:
                LOG.info("%s: connected to %s", self.name, self.broker)
            self._pump(connection, channel)
        finally:
            self.ready.clear()
            self.connection = None
            _close_quietly(connection)

    def _pump(self, connection: BlockingConnection, channel: BlockingChannel) -> None:
        while not self._stopping.is_set():
            if self._on_pump:
                self._on_pump(channel)
            connection.process_data_events(time_limit=PUMP_INTERVAL)
        # Callbacks queued just before stop (replies, acks) still go out.
        connection.process_data_events(time_limit=0)


def _close_quietly(connection: BlockingConnection) -> None:
    try:
        if connection.is_open:
            connection.close()
    except CONNECTION_ERRORS as exc:
        LOG.debug("closing a broken connection: %s", _describe(exc))
