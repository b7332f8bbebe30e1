"""Agents' heartbeats: ``report_state`` to the server every report interval."""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Callable

from neutrino.common import rpc

LOG = logging.getLogger(__name__)


def start(plugin: rpc.RpcClient, interval: float, stopping: threading.Event,
          state: Callable[[bool], dict]) -> threading.Thread:
    """Report ``state(start_flag)`` until ``stopping``; start_flag until one got through."""

    def loop() -> None:
        start_flag = True
        while not stopping.is_set():
            try:
                plugin.call("report_state", agent_state=state(start_flag),
                            time=datetime.datetime.now(datetime.timezone.utc).isoformat(),
                            timeout=max(interval, 1.0))
                start_flag = False
            except rpc.RpcError as exc:
                LOG.warning("report_state failed: %s", exc)
            stopping.wait(interval)

    thread = threading.Thread(target=loop, name="heartbeat", daemon=True)
    thread.start()
    return thread
