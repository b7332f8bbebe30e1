"""The L3 agent: builds the routers the server scheduled to this host."""

from __future__ import annotations

import logging

from neutrino.agents import resync
from neutrino.agents.l3 import router
from neutrino.common import ip, plugging, shutdown, wire

LOG = logging.getLogger(__name__)


class L3Agent(resync.ResyncingAgent):
    agent_type = wire.L3_AGENT_TYPE
    binary = "neutrino-l3-agent"
    topic = wire.L3_AGENT_TOPIC

    def __init__(self, conf):
        super().__init__(conf, self.Notifications(self), ["routers_updated", "router_deleted"])
        self.prefix = conf.namespace_prefix
        self.routers: dict[str, router.Router] = {}
        self.plugger = plugging.BrIntPlugger(conf.ovs.ovsdb_connection,
                                             conf.ovs.integration_bridge)

    class Notifications:
        def __init__(self, agent: L3Agent):
            self._agent = agent

        def routers_updated(self, router_ids: list[str]) -> None:
            for router_id in router_ids:
                self._agent.resync(router_id)

        def router_deleted(self, router_id: str) -> None:
            self._agent.resync(router_id)

    def full_sync(self) -> None:
        self._apply_all(None)

    def sync(self, resource_ids: list[str]) -> None:
        self._apply_all(resource_ids)

    def _apply_all(self, router_ids: list[str] | None) -> None:
        routers = self.plugin.call("sync_routers", host=self.host, router_ids=router_ids,
                                   timeout=self.conf.rpc_response_timeout)
        present = {data["id"]: data for data in routers}
        for router_id, data in present.items():
            self._apply(router_id, data)
        if router_ids is None:
            gone = set(self.routers) | self._stale_namespaces()
        else:
            gone = set(router_ids)
        for router_id in gone - set(present):
            self._remove(router_id)

    def _apply(self, router_id: str, data: dict) -> None:
        current = self.routers.get(router_id)
        if current is None:
            current = self.routers[router_id] = router.Router(router_id, self.prefix,
                                                              self.plugger)
        try:
            current.apply(data)
            LOG.info("router %s applied (%d interfaces, gateway %s, %d floating IPs)",
                     router_id, len(data.get("interfaces", [])), bool(data.get("gw_port")),
                     len(data.get("floating_ips", [])))
        except Exception:
            LOG.exception("router %s could not be applied; will retry", router_id)
            self.resync(router_id)

    def _remove(self, router_id: str) -> None:
        current = self.routers.pop(router_id, None) or router.Router(router_id, self.prefix,
                                                                     self.plugger)
        current.destroy()

    def _stale_namespaces(self) -> set[str]:
        """Routers whose namespace a previous run of this agent left."""
        stem = f"{self.prefix}qrouter-"
        return {name[len(stem):] for name in ip.list_namespaces() if name.startswith(stem)}

    def configurations(self) -> dict:
        return {"routers": len(self.routers), "namespace_prefix": self.prefix}

    def close(self) -> None:
        shutdown.close_all([self.listener.stop, self.plugin.close, self.plugger.close])
