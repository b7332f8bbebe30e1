"""The L2 agent extension: tells the host's collector of every port wired and gone.

One class for each system's OVS agent, the same reports: Neutron's agent
loads ``NeutronPortReporter`` by its entry point (``[agent] extensions =
port_notes``), neutrino's loads ``NeutrinoPortReporter`` the same way.
Both read ``[port_notes] collector_socket``.
"""

import json
import logging
import socket

from oslo_config import cfg

LOG = logging.getLogger(__name__)

OPTS = [cfg.StrOpt("collector_socket", help="The host's collector (port_notes.collector).")]


def report(socket_path, **fields):
    """One report to the collector; a collector that is away is logged, not fatal."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(socket_path)
            sock.sendall((json.dumps(fields) + "\n").encode())
            sock.makefile().readline()
    except OSError as error:
        LOG.warning("port_notes: no report to %s (%s)", socket_path, error)


try:
    from neutron_lib.agent import l2_extension
except ImportError:   # a machine without Neutron: neutrino's only
    l2_extension = None

if l2_extension is not None:
    class NeutronPortReporter(l2_extension.L2AgentExtension):
        def initialize(self, connection, driver_type):
            cfg.CONF.register_opts(OPTS, group="port_notes")
            self.socket_path = cfg.CONF.port_notes.collector_socket

        def consume_api(self, agent_api):
            pass

        def handle_port(self, context, data):
            report(self.socket_path, event="wired", port_id=data["port_id"],
                   network_id=data.get("network_id"), mac_address=data.get("mac_address"))

        def delete_port(self, context, data):
            report(self.socket_path, event="gone", port_id=data["port_id"])

try:
    from neutrino.agents.ovs import extensions as neutrino_extensions
except ImportError:   # a machine without neutrino: Neutron's only
    neutrino_extensions = None

if neutrino_extensions is not None:
    class NeutrinoPortReporter(neutrino_extensions.AgentExtension):
        options = {"port_notes": OPTS}

        def initialize(self, api):
            self.socket_path = api.conf.port_notes.collector_socket

        def handle_port(self, port):
            if port.details is not None and not port.dead:
                report(self.socket_path, event="wired", port_id=port.iface_id,
                       network_id=port.details.network_id,
                       mac_address=port.details.mac_address)

        def delete_port(self, port):
            report(self.socket_path, event="gone", port_id=port.iface_id)
