"""The run of the test this process is running (one at a time per stestr worker).

Neutron's helpers take namespaces, not a deployment; what the layer builds
for them (a NetcatTester's processes) is the current test's, owned by its
run.  ``BaseFullStackTestCase.setUp`` sets it, its cleanup clears it.
"""

from __future__ import annotations

from fullstack import context

_run: context.RunContext | None = None


def set_run(ctx: context.RunContext | None) -> None:
    global _run
    _run = ctx


def run() -> context.RunContext:
    if _run is None:
        raise RuntimeError("no fullstack test is running in this process: Neutron's "
                           "helpers are served by the layer during a test only")
    return _run
