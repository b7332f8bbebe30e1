"""Links: veth pairs (the harness's cables), addresses and routes.

Every veth end that sends into an OVS bridge of the userspace datapath must
have TX checksum offload off: otherwise OVS receives TCP/UDP packets with
unfinished checksums and ping works while AMQP, HTTP and DHCP silently fail.
We turn it off on both ends of every veth we make, which costs nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import fixtures
import netaddr
from pyroute2 import IPRoute
from pyroute2.ethtool.ioctl import IoctlEthtool

from fullstack.resources import namespace as namespace_module

MAX_IFNAME = 15


@contextlib.contextmanager
def netlink(namespace: str | None) -> Iterator[IPRoute]:
    """A netlink socket in ``namespace`` (None: the root namespace)."""
    with namespace_module.entered(namespace):
        sock = IPRoute()
    try:
        yield sock
    finally:
        sock.close()


def check_ifname(name: str) -> str:
    if not name or len(name) > MAX_IFNAME:
        raise ValueError(f"interface name {name!r} must have 1 to {MAX_IFNAME} characters")
    return name


def link_index(ipr: IPRoute, name: str) -> int:
    found = ipr.link_lookup(ifname=name)
    if not found:
        raise LookupError(f"no link named {name!r}")
    return found[0]


def mtus(namespace: str | None = None) -> dict[str, int]:
    """Every link of ``namespace`` but loopback, by name: its MTU ({} if it is gone)."""
    try:
        with netlink(namespace) as ipr:
            return {link.get_attr("IFLA_IFNAME"): link.get_attr("IFLA_MTU")
                    for link in ipr.get_links() if link.get_attr("IFLA_IFNAME") != "lo"}
    except OSError:
        return {}


def delete(name: str, namespace: str | None = None) -> None:
    """Delete a link if it is there; a veth takes its peer with it."""
    with contextlib.suppress(Exception), netlink(namespace) as ipr:
        found = ipr.link_lookup(ifname=name)
        if found:
            ipr.link("del", index=found[0])


def disable_tx_offload(name: str, namespace: str | None) -> None:
    """``ethtool -K NAME tx off``, by ioctl: no process per veth end."""
    with namespace_module.entered(namespace):
        ethtool = IoctlEthtool(name)
    try:
        ethtool.set_offload_flag("tx-checksumming", 0)
    finally:
        ethtool.close()


def add_address(name: str, cidr: str, namespace: str | None = None) -> None:
    ip = netaddr.IPNetwork(cidr)
    with netlink(namespace) as ipr:
        ipr.addr("add", index=link_index(ipr, name), address=str(ip.ip), prefixlen=ip.prefixlen)


def replace_addresses(name: str, cidr: str, namespace: str | None = None) -> None:
    """``cidr`` as the link's only IPv4 address."""
    ip = netaddr.IPNetwork(cidr)
    with netlink(namespace) as ipr:
        index = link_index(ipr, name)
        ipr.flush_addr(index=index, family=2)
        ipr.addr("add", index=index, address=str(ip.ip), prefixlen=ip.prefixlen)


def set_neighbor(name: str, ip: str, mac: str, namespace: str | None = None) -> None:
    """A permanent neighbour entry: ``ip`` is at ``mac`` on link ``name``, no ARP asked."""
    with netlink(namespace) as ipr:
        ipr.neigh("replace", dst=ip, lladdr=mac, ifindex=link_index(ipr, name),
                  state=0x80)   # NUD_PERMANENT


def set_mac(name: str, mac: str, namespace: str | None = None) -> None:
    with netlink(namespace) as ipr:
        ipr.link("set", index=link_index(ipr, name), address=mac)


def set_up(name: str, namespace: str | None = None, mtu: int | None = None) -> None:
    with netlink(namespace) as ipr:
        kwargs = {"mtu": mtu} if mtu else {}
        ipr.link("set", index=link_index(ipr, name), state="up", **kwargs)


def set_down(name: str, namespace: str | None = None) -> None:
    with netlink(namespace) as ipr:
        ipr.link("set", index=link_index(ipr, name), state="down")


def add_route(namespace: str | None, dst: str, gateway: str | None = None,
              device: str | None = None) -> None:
    with netlink(namespace) as ipr:
        kwargs: dict = {"dst": dst}
        if gateway:
            kwargs["gateway"] = gateway
        if device:
            kwargs["oif"] = link_index(ipr, device)
        ipr.route("replace", **kwargs)


class VethPair(fixtures.Fixture):
    """A veth pair whose ends live in the given namespaces, both up.

    Created in the first end's namespace with the peer placed directly in
    its own, so no intermediate name can collide in the root namespace.
    """

    def __init__(self, name: str, peer: str, namespace: str | None = None,
                 peer_namespace: str | None = None, mtu: int | None = None,
                 peer_mac: str | None = None):
        super().__init__()
        self.name = check_ifname(name)
        self.peer = check_ifname(peer)
        self.namespace = namespace
        self.peer_namespace = peer_namespace
        self.mtu = mtu
        self.peer_mac = peer_mac

    def _setUp(self) -> None:
        peer: dict = {"ifname": self.peer}
        if self.peer_namespace != self.namespace:
            if self.peer_namespace is None:
                # The harness itself always runs in the root namespace.
                peer["net_ns_pid"] = os.getpid()
            else:
                peer["net_ns_fd"] = self.peer_namespace
        with netlink(self.namespace) as ipr:
            ipr.link("add", ifname=self.name, kind="veth", peer=peer)
        self.addCleanup(delete, self.name, self.namespace)
        if self.peer_mac:
            with netlink(self.peer_namespace) as ipr:
                ipr.link("set", index=link_index(ipr, self.peer), address=self.peer_mac)
        for name, namespace in ((self.name, self.namespace), (self.peer, self.peer_namespace)):
            disable_tx_offload(name, namespace)
            set_up(name, namespace, self.mtu)


def _local_mac() -> str:
    """A random unicast, locally administered MAC."""
    octets = bytearray(os.urandom(6))
    octets[0] = (octets[0] & 0xFC) | 0x02
    return ":".join(f"{octet:02x}" for octet in octets)


class LinuxBridge(fixtures.Fixture):
    """A Linux bridge, up, in ``namespace`` (None: the root namespace), with an
    address if given (the control network's has one)."""

    def __init__(self, name: str, cidr: str | None = None, namespace: str | None = None):
        super().__init__()
        self.name = check_ifname(name)
        self.cidr = cidr
        self.namespace = namespace

    def _setUp(self) -> None:
        with netlink(self.namespace) as ipr:
            ipr.link("add", ifname=self.name, kind="bridge")
            self.addCleanup(delete, self.name, self.namespace)
            # A bridge whose MAC was never set takes its ports' lowest, so
            # unplugging a host (Host.shutdown()) could change the MAC the
            # other hosts' ARP caches hold for the broker's address and cut
            # them off for as long as those entries live.  A set MAC stays.
            ipr.link("set", index=link_index(ipr, self.name), address=_local_mac())
        if self.cidr:
            add_address(self.name, self.cidr, self.namespace)
        set_up(self.name, self.namespace)

    def attach(self, port: str) -> None:
        with netlink(self.namespace) as ipr:
            ipr.link("set", index=link_index(ipr, port), master=link_index(ipr, self.name))
