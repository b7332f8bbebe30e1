"""Processes kept for the whole test-runner process, not for one test.

A process worth keeping (a zygote that imported Neutron once, so every
test's Neutron processes fork from it) is started by the first run that
needs it and ended when this process ends: at exit, or, if this process
is killed, by itself (a zygote watches its parent) or by the cleanup
command.  For that last case its pid is recorded under a prefix of its
own, owned by this process like a test's prefix, so a dead owner makes
it a dead prefix like any other.

It holds no test's state: whatever a test asks of it happens in a child
it forks, with the test's configuration, logs and namespace.  A test's
leak check leaves these processes out (``pids``); their own end is
checked when they are given up.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from typing import TypeVar

from fullstack.resources import allocator, daemon, records

LOG = logging.getLogger(__name__)

Kept = TypeVar("Kept", bound=daemon.ProcessFixture)


class Keeper:
    """The lasting processes of this process, by name, and the prefix they live under."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, daemon.ProcessFixture] = {}
        self._allocation: allocator.PrefixAllocation | None = None
        self._owner: records.Ownership | None = None

    def _ownership(self, state_dir: str, log_dir: str) -> records.Ownership:
        if self._owner is None:
            allocation = allocator.PrefixAllocation(allocator.Registry(state_dir))
            allocation.setUp()
            self._allocation = allocation
            prefix = allocation.value
            self._owner = records.Ownership(prefix, os.path.join(log_dir, f"lasting-{prefix}"),
                                            state_dir)
            atexit.register(self.end_all)
        return self._owner

    def keep(self, name: str, state_dir: str, log_dir: str,
             make: Callable[[records.Ownership, str], Kept]) -> Kept:
        """The process ``name``, started (``make(owner, run_dir)``) if it is not running.

        One that died is replaced: what a test forked from it lives on without it.
        """
        with self._lock:
            kept = self._kept.get(name)
            if kept is not None and kept.is_running():
                return kept  # type: ignore[return-value]
            if kept is not None:
                LOG.warning("lasting process %s ended (%s); starting it again",
                            name, kept.describe_exit())
                kept.cleanUp()
            owner = self._ownership(state_dir, log_dir)
            made = make(owner, records.run_dir(state_dir, owner.prefix))
            made.setUp()
            self._kept[name] = made
            return made

    def processes(self) -> list[daemon.ProcessFixture]:
        with self._lock:
            return list(self._kept.values())

    def pids(self) -> set[int]:
        return {kept.pid for kept in self.processes() if kept.pid is not None}

    def end_all(self) -> None:
        """End every kept process, then give the prefix up (at exit)."""
        with self._lock:
            for kept in self._kept.values():
                kept.cleanUp()
            self._kept.clear()
            if self._allocation is not None and self._owner is not None:
                records.remove_run(self._owner.state_dir, self._owner.prefix)
                self._allocation.cleanUp()
            self._allocation = self._owner = None


#: This process's keeper: one per test-runner process.
KEEPER = Keeper()


def pids() -> set[int]:
    """The pids of the processes kept for this process (not any test's)."""
    return KEEPER.pids()
