"""What every fixture of one test shares: its prefix, directories and settings."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

from fullstack import prerequisites
from fullstack.resources import allocator, records


@dataclasses.dataclass(frozen=True)
class RunContext:
    settings: prerequisites.Settings
    registry: allocator.Registry
    prefix: str
    log_dir: str
    run_dir: str
    keep_on_failure: Callable[[], bool] = lambda: False
    #: Whether a service may keep a process for the rest of this test runner
    #: (resources/lasting.py): a deployment left standing may not, its
    #: processes must not depend on one that ends with the command.
    lasting: bool = True
    #: What every process of the run carries (prefix, log and state directories).
    owner: records.Ownership = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "owner", records.Ownership(
            self.prefix, self.log_dir, self.settings.state_dir))

    def ovs_run_dir(self, name: str) -> str:
        return os.path.join(self.run_dir, "ovs", name)
