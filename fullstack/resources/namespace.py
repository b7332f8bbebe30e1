"""Network namespaces, through pyroute2."""

from __future__ import annotations

import fixtures
from pyroute2 import NetNS, netns

from fullstack.resources import runner


def exists(name: str) -> bool:
    return name in netns.listnetns()


def delete(name: str) -> None:
    """Remove a namespace if it is there (removal is idempotent)."""
    if exists(name):
        netns.remove(name)


class Namespace(fixtures.Fixture):
    """A named network namespace with its loopback up, removed at cleanup."""

    def __init__(self, name: str):
        super().__init__()
        if len(name) > 64 or "/" in name:
            raise ValueError(f"namespace name {name!r} is not a valid file name")
        self.name = name

    def _setUp(self) -> None:
        netns.create(self.name)
        self.addCleanup(delete, self.name)
        with NetNS(self.name) as ns:
            ns.link("set", index=ns.link_lookup(ifname="lo")[0], state="up")

    def execute(self, cmd: list[str], **kwargs):
        return runner.execute(cmd, namespace=self.name, **kwargs)
