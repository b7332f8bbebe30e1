"""The DHCP agent: a dnsmasq per network the server scheduled to this host."""

from __future__ import annotations

import logging
import os

from neutrino.agents import resync
from neutrino.agents.dhcp import network
from neutrino.common import ip, plugging, shutdown, wire

LOG = logging.getLogger(__name__)


class DhcpAgent(resync.ResyncingAgent):
    agent_type = wire.DHCP_AGENT_TYPE
    binary = "neutrino-dhcp-agent"
    topic = wire.DHCP_AGENT_TOPIC

    def __init__(self, conf):
        super().__init__(conf, self.Notifications(self),
                         ["dhcp_networks_changed", "dhcp_network_deleted"])
        self.networks: dict[str, network.NetworkServer] = {}
        self.plugger = plugging.BrIntPlugger(conf.ovs.ovsdb_connection,
                                             conf.ovs.integration_bridge)

    class Notifications:
        def __init__(self, agent: DhcpAgent):
            self._agent = agent

        def dhcp_networks_changed(self, network_ids: list[str]) -> None:
            for network_id in network_ids:
                self._agent.resync(network_id)

        def dhcp_network_deleted(self, network_id: str) -> None:
            self._agent.resync(network_id)

    def run(self) -> None:
        os.makedirs(self.conf.state_path, exist_ok=True)
        super().run()

    def full_sync(self) -> None:
        active = self.plugin.call("get_active_networks_info", host=self.host,
                                  timeout=self.conf.rpc_response_timeout)
        present = {net["id"]: net for net in active}
        for network_id, data in present.items():
            self._apply(network_id, data)
        for network_id in (set(self.networks) | self._stale_networks()) - set(present):
            self._remove(network_id)

    def sync(self, resource_ids: list[str]) -> None:
        for network_id in resource_ids:
            data = self.plugin.call("get_network_info", host=self.host, network_id=network_id,
                                    timeout=self.conf.rpc_response_timeout)
            if data is None:
                self._remove(network_id)
            else:
                self._apply(network_id, data)

    def _server_for(self, network_id: str) -> network.NetworkServer:
        if network_id not in self.networks:
            self.networks[network_id] = network.NetworkServer(network_id, self.conf,
                                                              self.plugger, self.plugin)
        return self.networks[network_id]

    def _apply(self, network_id: str, data: dict) -> None:
        try:
            self._server_for(network_id).apply(data)
            LOG.info("serving network %s (%d ports)", network_id, len(data["ports"]))
        except Exception:
            LOG.exception("network %s could not be served; will retry", network_id)
            self.resync(network_id)

    def _remove(self, network_id: str) -> None:
        server = self.networks.pop(network_id, None) or network.NetworkServer(
            network_id, self.conf, self.plugger, self.plugin)
        server.disable()

    def _stale_networks(self) -> set[str]:
        """Networks whose namespace a previous run of this agent left."""
        stem = f"{self.conf.namespace_prefix}qdhcp-"
        return {name[len(stem):] for name in ip.list_namespaces() if name.startswith(stem)}

    def configurations(self) -> dict:
        return {"networks": len(self.networks),
                "namespace_prefix": self.conf.namespace_prefix}

    def close(self) -> None:
        shutdown.close_all([self.listener.stop, self.plugin.close, self.plugger.close])
