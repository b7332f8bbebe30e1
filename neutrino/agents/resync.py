"""What the L3 and DHCP agents share: a work queue of resource ids to resync
with the server, one thread applying it, periodic full resyncs and
heartbeats."""

from __future__ import annotations

import logging
import queue
import threading
import time

from neutrino.agents import heartbeat
from neutrino.common import rpc, wire

LOG = logging.getLogger(__name__)

FULL_SYNC = "*"
RETRY_INTERVAL = 1.0


class ResyncingAgent:
    agent_type = ""
    binary = ""
    topic = ""

    def __init__(self, conf, endpoint: object, events: list[str]):
        self.conf = conf
        self.host = conf.host
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.plugin = rpc.RpcClient(conf.transport_url, wire.PLUGIN_TOPIC)
        self.listener = rpc.NotificationListener(conf.transport_url, endpoint,
                                                 exchange=wire.NOTIFY_EXCHANGE, events=events)

    # -- what a concrete agent provides --------------------------------------
    def full_sync(self) -> None:
        """Fetch everything this host should serve and apply it (may raise RpcError)."""
        raise NotImplementedError

    def sync(self, resource_ids: list[str]) -> None:
        """Fetch and apply the named resources (may raise RpcError)."""
        raise NotImplementedError

    def configurations(self) -> dict:
        return {}

    # -- the loop ----------------------------------------------------------------
    def resync(self, resource_id: str) -> None:
        self.work.put(resource_id)

    def run(self) -> None:
        self.listener.start()
        heartbeat.start(self.plugin, self.conf.agent.report_interval, self.stopping, self._state)
        self.work.put(FULL_SYNC)
        next_full_sync = time.monotonic() + self.conf.resync_interval
        while not self.stopping.is_set():
            try:
                first = self.work.get(timeout=max(0.0, next_full_sync - time.monotonic()))
            except queue.Empty:
                first = FULL_SYNC
            if self.stopping.is_set():
                break
            batch = {first} | self._drain()
            if FULL_SYNC in batch:
                next_full_sync = time.monotonic() + self.conf.resync_interval
            try:
                if FULL_SYNC in batch:
                    self.full_sync()
                else:
                    self.sync(sorted(batch))
            except rpc.RpcError as exc:
                # The server did not answer: try the same work again soon.
                LOG.warning("resync with the server failed: %s", exc)
                for item in batch:
                    self.work.put(item)
                self.stopping.wait(RETRY_INTERVAL)

    def _drain(self) -> set[str]:
        items = set()
        while True:
            try:
                items.add(self.work.get_nowait())
            except queue.Empty:
                return items

    def stop(self) -> None:
        self.stopping.set()
        self.work.put(FULL_SYNC)
        # A call waiting on an absent server would hold the exit for its
        # whole timeout.
        self.plugin.abort_calls_soon("the agent is stopping")

    def _state(self, start_flag: bool) -> dict:
        return {"binary": self.binary, "host": self.host, "agent_type": self.agent_type,
                "topic": self.topic, "start_flag": start_flag,
                "configurations": self.configurations()}
