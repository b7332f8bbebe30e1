"""The harness's side of the zygotes (zygote.py): the processes, and those they fork.

Two zygotes, one per role: the agents' (agent_main.py) and the server's
(server_main.py), apart so that an agent does not carry the server's
modules in its memory, nor the other way round.  A test runner keeps both
for all its tests (``kept``, see resources/lasting.py): a test's processes
fork from them with its own configuration, so they share code, not state.
A deployment left standing has its own, ended with it.

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

from fullstack import context, process
from fullstack.resources import daemon, lasting, records

_HERE = os.path.dirname(__file__)
ZYGOTE = os.path.join(_HERE, "zygote.py")
ROLES = {"agent": os.path.join(_HERE, "agent_main.py"),
         "server": os.path.join(_HERE, "server_main.py")}
REQUEST_TIMEOUT = 30.0


class Zygote(daemon.ProcessFixture):
    """A zygote of ``role``: launched early, ready once it imported what it forks.

    ``parent``: the pid it ends after (a kept zygote's test runner).
    """

    def __init__(self, owner: records.Ownership, run_dir: str, role: str,
                 parent: int | None = None):
        name = f"neutron-{role}-zygote"
        self.socket_path = os.path.join(run_dir, f"{name}.sock")
        super().__init__(name, [sys.executable, ZYGOTE, self.socket_path, ROLES[role],
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


def zygote(ctx: context.RunContext, role: str) -> tuple[Zygote, bool]:
    """``role``'s zygote for this run, and whether the run owns it (sets it up, ends it).

    The test runner's kept one (launched now if it is not running), unless
    the run may keep nothing beyond itself.
    """
    if not ctx.lasting:
        return Zygote(ctx.owner, ctx.run_dir, role), True
    kept = lasting.KEEPER.keep(
        f"neutron-{role}-zygote", ctx.settings.state_dir, ctx.settings.log_dir,
        lambda owner, run_dir: Zygote(owner, run_dir, role, parent=os.getpid()))
    return kept, False


class ForkedProcess(process.ServiceProcess):
    """A Neutron process forked by a zygote, in its host's namespace if it has one:
    ``cmd`` is its argv (and ``main``, if given, the import path of its main function;
    ``entry_points``, what the zygote loads before it forks)."""

    def __init__(self, zygote: Zygote | None, *args, main: str | None = None,
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
