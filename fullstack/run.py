"""One run of the harness (a test, or a benchmark round): prefix and directories."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import fixtures

from fullstack import context, prerequisites
from fullstack.resources import allocator, inventory, records

LOG = logging.getLogger(__name__)


class HarnessRun(fixtures.Fixture):
    """Checks prerequisites, takes a prefix, makes the log and run directories.

    ``ctx`` is what every other fixture of the run needs.  At cleanup the
    prefix and the run's records are given up only if nothing carrying the
    prefix is left (``leaks``): otherwise they stay, so that once this
    process is gone ``python -m fullstack cleanup`` still finds and removes
    what leaked, processes included.
    """

    def __init__(self, settings: prerequisites.Settings, log_name: str,
                 keep_on_failure: Callable[[], bool] = lambda: False, lasting: bool = True):
        super().__init__()
        self.settings = settings
        self.log_name = log_name
        self.keep_on_failure = keep_on_failure
        self.lasting = lasting
        self.leaks: dict[str, list] = {}

    def _setUp(self) -> None:
        prerequisites.check_all(self.settings)
        registry = allocator.Registry(self.settings.state_dir)
        allocation = allocator.PrefixAllocation(registry)
        allocation.setUp()   # released by _give_up_prefix, not by useFixture
        prefix = allocation.value
        self.addCleanup(self._give_up_prefix, allocation)
        log_dir = os.path.join(self.settings.log_dir, f"{self.log_name}-{prefix}")
        os.makedirs(log_dir, exist_ok=True)
        self.ctx = context.RunContext(
            settings=self.settings, registry=registry, prefix=prefix, log_dir=log_dir,
            run_dir=records.run_dir(self.settings.state_dir, prefix),
            keep_on_failure=self.keep_on_failure, lasting=self.lasting)

    def _give_up_prefix(self, allocation: allocator.PrefixAllocation) -> None:
        prefix = allocation.value
        self.leaks = inventory.Inventory.take(self.settings, prefix).leaks()
        if self.leaks:
            LOG.warning("run %s left %s; its prefix and records are kept for "
                        "'python -m fullstack cleanup'", prefix, self.leaks)
            return
        records.remove_run(self.settings.state_dir, prefix)
        allocation.cleanUp()
