"""Pid-owned processes: the harness starts each, logs it to a file, owns it by pid, stops it.

Processes run in the foreground (no ``--detach``) so that the pid we hold is
the daemon itself; a namespaced process is started through ``ip netns exec``,
which execs the command in place and keeps the pid.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from typing import BinaryIO, Protocol

import fixtures

from fullstack import wait
from fullstack.resources import records, runner

LOG = logging.getLogger(__name__)


def accepts(path: str) -> bool:
    """Whether a daemon listens on unix socket ``path``: the file appears at
    bind(), a moment before listen(), and a client in between is refused."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


class ProcessExited(Exception):
    """A process the harness owns exited without being asked to."""


class Handle(Protocol):
    """What the harness holds of a running process: a ``subprocess.Popen``, or the
    like for a process something else started for it."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def send_signal(self, sig: int) -> None: ...

    def kill(self) -> None: ...


class ProcessFixture(fixtures.Fixture):
    """One long-running process; ``start()`` at set-up, ``stop()`` at cleanup."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        owner: records.Ownership,
        *,
        namespace: str | None = None,
        env: dict[str, str] | None = None,
        ready: Callable[[], bool] | None = None,
        ready_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        private_mounts: bool = True,
        wait_at_setup: bool = True,
        stop_signal: int = signal.SIGTERM,
    ):
        super().__init__()
        self.name = name
        self.cmd = list(cmd)
        self.owner = owner
        self.log_path = owner.log_path(name)
        self.namespace = namespace
        self.env = env
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.private_mounts = private_mounts
        # False: set-up only launches; the owner calls wait_until_ready()
        # when it needs the process, doing other work meanwhile.
        self.wait_at_setup = wait_at_setup
        # What asks it to end: SIGINT ends some servers at once where SIGTERM
        # makes them drain for seconds.
        self.stop_signal = stop_signal
        self.popen: Handle | None = None
        self.stopped_on_purpose = False
        self.started_at = 0.0   # time.monotonic() of the last start
        self.started_wall = 0.0   # time.time() of it: no process of its session is older
        self.output_offset = 0   # where the last start's output begins in the log
        # Seconds from the last start until it was first seen ready (for the
        # benchmark); None until then, or if nothing tells.
        self.ready_after: float | None = None

    def __repr__(self) -> str:
        if self.popen is None:
            state = "not started"
        elif self.is_running():
            state = f"pid={self.pid}"
        else:
            state = f"pid={self.pid} exited {self.returncode}"
        return f"<{type(self).__name__} {self.name} {state}>"

    def _setUp(self) -> None:
        self.addCleanup(self.stop)
        self.start(wait=self.wait_at_setup)

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode if self.popen else None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self, wait: bool = True) -> None:
        self.stopped_on_purpose = False
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        full = self.command_line()
        env = dict(os.environ, **(self.env or {}))
        with open(self.log_path, "ab") as log:
            log.write(f"==== starting: {' '.join(full)}\n".encode())
            log.flush()
            self.output_offset = log.tell()
            self.started_at = time.monotonic()
            self.started_wall = time.time()
            self.ready_after = None
            self.popen = self._spawn(full, env, log)
        self.owner.record(self.name, self.popen.pid, full)
        LOG.debug("started %s (pid %d): %s", self.name, self.popen.pid, " ".join(full))
        if wait and self.ready is not None:
            self.wait_until_ready()

    def command_line(self) -> list[str]:
        """What runs: the command, inside the namespace if it has one."""
        return runner.in_namespace(self.cmd, self.namespace, self.private_mounts)

    def _spawn(self, full: list[str], env: dict[str, str], log: BinaryIO) -> Handle:
        """Start it in a session of its own, its output to ``log``."""
        return subprocess.Popen(
            full, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True,
        )

    def mark_ready(self) -> None:
        """Note that it is ready now, unless it was seen so since its start."""
        if self.ready_after is None:
            self.ready_after = time.monotonic() - self.started_at

    def wait_until_ready(self) -> None:
        def ready_or_dead() -> bool:
            if not self.is_running():
                raise ProcessExited(self.describe_exit())
            if self.ready and self.ready():
                self.mark_ready()
                return True
            return False

        wait.wait_until_true(
            ready_or_dead, timeout=self.ready_timeout, sleep=0.02,
            exception=lambda: f"{self.name} not ready after {self.ready_timeout} s; "
                              f"log {self.log_path}:\n{self.log_tail()}",
        )

    def is_running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, kill_signal: int | None = None, timeout: float | None = None) -> None:
        """Ask the process to end (its stop signal, or ``kill_signal``); SIGKILL if it
        has not within ``timeout`` s (its stop timeout by default).  Then whatever it
        started in its session goes too (a server's workers, an agent's helpers); a
        daemon that left the session stays."""
        if self.popen is None:
            return
        self.stopped_on_purpose = True
        if self.is_running():
            self.popen.send_signal(kill_signal or self.stop_signal)
            grace = self.stop_timeout if timeout is None else timeout
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                LOG.warning("%s ignored the stop signal for %s s; killing it", self.name, grace)
                self.popen.kill()
                self.popen.wait()
        records.kill_session(self.popen.pid, self.started_wall)
        self.owner.forget(self.popen.pid)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` and wait until the process is gone."""
        self.stop(kill_signal=sig)

    def restart(self) -> None:
        self.stop()
        self.start()

    def died_unexpectedly(self) -> bool:
        """True if the process exited without the harness asking it to."""
        return self.popen is not None and not self.stopped_on_purpose and not self.is_running()

    def check_alive(self) -> None:
        """Raise ``ProcessExited`` (name, exit code, log tail) if it died on its own."""
        if self.died_unexpectedly():
            raise self.exited_error()

    def exited_error(self) -> ProcessExited:
        return ProcessExited(self.describe_exit())

    def describe_exit(self) -> str:
        code = self.popen.returncode if self.popen else None
        return (f"{self.name} exited with code {code}; last lines of {self.log_path}:\n"
                f"{self.log_tail()}")

    def output(self) -> str:
        """What the process wrote (stdout and stderr) since it was last started."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.output_offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 16384))
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return "(no log)"
