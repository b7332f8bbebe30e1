"""Collecting a topology snapshot from the live state: netlink and OVSDB, never descriptions.

Every namespace of the test (and the root namespace's links of its
prefix) is read over netlink, every OVS instance through its IDL replica,
and the two views are joined into the model's dataclasses.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pyroute2 import IPRoute
from pyroute2 import netns as pyroute2_netns

from fullstack.resources import link
from fullstack.resources import namespace as namespace_module
from fullstack.topology.model import (
    Agent,
    Bridge,
    ControlNetwork,
    Device,
    Interface,
    Link,
    Port,
    Site,
    Stack,
    Topology,
    Tunnel,
)

if TYPE_CHECKING:
    from fullstack.environment import Environment
    from fullstack.host import Host
    from fullstack.resources import ovs

ROOT = ""   # the namespace the harness runs in (the control network's bridge is there)
TUNNEL_TYPES = ("vxlan", "gre", "geneve")


# -- the kernel's view: every interface of every namespace, over netlink --

@dataclasses.dataclass(frozen=True)
class _Nic:
    name: str
    index: int
    kind: str | None
    peer: tuple[str, int] | None   # (namespace, ifindex) of a veth's other end
    master: int | None
    addresses: tuple[str, ...]


def _namespace_path(namespace: str) -> str:
    if namespace == ROOT:
        return "/proc/thread-self/ns/net"
    return os.path.join(pyroute2_netns.NETNS_RUN_DIR, namespace)


def _resolve_nsids(ipr: IPRoute, wanted: set[int], fds: dict[str, int]) -> dict[int, str]:
    """Which of ``fds``' namespaces each netnsid (local to ``ipr``'s namespace) names."""
    found: dict[int, str] = {}
    for namespace, fd in fds.items():
        if not wanted - set(found):
            break
        reply = ipr.get_netnsid(fd=fd)
        if reply and reply["nsid"] in wanted:
            found[reply["nsid"]] = namespace
    return found


def _read_namespace(ipr: IPRoute, namespace: str, fds: dict[str, int],
                    prefix: str) -> list[_Nic]:
    links = list(ipr.get_links())
    if namespace == ROOT:
        # The root namespace is shared: only what carries the test's prefix is ours.
        links = [msg for msg in links if msg.get("ifname", "").startswith(prefix + "-")]
    addresses: dict[int, list[str]] = {}
    for msg in ipr.get_addr(family=socket.AF_INET):
        addresses.setdefault(msg["index"], []).append(f"{msg.get('address')}/{msg['prefixlen']}")
    nsids = _resolve_nsids(ipr, {msg.get("link_netnsid") for msg in links} - {None}, fds)
    nics = []
    for msg in links:
        peer = None
        if msg.get("link") is not None:
            nsid = msg.get("link_netnsid")
            peer_namespace = namespace if nsid is None else nsids.get(nsid)
            if peer_namespace is not None:
                peer = (peer_namespace, msg.get("link"))
        nics.append(_Nic(msg.get("ifname"), msg["index"],
                         msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND"), peer,
                         msg.get("master"), tuple(addresses.get(msg["index"], ()))))
    return nics


def _read_kernel(prefix: str, namespaces: list[str]) -> dict[str, list[_Nic]]:
    """Every interface of ``namespaces`` and the root namespace's of our prefix."""
    fds: dict[str, int] = {}
    try:
        for namespace in [ROOT, *namespaces]:
            try:
                fds[namespace] = os.open(_namespace_path(namespace), os.O_RDONLY)
            except FileNotFoundError:
                continue   # removed since it was listed (a router going away)
        result = {}
        for namespace in fds:
            # link.netlink enters the namespace only to open the socket
            # (setns, no helper process): a fraction of a millisecond each.
            try:
                with link.netlink(namespace or None) as ipr:
                    result[namespace] = _read_namespace(ipr, namespace, fds, prefix)
            except FileNotFoundError:
                continue   # removed by now
        return result
    finally:
        for fd in fds.values():
            os.close(fd)


# -- OVSDB's view: each instance's bridges, ports, patch peers and tunnels --

@dataclasses.dataclass(frozen=True)
class _OvsState:
    bridges: dict[str, list[Port]]
    patches: list[tuple[str, str]]   # (port, its options:peer)
    tunnels: list[tuple[str, str, str, str]]   # (type, port, local_ip, remote_ip)


def _optional_int(value: object) -> int | None:
    """An optional integer column (a port's tag): ovsdbapp gives [] or [value]."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, int) else None


def _read_ovs(instance: ovs.OvsInstance) -> _OvsState:
    """One read-only transaction against the instance's (live) IDL replica."""
    api = instance.api
    with api.transaction(check_error=True) as txn:
        bridge_rows = txn.add(api.db_list("Bridge", columns=["name", "ports"]))
        port_rows = txn.add(api.db_list("Port", columns=["_uuid", "name", "interfaces", "tag"]))
        iface_rows = txn.add(api.db_list("Interface",
                                         columns=["_uuid", "name", "type", "options"]))
    interfaces = {row["_uuid"]: row for row in iface_rows.result}
    ports = {row["_uuid"]: row for row in port_rows.result}
    bridges: dict[str, list[Port]] = {}
    for row in sorted(bridge_rows.result, key=lambda row: row["name"]):
        members = [ports[uuid] for uuid in row["ports"] if uuid in ports]
        bridges[row["name"]] = sorted(
            (Port(port["name"], _optional_int(port["tag"])) for port in members
             if port["name"] != row["name"]), key=lambda port: port.name)
    patches, tunnels = [], []
    for iface in sorted(interfaces.values(), key=lambda row: row["name"]):
        options = iface["options"]
        if iface["type"] == "patch" and options.get("peer"):
            patches.append((iface["name"], options["peer"]))
        elif iface["type"] in TUNNEL_TYPES:
            tunnels.append((iface["type"], iface["name"], options.get("local_ip", ""),
                            options.get("remote_ip", "")))
    return _OvsState(bridges, patches, tunnels)


# -- putting the two views together --

def _site(namespace: str, title: str, state: _OvsState, nics: list[_Nic],
          agents: Iterable[Agent], central: bool, region: str = "") -> Site:
    addresses = {nic.name: nic.addresses for nic in nics}
    bridges = tuple(Bridge(name, tuple(ports), addresses.get(name, ()))
                    for name, ports in state.bridges.items())
    on_ovs = set(state.bridges) | {port.name for ports in state.bridges.values()
                                   for port in ports}
    own = tuple(Interface(nic.name, nic.addresses) for nic in nics
                if nic.name not in on_ovs and nic.name != "lo"
                and (nic.addresses or nic.kind == "veth"))
    return Site(namespace, title, bridges, tuple(agents), own, central, region)


def _stack_kind(prefix: str, namespace: str) -> str:
    """What a namespace of the test without OVS is, by the names the harness and agents give."""
    if "qrouter-" in namespace:
        return "router"
    if "qdhcp-" in namespace:
        return "dhcp"
    if namespace.startswith(f"{prefix}-ext"):
        return "external"
    return "machine"


def _veth_links(kernel: dict[str, list[_Nic]]) -> list[Link]:
    """Pair veth ends by their peer's (namespace, ifindex), as the kernel reports it."""
    by_index = {(namespace, nic.index): nic for namespace, nics in kernel.items()
                for nic in nics}
    links, seen = [], set()
    for namespace, nics in kernel.items():
        for nic in nics:
            peer = by_index.get(nic.peer) if nic.kind == "veth" and nic.peer else None
            if peer is None or nic.peer is None:
                continue
            pair = frozenset({(namespace, nic.name), (nic.peer[0], peer.name)})
            if pair not in seen:
                seen.add(pair)
                links.append(Link("veth", Device(namespace, nic.name),
                                  Device(nic.peer[0], peer.name)))
    return links


def _patch_links(namespace: str, patches: list[tuple[str, str]]) -> list[Link]:
    """One link per pair of patch ports (each names the other as its peer)."""
    links, seen = [], set()
    for port, peer in patches:
        if frozenset({port, peer}) not in seen:
            seen.add(frozenset({port, peer}))
            links.append(Link("patch", Device(namespace, port), Device(namespace, peer)))
    return links


def _control(prefix: str, nics: list[_Nic]) -> ControlNetwork | None:
    for nic in nics:
        if nic.name == f"{prefix}-ctl":
            ports = tuple(sorted(other.name for other in nics if other.master == nic.index))
            return ControlNetwork(nic.name, nic.addresses, ports)
    return None


def _agents(host: Host) -> list[Agent]:
    """Its agents and what its extensions run (fullstack.extension)."""
    return [Agent(proc.name.removeprefix(f"{host.hostname}-"), proc.pid, proc.is_running())
            for proc in (*host.extension_processes, *host.agents.values())]


def collect(env: Environment) -> Topology:
    """A snapshot of ``env``'s live wiring."""
    prefix = env.ctx.prefix
    namespaces = namespace_module.starting_with(prefix + "-")
    kernel = _read_kernel(prefix, namespaces)
    instances = [(env.central_namespace.name, "central", env.central_ovs, [], ""),
                 *((host.namespace, host.hostname, host.ovs, _agents(host), host.site.region)
                   for host in env.hosts)]
    sites, links, tunnels = [], _veth_links(kernel), []
    for namespace, title, instance, agents, region in instances:
        state = _read_ovs(instance)
        sites.append(_site(namespace, title, state, kernel.get(namespace, []), agents,
                           central=instance is env.central_ovs, region=region))
        links += _patch_links(namespace, state.patches)
        tunnels += [Tunnel(kind, Device(namespace, port), local_ip, remote_ip)
                    for kind, port, local_ip, remote_ip in state.tunnels]
    site_namespaces = {site.namespace for site in sites}
    stacks = [Stack(namespace, _stack_kind(prefix, namespace),
                    tuple(Interface(nic.name, nic.addresses) for nic in nics if nic.name != "lo"))
              for namespace, nics in kernel.items()
              if namespace != ROOT and namespace not in site_namespaces]
    return Topology(prefix, tuple(sites), tuple(stacks), tuple(links), tuple(tunnels),
                    _control(prefix, kernel.get(ROOT, [])))
