"""Packet captures (tcpdump) in a namespace, for scenarios that must see the wire."""

from __future__ import annotations

import fixtures

from fullstack import context, wait
from fullstack.resources import daemon

CAPTURE_TIMEOUT = 20.0


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
        with open(self.process.log_path, errors="replace") as f:
            return f.read()

    def _listening(self) -> bool:
        return "listening on" in self._output()

    def wait_for_packets(self, timeout: float = CAPTURE_TIMEOUT) -> list[str]:
        """Wait until ``count`` packets were captured; return tcpdump's lines."""
        wait.wait_until_true(lambda: not self.process.is_running(), timeout=timeout,
                             sleep=0.05,
                             exception=lambda: f"{self.process.name}: fewer packets than "
                                               f"expected after {timeout} s:\n{self._output()}")
        return [line for line in self._output().splitlines()
                if line and not line.startswith(("====", "tcpdump:", "listening on"))
                and "packets captured" not in line and "packets received" not in line
                and "packets dropped" not in line]

    def captured_so_far(self) -> str:
        return self._output()
