"""Closing several connections of a process at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

LOG = logging.getLogger(__name__)


def close_all(closers: list[Callable[[], None]], timeout: float = 5.0) -> None:
    """Run every closer in parallel: each may wait on its broker or OVSDB
    round trip, and one after the other they add up to seconds per agent."""

    def guarded(closer: Callable[[], None]) -> None:
        try:
            closer()
        except Exception:
            LOG.exception("error while closing")

    threads = [threading.Thread(target=guarded, args=(closer,), daemon=True)
               for closer in closers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
