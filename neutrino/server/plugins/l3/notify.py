"""What the router plugin tells L3 agents."""

from __future__ import annotations

from collections.abc import Iterable

from neutrino.server.rpc.notifier import Notifier, unique


class L3AgentNotifier:
    def __init__(self, notifier: Notifier):
        self._notifier = notifier

    def routers_updated(self, router_ids: Iterable[str | None]) -> None:
        """L3 agents resync the named routers with sync_routers; nothing sent for none."""
        ids = unique(router_ids)
        if ids:
            self._notifier.notify("routers_updated", router_ids=ids)

    def router_deleted(self, router_id: str) -> None:
        self._notifier.notify("router_deleted", router_id=router_id)
