"""An environment's parts built and torn down side by side, one thread each.

Most of what a host or a chassis does waits on its own OVS daemons, the
kernel and the server, not on the harness's process, and a host touches
nothing of another's; so the environment runs them in threads of their
own and waits for them all, whatever one of them raised.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from typing import TypeVar

import fixtures

from fullstack import context, fabric
from fullstack import host as host_module
from fullstack.descriptions import Datapath, HostDescription

T = TypeVar("T")
F = TypeVar("F", bound=fixtures.Fixture)
CentralFuture = concurrent.futures.Future[fabric.CentralChassis]
HostFuture = concurrent.futures.Future[host_module.HostChassis]


def each(function: Callable[[T], object], items: Sequence[T],
         meanwhile: Callable[[], None] | None = None,
         name: str = "worker") -> list[BaseException | None]:
    """``function(item)`` for every item, one thread each, while the calling
    thread does ``meanwhile``; waits for them all (also when ``meanwhile``
    raises, which is raised then) and gives each item's exception, or None."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(items)),
                                                 thread_name_prefix=name)
    futures = [pool.submit(function, item) for item in items]
    try:
        if meanwhile is not None:
            meanwhile()
    finally:
        pool.shutdown(wait=True)
    return [future.exception() for future in futures]


def call_all(calls: Sequence[Callable[[], object]], name: str = "worker") -> None:
    """Every call side by side; the first that failed is raised once all are done."""
    for error in each(lambda call: call(), calls, name=name):
        if error is not None:
            raise error


def set_up(fixture: F) -> F:
    fixture.setUp()   # a failed set-up unwinds itself
    return fixture


def build_chassis(parent: fixtures.Fixture, ctx: context.RunContext, datapath: Datapath,
                  hosts_desc: list[tuple[int, HostDescription]]
                  ) -> tuple[CentralFuture, dict[int, HostFuture]]:
    """Start building the central OVS (fabric.CentralChassis) and each host's
    chassis (host.HostChassis), side by side, while the calling thread makes
    the rest of the centre: mostly OVS starting, which needs nothing of it.
    The fabric and each host adopt theirs; what none adopted (the centre
    failed) is cleaned up by ``parent``."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(hosts_desc) + 1,
                                                 thread_name_prefix="chassis")
    central = pool.submit(set_up, fabric.CentralChassis(ctx, datapath))
    hosts = {number: pool.submit(set_up, host_module.HostChassis(
                 ctx, number, datapath, external=desc.l3_agent))
             for number, desc in hosts_desc}
    pool.shutdown(wait=False)
    futures: list[CentralFuture | HostFuture] = [central, *hosts.values()]

    def clean_up_strays() -> None:
        # exception() waits for a chassis still being built.
        strays = [future.result() for future in futures
                  if future.exception() is None and not future.result().adopted]
        call_all([stray.cleanUp for stray in strays], name="chassis")

    parent.addCleanup(clean_up_strays)
    return central, hosts
