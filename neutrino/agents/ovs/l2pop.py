"""What l2 population told this agent: which MACs and IPs live behind which host.

Entries arrive as ``{network_id: {"network_type", "segmentation_id",
"ports": {tunnel_ip: [[mac, ip], ...]}}}``; the pair
``FLOODING_ENTRY`` means "this host has ports on the network, flood to it".
"""

from __future__ import annotations

FLOODING_ENTRY = ("00:00:00:00:00:00", "0.0.0.0")


class ForwardingDatabase:
    def __init__(self, local_ip: str):
        self.local_ip = local_ip
        # network id -> tunnel ip -> {(mac, ip)}
        self.entries: dict[str, dict[str, set[tuple[str, str]]]] = {}

    def add(self, fdb_entries: dict) -> set[str]:
        """Merge entries; return the networks that changed."""
        changed = set()
        for network_id, entry in fdb_entries.items():
            hosts = self.entries.setdefault(network_id, {})
            for tunnel_ip, ports in entry.get("ports", {}).items():
                if tunnel_ip == self.local_ip:
                    continue
                known = hosts.setdefault(tunnel_ip, set())
                new = {tuple(p) for p in ports} - known
                if new:
                    known |= new
                    changed.add(network_id)
        return changed

    def remove(self, fdb_entries: dict) -> dict[str, set[tuple[str, str, str]]]:
        """Forget entries; return, per network, the (tunnel ip, mac, ip) removed."""
        removed: dict[str, set[tuple[str, str, str]]] = {}
        for network_id, entry in fdb_entries.items():
            hosts = self.entries.get(network_id, {})
            for tunnel_ip, ports in entry.get("ports", {}).items():
                known = hosts.get(tunnel_ip, set())
                for port in map(tuple, ports):
                    if port in known:
                        known.discard(port)
                        removed.setdefault(network_id, set()).add((tunnel_ip, *port))
                if not known:
                    hosts.pop(tunnel_ip, None)
        return removed

    def flood_hosts(self, network_id: str) -> set[str]:
        return {ip for ip, ports in self.entries.get(network_id, {}).items()
                if FLOODING_ENTRY in ports}

    def unicast(self, network_id: str) -> list[tuple[str, str, str]]:
        """(tunnel ip, mac, ip) of every remote port of the network."""
        return [(tunnel_ip, mac, ip)
                for tunnel_ip, ports in self.entries.get(network_id, {}).items()
                for mac, ip in ports if (mac, ip) != FLOODING_ENTRY]
