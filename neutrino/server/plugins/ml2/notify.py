"""What the core plugin tells L2 agents: port and network changes, tunnels, l2pop."""

from __future__ import annotations

from typing import Any

from neutrino.server.rpc.notifier import Notifier


class L2AgentNotifier:
    def __init__(self, notifier: Notifier):
        self._notifier = notifier

    def port_update(self, port: dict[str, Any]) -> None:
        self._notifier.notify("port_update", port=port)

    def port_delete(self, port_id: str) -> None:
        self._notifier.notify("port_delete", port_id=port_id)

    def network_update(self, network: dict[str, Any]) -> None:
        self._notifier.notify("network_update", network=network)

    def network_delete(self, network_id: str) -> None:
        self._notifier.notify("network_delete", network_id=network_id)

    def tunnel_update(self, tunnel_ip: str, tunnel_type: str, host: str) -> None:
        self._notifier.notify("tunnel_update", tunnel_ip=tunnel_ip, tunnel_type=tunnel_type,
                              host=host)

    def fdb_add(self, fdb_entries: dict[str, Any]) -> None:
        self._notifier.notify("fdb_add", fdb_entries=fdb_entries)

    def fdb_remove(self, fdb_entries: dict[str, Any]) -> None:
        self._notifier.notify("fdb_remove", fdb_entries=fdb_entries)
