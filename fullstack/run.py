"""One run of the harness (a test, or a benchmark round): prefix and directories."""

from __future__ import annotations

import os
from collections.abc import Callable

import fixtures

from fullstack import context, prerequisites
from fullstack.resources import allocator, records


class HarnessRun(fixtures.Fixture):
    """Checks prerequisites, takes a prefix, makes the log and run directories.

    ``ctx`` is what every other fixture of the run needs.
    """

    def __init__(self, settings: prerequisites.Settings, log_name: str,
                 keep_on_failure: Callable[[], bool] = lambda: False):
        super().__init__()
        self.settings = settings
        self.log_name = log_name
        self.keep_on_failure = keep_on_failure

    def _setUp(self) -> None:
        prerequisites.check_all(self.settings)
        registry = allocator.Registry(self.settings.state_dir)
        prefix = self.useFixture(allocator.PrefixAllocation(registry)).value
        self.addCleanup(records.remove_run, self.settings.state_dir, prefix)
        log_dir = os.path.join(self.settings.log_dir, f"{self.log_name}-{prefix}")
        os.makedirs(log_dir, exist_ok=True)
        self.ctx = context.RunContext(
            settings=self.settings, registry=registry, prefix=prefix, log_dir=log_dir,
            run_dir=records.run_dir(self.settings.state_dir, prefix),
            keep_on_failure=self.keep_on_failure)
