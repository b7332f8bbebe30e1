"""A fixed pool of threads running handlers, so a slow one does not hold up the rest."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

LOG = logging.getLogger(__name__)


class WorkerPool:
    """``size`` daemon threads taking tasks in order of submission (one thread keeps order)."""

    def __init__(self, size: int, name: str):
        if size < 1:
            raise ValueError(f"{name}: workers must be at least 1, not {size}")
        self.name = name
        self._tasks: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}:worker-{i}", daemon=True)
            for i in range(size)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, task: Callable[[], None]) -> None:
        self._tasks.put(task)

    def stop(self, timeout: float = 1.0) -> None:
        """Drop tasks not yet started, let running ones finish for up to ``timeout`` s."""
        while True:
            try:
                self._tasks.get_nowait()
            except queue.Empty:
                break
        for _ in self._threads:
            self._tasks.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        busy = sum(thread.is_alive() for thread in self._threads)
        if busy:
            LOG.warning("%s: %d handler(s) still busy %.1f s after stop", self.name, busy, timeout)

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            try:
                task()
            except Exception:
                LOG.exception("%s: handler failed", self.name)
