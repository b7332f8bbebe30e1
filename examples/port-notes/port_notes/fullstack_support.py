"""What the plugin's fullstack scenarios need of the harness: its collector on each
host, and the options that switch the plugin on.

The harness (``fullstack``) is a test dependency of the plugin, as Neutron's
fullstack helpers were for networking-bagpipe or neutron-fwaas; nothing here
is copied from it, only used: a ``HostExtension`` and the config overlays.
"""

import dataclasses
import json
import os
import sys

from fullstack import extension
from fullstack.resources import daemon
from port_notes import api


@dataclasses.dataclass(frozen=True)
class Collector(extension.HostExtension):
    """The plugin's per-host process (port_notes.collector), owned by the host, and
    where the host's L2 agent finds it."""

    @property
    def name(self):
        return "port-notes-collector"

    def start(self, host):
        socket_path, record = self.paths(host)
        host.spawn(self.name, [sys.executable, "-m", "port_notes.collector", socket_path,
                               record],
                   ready=lambda: daemon.accepts(socket_path))

    def agent_config(self, host):
        return {"l2": {"agent": {"extensions": ["port_notes"]},
                       "port_notes": {"collector_socket": self.paths(host)[0]}}}

    @staticmethod
    def paths(host):
        """Its socket and its record (JSON lines), beside the host's OVS."""
        return (os.path.join(host.ovs.run_dir, "port-notes.sock"),
                os.path.join(host.ovs.run_dir, "port-notes.jsonl"))

    @classmethod
    def reports(cls, host):
        """What the host's collector was told so far."""
        try:
            with open(cls.paths(host)[1]) as record:
                return [json.loads(line) for line in record]
        except FileNotFoundError:
            return []


def neutron_server_config():
    """The server options that load the ML2 extension driver and find its API
    extension (Neutron's ML2 keeps port_security, as the harness runs it)."""
    return {"DEFAULT": {"api_extensions_path": api.EXTENSIONS_PATH},
            "ml2": {"extension_drivers": ["port_security", "port_notes"]}}
