"""An L2 agent extension for neutrino's OVS agent that writes down what it hears.

Loaded by the agent by import path (``[agent] extensions``); it records in
the host's OVSDB, where a test reads it: each port it was handed, on the
port's Interface row; each port that left, on br-int's row.
"""

from __future__ import annotations

from neutrino.agents.ovs import extensions, ports


class PortRecorder(extensions.AgentExtension):
    def initialize(self, api: extensions.AgentApi) -> None:
        self.api = api
        self.calls: dict[str, int] = {}

    def handle_port(self, port: ports.WiredPort) -> None:
        assert port.details is not None
        self.calls[port.iface_id] = self.calls.get(port.iface_id, 0) + 1
        self.api.ovsdb.db_set("Interface", port.name, ("external_ids", {
            "recorded-network": port.details.network_id,
            "recorded-mac": port.details.mac_address,
            "recorded-vlan": str(port.lvid), "recorded-calls": str(self.calls[port.iface_id]),
        })).execute(check_error=True)

    def delete_port(self, port: ports.WiredPort) -> None:
        self.api.ovsdb.db_set("Bridge", "br-int", ("external_ids", {
            f"recorded-gone-{port.iface_id}": port.name})).execute(check_error=True)
