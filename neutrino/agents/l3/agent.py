"""The L3 agent: builds the routers the server scheduled to this host.

One thread applies every change; notifications only name routers to
resync, and a periodic full resync catches anything missed.
"""

from __future__ import annotations

import datetime
import logging
import queue
import threading
import time

from neutrino.agents.l3 import plugger, router
from neutrino.common import ip, rpc, shutdown

LOG = logging.getLogger(__name__)

AGENT_TYPE = "L3 agent"
BINARY = "neutrino-l3-agent"
PLUGIN_TOPIC = "q-plugin"
NOTIFY_EXCHANGE = "neutrino-notify"
FULL_SYNC = "*"
RETRY_INTERVAL = 1.0


class L3Agent:
    def __init__(self, conf):
        self.conf = conf
        self.host = conf.host
        self.prefix = conf.namespace_prefix
        self.routers: dict[str, router.Router] = {}
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.plugger = plugger.BrIntPlugger(conf.ovs.ovsdb_connection,
                                            conf.ovs.integration_bridge)
        self.plugin = rpc.RpcClient(conf.transport_url, PLUGIN_TOPIC)
        self.listener = rpc.NotificationListener(
            conf.transport_url, self.Notifications(self), exchange=NOTIFY_EXCHANGE,
            events=["routers_updated", "router_deleted"])
        self.start_flag = True

    class Notifications:
        def __init__(self, agent: L3Agent):
            self._agent = agent

        def routers_updated(self, router_ids: list[str]) -> None:
            for router_id in router_ids:
                self._agent.work.put(router_id)

        def router_deleted(self, router_id: str) -> None:
            self._agent.work.put(router_id)

    def run(self) -> None:
        self.listener.start()
        threading.Thread(target=self._report_loop, name="report", daemon=True).start()
        self.work.put(FULL_SYNC)
        next_full_sync = time.monotonic() + self.conf.resync_interval
        while not self.stopping.is_set():
            try:
                first = self.work.get(timeout=max(0.0, next_full_sync - time.monotonic()))
            except queue.Empty:
                first = FULL_SYNC
            if self.stopping.is_set():
                break
            batch = {first} | self._drain()
            if FULL_SYNC in batch:
                next_full_sync = time.monotonic() + self.conf.resync_interval
            if not self._sync(batch):
                # The server did not answer: try the same routers again soon.
                for item in batch:
                    self.work.put(item)
                self.stopping.wait(RETRY_INTERVAL)

    def _drain(self) -> set[str]:
        items = set()
        while True:
            try:
                items.add(self.work.get_nowait())
            except queue.Empty:
                return items

    def _sync(self, batch: set[str]) -> bool:
        full = FULL_SYNC in batch
        try:
            routers = self.plugin.call("sync_routers", host=self.host,
                                       router_ids=None if full else sorted(batch),
                                       timeout=self.conf.rpc_timeout)
        except rpc.RpcError as exc:
            LOG.warning("sync_routers failed: %s", exc)
            return False
        present = {data["id"]: data for data in routers}
        for router_id, data in present.items():
            self._apply(router_id, data)
        gone = (set(self.routers) | self._stale_namespaces()) if full else batch
        for router_id in gone - set(present):
            self._remove(router_id)
        return True

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
            self.work.put(router_id)

    def _remove(self, router_id: str) -> None:
        current = self.routers.pop(router_id, None) or router.Router(router_id, self.prefix,
                                                                     self.plugger)
        current.destroy()

    def _stale_namespaces(self) -> set[str]:
        """Routers whose namespace a previous run of this agent left."""
        stem = f"{self.prefix}qrouter-"
        return {name[len(stem):] for name in ip.list_namespaces() if name.startswith(stem)}

    def stop(self) -> None:
        self.stopping.set()
        self.work.put(FULL_SYNC)

    def close(self) -> None:
        shutdown.close_all([self.listener.stop, self.plugin.close, self.plugger.close])

    def _report_loop(self) -> None:
        while not self.stopping.is_set():
            state = {
                "binary": BINARY, "host": self.host, "agent_type": AGENT_TYPE,
                "topic": "l3_agent", "start_flag": self.start_flag,
                "configurations": {"routers": len(self.routers),
                                   "namespace_prefix": self.prefix},
            }
            try:
                self.plugin.call("report_state", agent_state=state,
                                 time=datetime.datetime.now(datetime.timezone.utc).isoformat(),
                                 timeout=max(self.conf.report_interval, 1.0))
                self.start_flag = False
            except rpc.RpcError as exc:
                LOG.warning("report_state failed: %s", exc)
            self.stopping.wait(self.conf.report_interval)
