"""A snapshot of what the harness can leave behind on a machine.

Two snapshots, before and after, tell whether a run leaked: namespaces,
root-namespace links, our child processes (but those kept for the whole
test runner), RabbitMQ vhosts and users, databases.
"""

from __future__ import annotations

import dataclasses

import psutil
from pyroute2 import IPRoute, netns

from fullstack import prerequisites
from fullstack.resources import database, lasting, rabbitmq


@dataclasses.dataclass(frozen=True)
class Inventory:
    namespaces: frozenset[str]
    links: frozenset[str]
    child_pids: frozenset[int]
    vhosts: frozenset[str]
    rabbit_users: frozenset[str]
    databases: frozenset[str]

    @classmethod
    def take(cls, settings: prerequisites.Settings, prefix: str = "") -> Inventory:
        """Everything on the machine, or with ``prefix`` only what carries it.

        Restricting to a prefix keeps a leak check honest while other tests
        run at the same time (stestr --concurrency).
        """
        full = cls._take_all(settings)
        if not prefix:
            return full
        return cls(**{  # type: ignore[arg-type]
            f.name: frozenset(v for v in getattr(full, f.name)
                              if isinstance(v, int) or prefix in v)
            for f in dataclasses.fields(cls)
        })

    @classmethod
    def _take_all(cls, settings: prerequisites.Settings) -> Inventory:
        api = rabbitmq.ManagementApi(settings.rabbit_admin_url)
        with IPRoute() as ipr:
            links = frozenset(link.get("ifname") for link in ipr.get_links())
        return cls(
            namespaces=frozenset(netns.listnetns()),
            links=links,
            # Kept for the test runner, not any run's (lasting.py).
            child_pids=frozenset(p.pid for p in psutil.Process().children(recursive=True)
                                 if _running(p)) - lasting.pids(),
            vhosts=frozenset(api.vhosts()),
            rabbit_users=frozenset(api.users()),
            databases=frozenset(database.list_databases(settings.db_admin_url)),
        )

    def leaks(self) -> dict[str, list]:
        """Everything in a prefix-filtered inventory is a leak once the run ended."""
        return {f.name: sorted(getattr(self, f.name)) for f in dataclasses.fields(self)
                if getattr(self, f.name)}

    def added_since(self, before: Inventory) -> dict[str, list]:
        """What exists now that did not before, by kind (empty: nothing leaked)."""
        leaks = {}
        for field in dataclasses.fields(self):
            extra = getattr(self, field.name) - getattr(before, field.name)
            if extra:
                leaks[field.name] = sorted(extra)
        return leaks


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
