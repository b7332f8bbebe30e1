"""Links, addresses and namespaces for the agents, through pyroute2."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator

import netaddr
from pyroute2 import IPRoute, NetNS, netns

# Routes this code adds (iproute2's 'static'); the kernel's own for an
# address are 'kernel' (2) and are left alone.
ROUTE_PROTO_STATIC = 4


@contextlib.contextmanager
def netlink(namespace: str | None = None) -> Iterator[IPRoute]:
    sock = IPRoute() if namespace is None else NetNS(namespace)
    try:
        yield sock
    finally:
        sock.close()


def ensure_namespace(name: str) -> None:
    if name not in netns.listnetns():
        netns.create(name)
        with netlink(name) as ipr:
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")


def delete_namespace(name: str) -> None:
    if name in netns.listnetns():
        netns.remove(name)


def list_namespaces() -> list[str]:
    return list(netns.listnetns())


def link_exists(name: str, namespace: str | None = None) -> bool:
    with netlink(namespace) as ipr:
        return bool(ipr.link_lookup(ifname=name))


def ensure_veth(name: str, peer: str, peer_namespace: str | None, mac: str | None = None,
                mtu: int | None = None) -> None:
    """A veth ``name`` here whose ``peer`` lives in ``peer_namespace``, both up.

    TX checksum offload goes off on both ends: OVS's userspace datapath
    forwards TCP/UDP with unfinished checksums otherwise.
    """
    if not link_exists(name):
        peer_spec: dict = {"ifname": peer}
        if peer_namespace:
            peer_spec["net_ns_fd"] = peer_namespace
        with netlink() as ipr:
            ipr.link("add", ifname=name, kind="veth", peer=peer_spec)
    for end, namespace in ((name, None), (peer, peer_namespace)):
        with netlink(namespace) as ipr:
            index = ipr.link_lookup(ifname=end)[0]
            kwargs: dict = {"state": "up"}
            if mtu:
                kwargs["mtu"] = mtu
            if mac and end == peer:
                kwargs["address"] = mac
            ipr.link("set", index=index, **kwargs)
        disable_tx_offload(end, namespace)


def disable_tx_offload(name: str, namespace: str | None = None) -> None:
    cmd = ["ethtool", "-K", name, "tx", "off"]
    if namespace:
        cmd = ["ip", "netns", "exec", namespace, *cmd]
    subprocess.run(cmd, capture_output=True, check=True)


def delete_link(name: str, namespace: str | None = None) -> None:
    with contextlib.suppress(Exception), netlink(namespace) as ipr:
        found = ipr.link_lookup(ifname=name)
        if found:
            ipr.link("del", index=found[0])


def links(namespace: str | None = None) -> list[str]:
    with netlink(namespace) as ipr:
        return [link.get("ifname") for link in ipr.get_links()]


def set_addresses(name: str, cidrs: list[str], namespace: str | None = None) -> None:
    """Make ``cidrs`` exactly the IPv4 addresses of ``name``."""
    wanted = {str(netaddr.IPNetwork(c)) for c in cidrs}
    with netlink(namespace) as ipr:
        index = ipr.link_lookup(ifname=name)[0]
        current = {f"{a.get('IFA_ADDRESS')}/{a['prefixlen']}"
                   for a in ipr.get_addr(index=index, family=2)}
        for cidr in current - wanted:
            ip, length = cidr.split("/")
            ipr.addr("del", index=index, address=ip, prefixlen=int(length))
        for cidr in wanted - current:
            ip, length = cidr.split("/")
            ipr.addr("add", index=index, address=ip, prefixlen=int(length))


def set_default_route(namespace: str, gateway: str | None) -> None:
    with netlink(namespace) as ipr:
        if gateway:
            ipr.route("replace", dst="0.0.0.0/0", gateway=gateway)
        else:
            with contextlib.suppress(Exception):
                ipr.route("del", dst="0.0.0.0/0")


def set_link_routes(name: str, cidrs: list[str], namespace: str | None = None) -> None:
    """Make ``cidrs`` exactly the on-link (scope link, no gateway) IPv4 routes
    through ``name`` besides those of its own addresses."""
    wanted = {str(netaddr.IPNetwork(c).cidr) for c in cidrs}
    with netlink(namespace) as ipr:
        index = ipr.link_lookup(ifname=name)[0]
        current = {f"{r.get_attr('RTA_DST')}/{r['dst_len']}"
                   for r in ipr.get_routes(family=2, oif=index, table=254)
                   if r["scope"] == 253 and r["proto"] == ROUTE_PROTO_STATIC}
        for cidr in current - wanted:
            ipr.route("del", dst=cidr, oif=index, scope=253, proto=ROUTE_PROTO_STATIC)
        for cidr in wanted - current:
            ipr.route("replace", dst=cidr, oif=index, scope=253, proto=ROUTE_PROTO_STATIC)


def enable_forwarding(namespace: str) -> None:
    subprocess.run(["ip", "netns", "exec", namespace, "sysctl", "-q", "-w",
                    "net.ipv4.ip_forward=1"], check=True, capture_output=True)


def in_namespace(namespace: str, cmd: list[str]) -> list[str]:
    return ["ip", "netns", "exec", namespace, *cmd]


