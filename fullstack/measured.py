"""Measured flows between two machines: what a QoS rule does to real traffic.

``TrafficFlow`` runs one flow (``resources.traffic_peer``: a receiver that
counts, a sender that paces) and says what arrived, as it goes
(``bins()``, with ``report``) and at its end (``finish()``);
``measure_throughput``, ``measure_packet_rate`` and ``dscp_marks`` are one
flow each, reduced to a number.  ``probes`` names them all.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
from typing import TYPE_CHECKING

import fixtures

from fullstack import wait
from fullstack.resources import daemon

if TYPE_CHECKING:
    from fullstack.machine import PingingMachine

LOG = logging.getLogger(__name__)

TRAFFIC_GRACE = 30.0   # s beyond a flow's own length for both ends to finish
PEER_STARTUP = 10.0    # s for a peer's interpreter to start and listen
SMALL_DATAGRAM = 64    # bytes of UDP payload when packets, not bytes, are counted
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TrafficFlow(fixtures.Fixture):
    """One flow from ``sender`` to ``receiver`` for ``seconds``: ``protocol`` udp or tcp,
    ``options`` the peers' (``--rate-bps``, ``--pps``, ``--size``, ``--count``...).

    Set-up starts the receiver (until it listens) and the sender; ``finish()``
    waits for both to end and gives what the receiver counted; cleanup stops
    both (by pid).  With ``report`` (s), the receiver also says every
    ``report`` s how many bytes arrived: ``bins()``, as the flow goes.
    """

    def __init__(self, sender: PingingMachine, receiver: PingingMachine, protocol: str,
                 seconds: float, options: list[str], report: float = 0.0):
        super().__init__()
        if protocol not in ("udp", "tcp"):
            raise ValueError(f"protocol {protocol!r} is not one of udp, tcp")
        self.sender, self.receiver = sender, receiver
        self.protocol, self.seconds = protocol, seconds
        self.options = [*options, *(["--report", str(report)] if report else [])]
        self.port = random.randint(20000, 29999)

    def _peer(self, role: str, machine: PingingMachine) -> daemon.ProcessFixture:
        cmd = [sys.executable, "-u", "-m", "fullstack.resources.traffic_peer", role,
               self.protocol, self.receiver.ip, str(self.port), "--seconds", str(self.seconds),
               *self.options]
        python_path = os.pathsep.join(filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
        return daemon.ProcessFixture(
            f"traffic-{role}-{machine.namespace}-{self.port}", cmd, machine.ctx.owner,
            namespace=machine.namespace, env={"PYTHONPATH": python_path},
            ready_timeout=PEER_STARTUP)

    def _setUp(self) -> None:
        self.receiving = self._peer("receive", self.receiver)
        self.receiving.ready = lambda: "listening on" in self.receiving.output()
        self.sending = self._peer("send", self.sender)
        self.addCleanup(self.receiving.stop)
        self.receiving.start()
        self.addCleanup(self.sending.stop)
        self.sending.start()

    def bins(self) -> list[tuple[float, int]]:
        """(start, bytes) of each ``report`` s the receiver counted so far
        (``time.monotonic()`` of this machine: every namespace shares it)."""
        found = []
        for line in self.receiving.output().splitlines():
            if line.startswith("bin "):
                _, start, size = line.split()
                found.append((float(start), int(size)))
        return found

    def finish(self) -> dict:
        """Wait for both ends to end; what the receiver counted."""
        for end in (self.sending, self.receiving):
            _wait_ended(end, self.seconds + TRAFFIC_GRACE)
        found = [line for line in self.receiving.output().splitlines()
                 if line.startswith("result ")]
        if self.sending.returncode != 0 or not found:
            raise RuntimeError(f"the flow {self.sender.namespace} -> {self.receiver.ip}:"
                               f"{self.port} failed: {self.sending.describe_exit()}\n"
                               f"{self.receiving.describe_exit()}")
        result = json.loads(found[-1].split(" ", 1)[1])
        LOG.info("flow %s -> %s:%d (%s, %s): %s", self.sender.namespace, self.receiver.ip,
                 self.port, self.protocol, " ".join(self.options),
                 {key: value for key, value in result.items() if key != "bins"})
        return result


def _wait_ended(process: daemon.ProcessFixture, timeout: float) -> None:
    wait.wait_until_true(lambda: not process.is_running(), timeout=timeout, sleep=0.05,
                         exception=f"{process.name} still running after {timeout} s")


def _flow(sender: PingingMachine, receiver: PingingMachine, protocol: str, seconds: float,
          options: list[str]) -> dict:
    with TrafficFlow(sender, receiver, protocol, seconds, options) as flow:
        return flow.finish()


def _steady(result: dict, per: str) -> float:
    """Bytes or packets (``per``) a second, from a third of the flow on to its last
    arrival (0 if nothing came then): the rate a limiter holds once its burst is spent."""
    span = (result["last"] or 0) - result["steady_from"]
    return result[f"steady_{per}"] / span if span > 0 else 0.0


def measure_throughput(sender: PingingMachine, receiver: PingingMachine, *,
                       protocol: str = "udp", seconds: float = 3.0,
                       offered_mbps: float = 50.0) -> float:
    """Mbit/s of payload ``receiver`` got from ``sender``, UDP paced at ``offered_mbps``
    (TCP as fast as it goes) for ``seconds``: its steady rate, over the last two thirds
    (a limiter may let its burst through first)."""
    result = _flow(sender, receiver, protocol, seconds, ["--rate-bps", str(offered_mbps * 1e6),
                                                         "--skip", str(seconds / 3)])
    return _steady(result, "bytes") * 8 / 1e6


def measure_packet_rate(sender: PingingMachine, receiver: PingingMachine, *,
                        seconds: float = 3.0, offered_pps: float = 2000) -> float:
    """Packets/s ``receiver`` got of small UDP datagrams ``sender`` offered at
    ``offered_pps`` for ``seconds`` (its steady rate, as ``measure_throughput``)."""
    result = _flow(sender, receiver, "udp", seconds,
                   ["--pps", str(offered_pps), "--size", str(SMALL_DATAGRAM),
                    "--skip", str(seconds / 3)])
    return _steady(result, "packets")


def dscp_marks(sender: PingingMachine, receiver: PingingMachine, count: int = 5) -> set[int]:
    """The DSCP values of ``count`` UDP datagrams from ``sender`` as ``receiver`` saw them."""
    result = _flow(sender, receiver, "udp", 0.0,
                   ["--count", str(count), "--size", str(SMALL_DATAGRAM)])
    return {tos >> 2 for tos in result["tos"]}
