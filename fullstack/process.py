"""Fixtures for the processes of the deployed service: server and agents.

The harness starts them by command line with a config file it writes,
exactly as an operator would; it never imports them.  What the command
line and the file say is the service's business (``fullstack.services``).
"""

from __future__ import annotations

import abc
import os
import urllib.error
import urllib.request

import fixtures

from fullstack import context
from fullstack.resources import client, config, daemon

Sections = config.Sections


def config_path(ctx: context.RunContext, name: str) -> str:
    """Where the process ``name`` finds its config file (beside its log)."""
    return os.path.join(ctx.log_dir, f"{name}.ini")


class ServiceProcess(daemon.ProcessFixture):
    """A process of the deployed service: ``cmd`` reads the config file of ``sections``.

    ``binary`` is what the process reports itself as in /v2.0/agents (agents only).
    """

    def __init__(self, ctx: context.RunContext, name: str, cmd: list[str], sections: Sections,
                 binary: str = "", namespace: str | None = None, **kwargs):
        self.config_path = config_path(ctx, name)
        self.sections = sections
        self.binary = binary
        # Agents create namespaces: they must share the machine's mount
        # namespace (see runner.in_namespace).
        super().__init__(name, cmd, ctx.owner, namespace=namespace, private_mounts=False,
                         **kwargs)

    def apply_overlay(self, overlay: config.Overlay | None, extend: bool = False) -> None:
        """Put a test's options over the service's, before the file is written
        (``extend``: lists add to lists, see ``config.overlaid``)."""
        self.sections = config.overlaid(self.sections, overlay, extend)

    def _setUp(self) -> None:
        self.useFixture(config.ConfigFile(os.path.dirname(self.config_path),
                                          os.path.basename(self.config_path), self.sections))
        super()._setUp()


class Server(fixtures.Fixture, abc.ABC):
    """The server side of a deployment: a fixture of one or more processes.

    Set-up launches it without waiting; ``wait_until_ready`` waits until
    its API answers.  ``pid`` names it (the API process's), ``restart``
    restarts all of it.
    """

    url: str
    client: client.ApiClient
    started_at: float           # time.monotonic() of its (last) start
    # Whether agents may start before it is ready (its RPC queues hold their
    # first calls); if not, hosts wait for it before starting theirs.
    early_agents: bool = False

    @property
    @abc.abstractmethod
    def pid(self) -> int | None: ...

    @abc.abstractmethod
    def wait_until_ready(self) -> None: ...

    @abc.abstractmethod
    def is_running(self) -> bool: ...

    @abc.abstractmethod
    def check_alive(self) -> None: ...

    @abc.abstractmethod
    def restart(self) -> None: ...

    @abc.abstractmethod
    def processes(self) -> list[daemon.ProcessFixture]: ...


def answers(url: str) -> bool:
    """Whether the API at ``url`` serves its version document."""
    try:
        with urllib.request.urlopen(url + "/", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


class ServerProcess(ServiceProcess, Server):
    """A server that is one process, ready when its version document answers.

    Launched early and awaited only before the first agent starts: the
    hosts are wired while it loads.
    """

    def __init__(self, ctx: context.RunContext, name: str, cmd: list[str], sections: Sections,
                 host: str, port: int):
        self.url = f"http://{host}:{port}"
        self.client = client.ApiClient(self.url)
        super().__init__(ctx, name, cmd, sections, ready=lambda: answers(self.url),
                         wait_at_setup=False)

    def processes(self) -> list[daemon.ProcessFixture]:
        return [self]
