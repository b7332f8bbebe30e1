"""What the server tells agents, on the fanout exchange they all listen to.

The one place notifications are sent from, so that new kinds (l2pop's
fdb_add/fdb_remove, the L3 agents' routers_updated/router_deleted, the DHCP
agents' dhcp_networks_changed/dhcp_network_deleted) are added here and
nowhere else. Notifications go out after the change is committed,
and a failure to send one never fails the API call that caused it: agents
resynchronise on their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

LOG = logging.getLogger(__name__)

EXCHANGE = "neutrino-notify"


class Notifier(Protocol):
    def notify(self, event: str, **kwargs: Any) -> None: ...

    def close(self) -> None: ...


class AgentNotifier:
    """Sends the server's notifications through a lazily created notifier."""

    def __init__(self, notifier_factory: Callable[[], Notifier] | None):
        # None: the server runs without RPC, and notifications are dropped.
        self._factory = notifier_factory
        self._notifier: Notifier | None = None
        # Guards the lazy creation only: API and RPC threads may notify at once.
        self._lock = threading.Lock()

    def port_update(self, port: dict[str, Any]) -> None:
        self._notify("port_update", port=port)

    def port_delete(self, port_id: str) -> None:
        self._notify("port_delete", port_id=port_id)

    def network_delete(self, network_id: str) -> None:
        self._notify("network_delete", network_id=network_id)

    def tunnel_update(self, tunnel_ip: str, tunnel_type: str, host: str) -> None:
        self._notify("tunnel_update", tunnel_ip=tunnel_ip, tunnel_type=tunnel_type, host=host)

    def fdb_add(self, fdb_entries: dict[str, Any]) -> None:
        self._notify("fdb_add", fdb_entries=fdb_entries)

    def fdb_remove(self, fdb_entries: dict[str, Any]) -> None:
        self._notify("fdb_remove", fdb_entries=fdb_entries)

    def routers_updated(self, router_ids: Iterable[str]) -> None:
        """L3 agents resync the named routers with sync_routers; nothing sent for none."""
        unique = list(dict.fromkeys(router_id for router_id in router_ids if router_id))
        if unique:
            self._notify("routers_updated", router_ids=unique)

    def router_deleted(self, router_id: str) -> None:
        self._notify("router_deleted", router_id=router_id)

    def dhcp_networks_changed(self, network_ids: Iterable[str]) -> None:
        """DHCP agents ask get_network_info for each network; nothing sent for none."""
        unique = list(dict.fromkeys(network_id for network_id in network_ids if network_id))
        if unique:
            self._notify("dhcp_networks_changed", network_ids=unique)

    def dhcp_network_deleted(self, network_id: str) -> None:
        self._notify("dhcp_network_deleted", network_id=network_id)

    def close(self) -> None:
        with self._lock:
            notifier, self._notifier = self._notifier, None
        if notifier is not None:
            notifier.close()

    def _notify(self, event: str, **kwargs: Any) -> None:
        if self._factory is None:
            LOG.debug("no transport_url: dropping notification %s", event)
            return
        try:
            self._get_notifier().notify(event, **kwargs)
        except Exception:  # noqa: BLE001 - the change is committed; see module doc
            LOG.warning("could not send notification %s %s", event, kwargs, exc_info=True)

    def _get_notifier(self) -> Notifier:
        with self._lock:
            if self._notifier is None:
                assert self._factory is not None
                # Created on first use, so a broker that is down while the
                # server starts only delays notifications.
                self._notifier = self._factory()
            return self._notifier
