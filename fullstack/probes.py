"""Probes: what a test watches its deployment with, from inside it.

``Pinger`` pings from a machine while the test acts (restarts an agent,
cuts the broker) and counts what came back; ``PacketCapture`` shows what
crossed an interface (the VNI or VLAN id a packet carried);
``NetcatTester`` holds a TCP, UDP or SCTP connection open between two
machines and tells whether data still goes both ways (a firewall rule
added or deleted); ``measure_throughput``, ``measure_packet_rate`` and
``dscp_marks`` send a flow between two machines and say what arrived (a
QoS rule at work).  All are pid-owned processes (``resources.daemon``)
logged in the test's log directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import fixtures

from fullstack import context, wait

# Measured flows are probes too; they live in ``measured``.
from fullstack.measured import TrafficFlow, dscp_marks, measure_packet_rate, measure_throughput
from fullstack.resources import daemon

if TYPE_CHECKING:
    from fullstack.machine import PingingMachine

__all__ = ["ConnectionFailed", "NetcatTester", "PacketCapture", "Pinger", "TrafficFlow",
           "dscp_marks", "measure_packet_rate", "measure_throughput"]

LOG = logging.getLogger(__name__)

PING_SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) received")
COUNT_GRACE = 30.0   # s beyond count * interval for the last echoes of a counted ping
CAPTURE_TIMEOUT = 20.0
NETCAT_PROTOCOLS = ("tcp", "udp", "sctp")
CONNECT_TIMEOUT = 5.0   # s for a client to connect (a filtered TCP connect never ends)
ECHO_TIMEOUT = 3.0      # s for a line sent to come back
PEER_STARTUP = 10.0     # s for a peer's interpreter to start, beyond any network wait
# Where the ``fullstack`` package the harness runs comes from: the peers import the same.
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
        super().__init__(f"ping-{machine.namespace}-{ip}", [*cmd, ip], ctx.owner,
                         namespace=machine.namespace)

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
            ctx.owner, namespace=namespace, ready=self._listening)

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


class ConnectionFailed(RuntimeError):
    """A ``NetcatTester``'s client could not connect (refused, or nothing answered)."""


class NetcatTester(fixtures.Fixture):
    """A connection from ``client_machine`` to ``server_machine`` port ``dst_port``,
    held open, that tells whether data still goes both ways.

    ``establish_connection()`` starts an echo server on the server
    machine's IP and a client that connects to it (from ``src_port`` if
    given) and keeps that connection: ``test_connectivity()`` sends a fresh
    line over it and is True if the echo came back within ECHO_TIMEOUT s.
    So a test can establish a connection, delete the firewall rule that let
    it in, and see that the same connection is cut.  For UDP the connection
    is one socket with a fixed source port; the server echoes each datagram
    to its sender.  For SCTP it is a userspace association over raw sockets
    (``resources.netcat_peer``: this kernel may have no SCTP), from a source
    port chosen once here, so every establishment is the same flow.  A TCP
    connection cut for a while recovers only at its next retransmission
    (seconds, growing), not the moment the path opens again.

    ``useFixture`` starts nothing; cleanup (or ``stop_processes()``) ends
    both processes, after which ``establish_connection()`` may start anew.
    """

    def __init__(self, client_machine: PingingMachine, server_machine: PingingMachine,
                 dst_port: int, protocol: str = "tcp", src_port: int | None = None):
        super().__init__()
        if protocol not in NETCAT_PROTOCOLS:
            raise ValueError(f"protocol {protocol!r} is not one of "
                             f"{', '.join(NETCAT_PROTOCOLS)}")
        for name, port in (("dst_port", dst_port), ("src_port", src_port)):
            if port is not None and not 0 < port < 65536:
                raise ValueError(f"{name} {port} is not a port number (1 to 65535)")
        self.client_machine = client_machine
        self.server_machine = server_machine
        self.dst_port = dst_port
        self.protocol = protocol
        if src_port is None and protocol == "sctp":
            src_port = random.randint(32768, 60999)
        self.src_port = src_port
        self.server: daemon.ProcessFixture | None = None
        self.client: daemon.ProcessFixture | None = None
        self.control_path: str | None = None

    def __repr__(self) -> str:
        return (f"<NetcatTester {self.protocol} {self.client_machine.namespace} -> "
                f"{self.server_machine.ip}:{self.dst_port}>")

    def _setUp(self) -> None:
        self.addCleanup(self.stop_processes)

    def _control_path(self) -> str:
        """The client's unix socket, on which it is asked to send a line (chosen once)."""
        if self.control_path is None:
            self.control_path = os.path.join(
                self.client_machine.ctx.run_dir, "netcat",
                f"{self.protocol}-{self.dst_port}-{uuid.uuid4().hex[:8]}.sock")
        return self.control_path

    def establish_connection(self) -> None:
        """Start the server (until it listens), then a client that connects to it.

        Raises ``ConnectionFailed`` if the client could not connect within
        CONNECT_TIMEOUT s (refused, filtered; for UDP and SCTP: no first echo).
        Once connected, a second call does nothing.
        """
        if self.client is not None and self.client.is_running():
            return
        if self.server is None or not self.server.is_running():
            self._stop(self.server)
            self.server = self._start_server()
        self._stop(self.client)
        self.client = None
        control_path = self._control_path()
        os.makedirs(os.path.dirname(control_path), exist_ok=True)
        client = self._peer("client", self.client_machine, [
            "--control", control_path, "--connect-timeout", str(CONNECT_TIMEOUT),
            *(["--src-port", str(self.src_port)] if self.src_port is not None else [])],
            ready=lambda: daemon.accepts(control_path))
        try:
            client.start()
        except (daemon.ProcessExited, wait.WaitTimeout) as exc:
            client.stop()
            raise ConnectionFailed(f"{self!r}: the client could not connect: {exc}") from None
        self.client = client

    def _start_server(self) -> daemon.ProcessFixture:
        server = self._peer("server", self.server_machine, [], ready=lambda: (
            "listening on" in server.output()))
        try:
            server.start()
        except (daemon.ProcessExited, wait.WaitTimeout):
            server.stop()
            raise
        return server

    def _peer(self, role: str, machine: PingingMachine, options: list[str],
              ready: Callable[[], bool]) -> daemon.ProcessFixture:
        """The peer program in ``machine``'s namespace, owned by pid."""
        ctx = machine.ctx
        cmd = [sys.executable, "-u", "-m", "fullstack.resources.netcat_peer", role,
               self.protocol, self.server_machine.ip, str(self.dst_port), *options]
        python_path = os.pathsep.join(filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
        return daemon.ProcessFixture(
            f"nc-{self.protocol}-{role}-{machine.namespace}-{self.dst_port}", cmd, ctx.owner,
            namespace=machine.namespace,
            env={"PYTHONPATH": python_path}, ready=ready,
            ready_timeout=CONNECT_TIMEOUT + PEER_STARTUP)

    def test_connectivity(self) -> bool:
        """Whether a fresh line the client sends comes back from the server within
        ECHO_TIMEOUT s, over the established connection (established first if
        there is none yet).  False, never an error, when the path is cut."""
        if self.client is None:
            try:
                self.establish_connection()
            except ConnectionFailed as exc:
                LOG.info("%s", exc)
                return False
        assert self.client is not None
        token = uuid.uuid4().hex
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as control:
                control.settimeout(ECHO_TIMEOUT + PEER_STARTUP)
                control.connect(self._control_path())
                control.sendall(f"{ECHO_TIMEOUT} {token}\n".encode())
                reply = control.makefile("r").readline().strip()
        except OSError as exc:
            reply = f"no answer from the client ({exc!r}); {self.client!r}"
        LOG.debug("%r sent %s: %s", self, token, reply)
        return reply == "ok"

    def test_no_connectivity(self) -> bool:
        """Whether data does not go both ways (the connection stays as it is)."""
        return not self.test_connectivity()

    def stop_processes(self) -> None:
        """End the client and the server (by pid)."""
        for process in (self.client, self.server):
            self._stop(process)
        self.client = self.server = None
        if self.control_path is not None:   # the client removes it, unless killed
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.control_path)

    @staticmethod
    def _stop(process: daemon.ProcessFixture | None) -> None:
        if process is not None:
            process.stop()


