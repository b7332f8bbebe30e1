"""The dnsmasq serving one network, started in the network's DHCP namespace.

dnsmasq outlives the agent on purpose: leases keep being answered while the
agent restarts.  The agent finds it again by its pid file, and checks that
the pid's command line names that very file before signalling it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess

import psutil

from neutrino.agents.dhcp import dnsmasq_files
from neutrino.common import ip

LOG = logging.getLogger(__name__)


class Dnsmasq:
    def __init__(self, state_dir: str, namespace: str, interface: str, lease_seconds: int):
        self.dir = state_dir
        self.namespace = namespace
        self.interface = interface
        self.lease_seconds = lease_seconds

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def process(self) -> psutil.Process | None:
        """Our running dnsmasq, identified by its pid file and command line."""
        try:
            with open(self.path("pid")) as f:
                proc = psutil.Process(int(f.read().strip()))
            if f"--pid-file={self.path('pid')}" in proc.cmdline():
                return proc
        except (OSError, ValueError, psutil.Error):
            pass
        return None

    def apply(self, network: dict) -> None:
        """Write the files; reload a running dnsmasq or start one."""
        os.makedirs(self.dir, exist_ok=True)
        self._write("hosts", dnsmasq_files.hosts_file(network))
        self._write("opts", dnsmasq_files.opts_file(network))
        ranges = dnsmasq_files.range_args(network, self.lease_seconds)
        current = self.process()
        if current is not None and self._ranges_of(current) == ranges:
            current.send_signal(signal.SIGHUP)   # re-reads the hosts and opts files
            return
        if current is not None:
            self._stop(current)
        if ranges:
            self._start(ranges)

    def _ranges_of(self, proc: psutil.Process) -> list[str]:
        return [arg for arg in proc.cmdline() if arg.startswith("--dhcp-range=")]

    def _write(self, name: str, text: str) -> None:
        tmp = self.path(name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.path(name))

    def _start(self, ranges: list[str]) -> None:
        cmd = ip.in_namespace(self.namespace, [
            "dnsmasq", "--conf-file=", "--no-hosts", "--no-resolv", "--port=0",
            "--user=root", "--group=root", "--bind-interfaces",
            f"--interface={self.interface}", "--except-interface=lo",
            "--dhcp-authoritative", "--log-dhcp", f"--log-facility={self.path('log')}",
            f"--pid-file={self.path('pid')}",
            f"--dhcp-hostsfile={self.path('hosts')}",
            f"--dhcp-optsfile={self.path('opts')}",
            f"--dhcp-leasefile={self.path('leases')}",
            *ranges,
        ])
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        LOG.info("dnsmasq started in %s", self.namespace)

    def _stop(self, proc: psutil.Process) -> None:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
            proc.wait(10)

    def disable(self) -> None:
        current = self.process()
        if current is not None:
            self._stop(current)
