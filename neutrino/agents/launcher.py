"""Running an agent process: logging, signals, a clean close."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from typing import Protocol


class Agent(Protocol):
    def run(self) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


def run(factory: Callable[[], Agent], name: str, host: str, debug: bool) -> int:
    """Build the agent (after logging is set up, so its start is logged) and run
    it until SIGTERM or SIGINT, then close it."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s",
    )
    for noisy in ("ovsdbapp", "pika"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger(name).info("%s starting on host %s", name, host)
    agent = factory()
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    try:
        agent.run()
    finally:
        agent.close()
    return 0
