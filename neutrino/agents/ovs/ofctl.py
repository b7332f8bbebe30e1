"""OpenFlow programming of one bridge through ``ovs-ofctl``.

There is no maintained Python OpenFlow library that is small enough for a
reference agent, so flows go through ``ovs-ofctl`` in batches (one process
per batch, not per flow).  Every flow this agent installs carries its
cookie, so a restarted agent can replace its flows without a gap: install
the new set with a new cookie, then delete flows with the old one.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterable
from typing import Any

LOG = logging.getLogger(__name__)


def match_of(flow: str) -> str:
    """A flow without its actions: what a strict delete names it by."""
    return flow.split(",actions=", 1)[0]


def change_flows(bridge: Any, old: Iterable[str], new: Iterable[str]) -> None:
    """Turn ``bridge``'s flows ``old`` into ``new`` (each set unique by match): add
    what is new or changed first, then delete what no new flow replaces, so a
    packet never finds neither."""
    old, new = list(old), list(new)
    before = set(old)
    bridge.add_flows([flow for flow in new if flow not in before])
    kept = {match_of(flow) for flow in new}
    bridge.delete_flows([match for match in map(match_of, old) if match not in kept],
                        strict=True)


class OfctlError(Exception):
    pass


class OfctlBridge:
    """``protocol``: the OpenFlow version to speak (OpenFlow13 for meters), else
    ovs-ofctl's default, OpenFlow 1.0 with Nicira extensions."""

    def __init__(self, name: str, ovs_rundir: str, cookie: int, protocol: str | None = None):
        self.name = name
        self.ovs_rundir = ovs_rundir
        self.target = f"unix:{os.path.join(ovs_rundir, name + '.mgmt')}"
        self.cookie = cookie
        self.protocol = protocol

    def speaking(self, protocol: str) -> OfctlBridge:
        """The same bridge and cookie, programmed in ``protocol``."""
        return OfctlBridge(self.name, self.ovs_rundir, self.cookie, protocol)

    def _run(self, *args: str, stdin: str | None = None) -> str:
        cmd = ["ovs-ofctl", *(["-O", self.protocol] if self.protocol else []), *args]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=30,
                              check=False)
        if proc.returncode != 0:
            raise OfctlError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}"
                             f"\ninput:\n{stdin or ''}")
        return proc.stdout

    def add_flows(self, flows: list[str]) -> None:
        """Add (or replace) flows, each a ``ovs-ofctl`` flow string without cookie."""
        if not flows:
            return
        text = "".join(f"cookie={self.cookie:#x},{flow}\n" for flow in flows)
        LOG.debug("%s: add flows\n%s", self.name, text)
        self._run("add-flows", self.target, "-", stdin=text)

    def delete_flows(self, matches: list[str], strict: bool = False) -> None:
        """Delete flows matching each match string (all cookies)."""
        if not matches:
            return
        text = "".join(m + "\n" for m in matches)
        LOG.debug("%s: delete flows\n%s", self.name, text)
        args = ["--strict"] if strict else []
        self._run("del-flows", *args, self.target, "-", stdin=text)

    def delete_stale_flows(self) -> None:
        """Delete every flow whose cookie is not ours (left by an earlier run)."""
        # ovs-ofctl cannot match "cookie != X" directly: list the other cookies.
        stale = {line.split("cookie=")[1].split(",")[0]
                 for line in self.dump_flows().splitlines() if "cookie=" in line}
        stale.discard(f"{self.cookie:#x}")
        for cookie in stale:
            self._run("del-flows", self.target, f"cookie={cookie}/-1")

    def dump_flows(self) -> str:
        return self._run("dump-flows", self.target)

    def set_meter(self, meter: str, exists: bool) -> None:
        """Add (or with ``exists``, change) a meter, ``meter=ID,kbps,bands=...``."""
        self._run("mod-meter" if exists else "add-meter", self.target, meter)

    def delete_meter(self, meter_id: int) -> None:
        self._run("del-meter", self.target, f"meter={meter_id}")

    def meter_ids(self) -> set[int]:
        """The ids of the bridge's meters."""
        return {int(line.split("meter=")[1].split()[0].rstrip(","))
                for line in self._run("dump-meters", self.target).splitlines()
                if "meter=" in line}
