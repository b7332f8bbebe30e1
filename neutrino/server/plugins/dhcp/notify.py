"""What the DHCP plugin tells DHCP agents."""

from __future__ import annotations

from collections.abc import Iterable

from neutrino.server.rpc.notifier import Notifier, unique


class DhcpAgentNotifier:
    def __init__(self, notifier: Notifier):
        self._notifier = notifier

    def dhcp_networks_changed(self, network_ids: Iterable[str | None]) -> None:
        """DHCP agents ask get_network_info for each network; nothing sent for none."""
        ids = unique(network_ids)
        if ids:
            self._notifier.notify("dhcp_networks_changed", network_ids=ids)

    def dhcp_network_deleted(self, network_id: str) -> None:
        self._notifier.notify("dhcp_network_deleted", network_id=network_id)
