"""Probes: what a test watches its deployment with, from inside it.

``Pinger`` pings from a machine while the test acts (restarts an agent,
cuts the broker) and counts what came back; ``PacketCapture`` shows what
crossed an interface (the VNI or VLAN id a packet carried).  Both are
pid-owned processes (``resources.daemon``) logged in the test's log
directory.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
from typing import TYPE_CHECKING

import fixtures

from fullstack import context, wait
from fullstack.resources import daemon

if TYPE_CHECKING:
    from fullstack.machine import PingingMachine

PING_SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) received")
COUNT_GRACE = 30.0   # s beyond count * interval for the last echoes of a counted ping
CAPTURE_TIMEOUT = 20.0


class Pinger(daemon.ProcessFixture):
    """``ping`` from ``machine`` to ``ip`` every ``interval`` s, in the background.

    ``useFixture`` does not start it (and stops it at cleanup): ``start()``
    begins pinging, at the moment the test chooses.  ``stop()`` ends it
    with SIGINT, on which ping prints its summary; ``sent``, ``received``
    and ``lost`` are read from the summary of the last run, so they exist
    once it stopped.  With ``count``, ping sends that many echoes and
    ``stop()`` first waits until it has: ``sent`` is then ``count``, however
    soon the test got to stopping it.
    """

    def __init__(self, machine: PingingMachine, ip: str, interval: float = 0.1,
                 count: int | None = None):
        self.ip = ip
        self.interval = interval
        self.count = count
        cmd = ["ping", "-i", str(interval), "-W", "1"]
        if count is not None:
            cmd += ["-c", str(count)]
        ctx = machine.ctx
        super().__init__(f"ping-{machine.namespace}-{ip}", [*cmd, ip], ctx.log_dir,
                         ctx.settings.state_dir, ctx.prefix, namespace=machine.namespace)

    def _setUp(self) -> None:
        self.addCleanup(super().stop, signal.SIGINT)

    def stop(self, kill_signal: int | None = None, timeout: float | None = None) -> None:
        """End the ping (SIGINT unless told otherwise); with ``count``, once it was sent."""
        if self.popen is not None and self.count is not None and kill_signal is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(self.count * self.interval + COUNT_GRACE)
        super().stop(kill_signal or signal.SIGINT, timeout)

    @property
    def sent(self) -> int:
        return self._summary()[0]

    @property
    def received(self) -> int:
        return self._summary()[1]

    @property
    def lost(self) -> int:
        sent, received = self._summary()
        return sent - received

    def _summary(self) -> tuple[int, int]:
        """(transmitted, received), from the summary ping printed as it ended."""
        match = PING_SUMMARY.search(self.output())
        if match is None:
            raise RuntimeError(f"{self.name}: no ping summary (ping prints it when stop() "
                               f"ends it); log {self.log_path}:\n{self.log_tail()}")
        return int(match.group(1)), int(match.group(2))


class PacketCapture(fixtures.Fixture):
    """Captures up to ``count`` packets matching ``bpf_filter`` on ``interface``.

    Set-up returns once tcpdump is listening, so nothing sent afterwards is
    missed; ``wait_for_packets`` returns the decoded lines (with link-level
    headers: VLAN tags, VXLAN VNIs and GRE keys show up in them).
    """

    def __init__(self, ctx: context.RunContext, name: str, namespace: str | None,
                 interface: str, bpf_filter: str, count: int = 1):
        super().__init__()
        self.process = daemon.ProcessFixture(
            f"capture-{name}",
            ["tcpdump", "-l", "-nn", "-e", "-vv", "-c", str(count), "-i", interface,
             bpf_filter],
            ctx.log_dir, ctx.settings.state_dir, ctx.prefix, namespace=namespace,
            ready=self._listening)

    def _setUp(self) -> None:
        self.useFixture(self.process)

    def _output(self) -> str:
        return self.process.output()

    def _listening(self) -> bool:
        return "listening on" in self._output()

    def wait_for_packets(self, timeout: float = CAPTURE_TIMEOUT) -> list[str]:
        """Wait until ``count`` packets were captured; return tcpdump's lines."""
        wait.wait_until_true(lambda: not self.process.is_running(), timeout=timeout,
                             sleep=0.05,
                             exception=lambda: f"{self.process.name}: fewer packets than "
                                               f"expected after {timeout} s:\n{self._output()}")
        return [line for line in self._output().splitlines()
                if line and not line.startswith(("tcpdump:", "listening on"))
                and "packets captured" not in line and "packets received" not in line
                and "packets dropped" not in line]

    def captured_so_far(self) -> str:
        return self._output()
