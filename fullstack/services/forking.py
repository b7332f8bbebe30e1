"""The harness's side of the zygotes (zygote.py): the processes, and those they fork.

A zygote imports a service's code once and forks its processes; what it
forks and how is its role file (for Neutron, ``neutron/agent_main.py`` and
``neutron/server_main.py``; for neutrino, ``neutrino/agent_main.py`` and
``neutrino/server_main.py``).  A
service has a zygote per role, so that an agent does not carry the
server's modules in its memory, nor the other way round.  A test runner
keeps them for all its tests (``kept``, see resources/lasting.py): a test's
processes fork from them with its own configuration, so they share code,
not state.  A deployment left standing has its own, ended with it.

A process a zygote forks is not a child of the harness, so it is held by a
``ForkedChild``: the same few calls as ``subprocess.Popen`` (poll, wait,
send_signal, kill, returncode), answered from the process table and, for
the exit code, by the zygote, which reaps it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from typing import BinaryIO

import psutil

from fullstack import context, prerequisites, process
from fullstack.resources import client, daemon, lasting, records

ZYGOTE = os.path.join(os.path.dirname(__file__), "zygote.py")
REQUEST_TIMEOUT = 30.0


class Zygote(daemon.ProcessFixture):
    """The zygote ``name`` of the role file ``role``: launched early, ready once it
    imported what it forks.  ``parent``: the pid it ends after (a kept zygote's
    test runner)."""

    def __init__(self, owner: records.Ownership, run_dir: str, name: str, role: str,
                 parent: int | None = None):
        self.socket_path = os.path.join(run_dir, f"{name}.sock")
        super().__init__(name, [sys.executable, ZYGOTE, self.socket_path, role,
                                *([str(parent)] if parent else [])],
                         owner, ready=lambda: daemon.accepts(self.socket_path),
                         wait_at_setup=False)

    def _setUp(self) -> None:
        os.makedirs(os.path.dirname(self.socket_path), exist_ok=True)
        self.addCleanup(self._remove_socket)
        super()._setUp()

    def _remove_socket(self) -> None:
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    def request(self, message: dict) -> dict:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(REQUEST_TIMEOUT)
            sock.connect(self.socket_path)
            sock.sendall((json.dumps(message) + "\n").encode())
            reply: dict = json.loads(sock.makefile("r").readline())
            return reply

    def spawn(self, argv: list[str], env: dict[str, str], namespace: str | None,
              log_path: str, main: str | None = None,
              entry_points: tuple[tuple[str, str], ...] = ()) -> ForkedChild:
        """Fork ``argv``: a console script the zygote knows, or any name run as the
        function at import path ``main`` ("package.module:function"), once the
        ``(group, name)`` entry points are loaded."""
        self.wait_until_ready()   # the first processes may ask while it imports
        reply = self.request({
            "op": "spawn", "argv": argv, "env": env, "log": log_path, "cwd": os.getcwd(),
            "netns": f"/run/netns/{namespace}" if namespace else None, "main": main,
            "entry_points": entry_points})
        if "error" in reply:
            raise ValueError(f"the zygote forks no {argv[0]}: {reply['error']}")
        return ForkedChild(self, reply["pid"])

    def exit_code(self, pid: int) -> int | None:
        try:
            return self.request({"op": "status", "pid": pid})["returncode"]
        except OSError:
            return None   # the zygote is gone, and with it what it knew


class ForkedChild:
    """A process the zygote forked for us, held like a ``subprocess.Popen``."""

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote = zygote
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._proc: psutil.Process | None = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self._proc = None

    def _running(self) -> bool:
        try:
            return (self._proc is not None and self._proc.is_running()
                    and self._proc.status() != psutil.STATUS_ZOMBIE)
        except psutil.NoSuchProcess:
            return False

    def poll(self) -> int | None:
        if self.returncode is None and not self._running():
            # The zygote may not have reaped it yet: ask again for a moment.
            deadline = time.monotonic() + 5.0
            while (code := self.zygote.exit_code(self.pid)) is None \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            # Unknown (reaped by no one we can ask): it died, of what we cannot say.
            self.returncode = code if code is not None else -1
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        if self._running():
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(9)


def kept(settings: prerequisites.Settings, name: str, role: str) -> Zygote:
    """The test runner's zygote ``name`` (role file ``role``), launched now if it is
    not running."""
    return lasting.KEEPER.keep(
        name, settings.state_dir, settings.log_dir,
        lambda owner, run_dir: Zygote(owner, run_dir, name, role, parent=os.getpid()))


def zygote(ctx: context.RunContext, name: str, role: str) -> tuple[Zygote, bool]:
    """The zygote ``name`` for this run, and whether the run owns it (sets it up, ends
    it): the test runner's kept one, unless the run may keep nothing beyond itself."""
    if not ctx.lasting:
        return Zygote(ctx.owner, ctx.run_dir, name, role), True
    return kept(ctx.settings, name, role), False


class KeptZygote:
    """Stands for the test runner's zygote ``name`` until a process is forked: only
    then is it found, or launched."""

    def __init__(self, settings: prerequisites.Settings, name: str, role: str):
        self.settings = settings
        self.name = name
        self.role = role

    def spawn(self, *args, **kwargs) -> ForkedChild:
        return kept(self.settings, self.name, self.role).spawn(*args, **kwargs)


class ForkedProcess(process.ServiceProcess):
    """A process forked by a zygote, in its host's namespace if it has one: ``cmd`` is
    its argv (and ``main``, if given, the import path of its main function;
    ``entry_points``, what the zygote loads before it forks)."""

    def __init__(self, zygote: Zygote | KeptZygote | None, *args, main: str | None = None,
                 entry_points: tuple[tuple[str, str], ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.zygote = zygote   # None: its owner gives it one before it starts
        self.main = main
        self.entry_points = entry_points

    def command_line(self) -> list[str]:
        where = f"netns {self.namespace}: " if self.namespace else ""
        by = self.zygote.name if self.zygote else "a zygote"
        return [f"({where}forked by {by})", *self.cmd]

    def _spawn(self, full: list[str], env: dict[str, str], log: BinaryIO) -> daemon.Handle:
        if self.zygote is None:
            raise ValueError(f"{self.name} has no zygote to fork it")
        return self.zygote.spawn(self.cmd, env, self.namespace, self.log_path, self.main,
                                 self.entry_points)


class ForkedServer(ForkedProcess, process.Server):
    """A server of one forked process, ready when its version document answers
    (as ``process.ServerProcess``, but forked)."""

    def __init__(self, zygote: Zygote | KeptZygote, ctx: context.RunContext, name: str,
                 cmd: list[str], sections: process.Sections, host: str, port: int):
        self.url = f"http://{host}:{port}"
        self.client = client.ApiClient(self.url)
        super().__init__(zygote, ctx, name, cmd, sections,
                         ready=lambda: process.answers(self.url), wait_at_setup=False)

    def processes(self) -> list[daemon.ProcessFixture]:
        return [self]
