"""Neutron's fake placement and Nova metadata servers, as the suite runs them.

Neutron's wheel ships both (``neutron/tests/fullstack/servers``): small WSGI
servers on a fixed port of 127.0.0.1, which the server (placement) and the
metadata agents' proxies (metadata) reach.  Here each is a harness process
of the test (logged, recorded, ended by pid) with Neutron's handle on it
(``process_fixture``: stop, start, ``process_is_not_running``).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys

import fixtures

from fullstack import context
from fullstack.compat.neutron import agents
from fullstack.resources import config, daemon


def _script(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{module} is not installed: Neutron's wheel ships it")
    return spec.origin


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class FakeServer(fixtures.Fixture):
    """Neutron's ``servers/<name>.py`` with ``options`` in [DEFAULT], listening on
    ``host:port`` when ready."""

    def __init__(self, ctx: context.RunContext, name: str, options: dict, host: str,
                 port: int):
        super().__init__()
        self.ctx = ctx
        self.name = name
        self.options = options
        self.address = (host, int(port))

    def _setUp(self) -> None:
        path = os.path.join(self.ctx.log_dir, f"{self.name}.ini")
        with open(path, "w") as f:
            f.write(config.render({"DEFAULT": self.options}))
        proc = self.useFixture(daemon.ProcessFixture(
            self.name,
            [sys.executable, _script(f"neutron.tests.fullstack.servers.{self.name}"),
             "--config-file", path],
            self.ctx.owner, ready=lambda: _listening(*self.address)))
        self.process_fixture = agents.ProcessFixture(proc, self.name)


def placement(ctx: context.RunContext, port) -> FakeServer:
    return FakeServer(ctx, "placement", {"placement_port": port}, "127.0.0.1", port)


def metadata(ctx: context.RunContext, host, port) -> FakeServer:
    return FakeServer(ctx, "metadata", {"metadata_host": host, "metadata_port": port},
                      host, port)
