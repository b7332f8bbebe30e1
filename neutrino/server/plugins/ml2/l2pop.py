"""L2 population: tell every OVS agent which MACs and IPs live behind which tunnel endpoint.

Entries go out as ``{network_id: {"network_type", "segmentation_id",
"ports": {tunnel_ip: [[mac, ip], ...]}}}`` on the fanout exchange, and every
agent drops what concerns its own tunnel IP or networks it does not host. So
a port coming up sends its network's *full* state: the agent that wired it
learns every remote port in one message (even after a restart), the others
learn the new port, and merging the rest again is idempotent on their side.

Only tunnel networks take part: on VLAN and flat networks the physical
fabric learns MACs by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.plugins.ml2.notify import L2AgentNotifier

LOG = logging.getLogger(__name__)

# In a host's list: "this host has an active port on the network, flood to it".
FLOODING_ENTRY = ("00:00:00:00:00:00", "0.0.0.0")
TUNNEL_TYPES = ("vxlan", "gre")
ACTIVE = "ACTIVE"

FdbEntries = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class PortFacts:
    """What l2pop needs of a port, read inside the transaction that changes it.

    Taken before a change it still describes a port that is then deleted or moved.
    """

    network_id: str
    host: str
    mac_address: str
    ip_addresses: tuple[str, ...]
    active: bool

    @classmethod
    def of(cls, port: models.Port) -> PortFacts:
        return cls(port.network_id, port.binding.host if port.binding else "",
                   port.mac_address, tuple(sorted(a.ip_address for a in port.fixed_ips)),
                   port.status == ACTIVE)

    @classmethod
    def of_dict(cls, port: dict[str, Any]) -> PortFacts:
        """The facts of a port as the API shows it (an event's state)."""
        return cls(port["network_id"], port.get("binding:host_id") or "", port["mac_address"],
                   tuple(sorted(ip["ip_address"] for ip in port["fixed_ips"])),
                   port["status"] == ACTIVE)

    def pairs(self, ip_addresses: Iterable[str] | None = None) -> set[tuple[str, str]]:
        """(mac, ip) for each fixed IP, or for ``ip_addresses`` only."""
        chosen = self.ip_addresses if ip_addresses is None else ip_addresses
        return {(self.mac_address, ip) for ip in chosen}


@dataclass(frozen=True)
class TunnelNetwork:
    network_id: str
    network_type: str
    segmentation_id: int

    @classmethod
    def of(cls, network: models.Network | None) -> TunnelNetwork | None:
        """The network's tunnel segment, or None when l2pop has nothing to say about it."""
        if network is None or not network.segments:
            return None
        segment = network.segments[0]
        if segment.network_type not in TUNNEL_TYPES or segment.segmentation_id is None:
            return None
        return cls(network.id, segment.network_type, segment.segmentation_id)

    def entries(self, hosts: Mapping[str, Collection[tuple[str, str]]]) -> FdbEntries:
        """fdb_entries for ``hosts`` (tunnel ip -> pairs); empty when no host has any."""
        ports = {tunnel_ip: [list(pair) for pair in _ordered(pairs)]
                 for tunnel_ip, pairs in sorted(hosts.items()) if pairs}
        if not ports:
            return {}
        return {self.network_id: {"network_type": self.network_type,
                                  "segmentation_id": self.segmentation_id, "ports": ports}}


def _ordered(pairs: Collection[tuple[str, str]]) -> list[tuple[str, str]]:
    """The flooding entry first, then the ports: stable messages read well in logs."""
    return sorted(pairs, key=lambda pair: (pair != FLOODING_ENTRY, pair))


def network_fdb(network: TunnelNetwork, ports: Iterable[PortFacts],
                endpoints: Mapping[str, str]) -> FdbEntries:
    """The full state of ``network``: each host with an active port floods and lists them.

    ``endpoints`` maps host to tunnel ip; hosts without one cannot be reached
    by tunnel and are left out.
    """
    hosts: dict[str, set[tuple[str, str]]] = {}
    for port in ports:
        tunnel_ip = endpoints.get(port.host)
        if port.active and port.network_id == network.network_id and tunnel_ip:
            hosts.setdefault(tunnel_ip, {FLOODING_ENTRY}).update(port.pairs())
    return network.entries(hosts)


def removal_fdb(network: TunnelNetwork, tunnel_ip: str | None,
                pairs: Collection[tuple[str, str]], stop_flooding: bool) -> FdbEntries:
    """What to remove for one host: ``pairs``, and the flooding entry if it has no port left."""
    if not tunnel_ip:
        return {}
    removed = set(pairs) | ({FLOODING_ENTRY} if stop_flooding else set())
    return network.entries({tunnel_ip: removed})


class L2Population:
    """Sends fdb_add/fdb_remove after a port change has been committed.

    Each method reads what it needs in a transaction of its own, after the
    change's: it then sees ports other requests committed meanwhile, so two
    ports going down at once on one host cannot both keep it flooded. Like
    every notification, a failure is logged and never fails the caller.
    """

    def __init__(self, db: database.Database, notifier: L2AgentNotifier):
        self._db = db
        self._notifier = notifier

    def port_up(self, network_id: str) -> None:
        """A port of ``network_id`` is ACTIVE: send the network's full state."""
        self._send(self._notifier.fdb_add,
                   lambda session: self._network_state(session, network_id))

    def port_changed(self, before: PortFacts, after: PortFacts | None) -> None:
        """Tell agents about a status, host or address change, or the delete, of an ACTIVE port."""
        if not before.active:
            return
        if after is None or not after.active or after.host != before.host:
            self._send(self._notifier.fdb_remove,
                       lambda session: self._removal(
                           session, before, before.pairs(), port_left_host=True))
            if after is not None and after.active:
                self.port_up(after.network_id)
        elif after.ip_addresses != before.ip_addresses:
            stale = before.pairs(set(before.ip_addresses) - set(after.ip_addresses))
            if stale:
                self._send(self._notifier.fdb_remove,
                           lambda session: self._removal(
                               session, before, stale, port_left_host=False))
            self.port_up(after.network_id)

    def _send(self, send: Callable[[FdbEntries], None],
              build: Callable[[Session], FdbEntries]) -> None:
        try:
            entries = self._db.run(build)
        except Exception:  # noqa: BLE001 - the change is committed; agents resync
            LOG.warning("could not compute l2pop entries for %s", send.__name__, exc_info=True)
            return
        if entries:
            LOG.debug("l2pop %s %s", send.__name__, entries)
            send(entries)

    def _network_state(self, session: Session, network_id: str) -> FdbEntries:
        network = TunnelNetwork.of(session.get(models.Network, network_id))
        if network is None:
            return {}
        ports = session.scalars(sa.select(models.Port).where(
            models.Port.network_id == network_id, models.Port.status == ACTIVE))
        return network_fdb(network, [PortFacts.of(port) for port in ports],
                           _endpoints(session, network.network_type))

    def _removal(self, session: Session, port: PortFacts, pairs: set[tuple[str, str]],
                 port_left_host: bool) -> FdbEntries:
        network = TunnelNetwork.of(session.get(models.Network, port.network_id))
        if network is None:
            return {}
        stop_flooding = port_left_host and not session.scalar(
            sa.select(sa.func.count()).select_from(models.Port).join(models.PortBinding).where(
                models.Port.network_id == port.network_id, models.Port.status == ACTIVE,
                models.PortBinding.host == port.host))
        tunnel_ip = _endpoints(session, network.network_type).get(port.host)
        return removal_fdb(network, tunnel_ip, pairs, stop_flooding)


def _endpoints(session: Session, tunnel_type: str) -> dict[str, str]:
    """Host -> tunnel ip for ``tunnel_type``, from what tunnel_sync recorded."""
    query = sa.select(models.TunnelEndpoint).where(
        models.TunnelEndpoint.tunnel_type == tunnel_type)
    return {endpoint.host: endpoint.ip_address for endpoint in session.scalars(query)}
