"""Running an agent process: logging, signals, a clean close."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from oslo_config import cfg

from neutrino.common import config_files


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


def main(name: str, load: Callable[[Sequence[str], bool], Any],
         build: Callable[[Any], Agent], argv: Sequence[str] | None = None) -> int:
    """An agent's command: load its config (exit 2 naming what is wrong), stop there
    with ``--check-config``, else build and run it."""
    args, check_only = config_files.split_check_flag(sys.argv[1:] if argv is None else argv)
    try:
        conf = load(args, check_only)
    except (ValueError, cfg.Error) as error:
        print(error if str(error).startswith(name) else f"{name}: {error}", file=sys.stderr)
        return 2
    if check_only:
        return 0
    return run(lambda: build(conf), name, conf.host, conf.debug)
