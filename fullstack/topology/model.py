"""The model of a topology snapshot: plain frozen dataclasses, no live state.

The collector fills them from netlink and OVSDB; the renderer turns them
into DOT.  Neither knows the other.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Device:
    """An interface or OVS port, named within its namespace."""

    namespace: str
    name: str


@dataclasses.dataclass(frozen=True)
class Interface:
    name: str
    addresses: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Port:
    name: str
    tag: int | None = None


@dataclasses.dataclass(frozen=True)
class Bridge:
    name: str
    ports: tuple[Port, ...] = ()
    addresses: tuple[str, ...] = ()   # of its LOCAL port (br-fabric: the tunnel endpoint)


@dataclasses.dataclass(frozen=True)
class Agent:
    name: str
    pid: int | None
    alive: bool


@dataclasses.dataclass(frozen=True)
class Site:
    """A namespace with an OVS instance (the central one or a host): a cluster."""

    namespace: str
    title: str
    bridges: tuple[Bridge, ...] = ()
    agents: tuple[Agent, ...] = ()
    interfaces: tuple[Interface, ...] = ()   # the namespace's own, not OVS ports (ctl0)
    central: bool = False
    region: str = ""    # a host's region, in a multi-region deployment (drawn as a cluster)

    def bridge_of(self, name: str) -> Bridge | None:
        """The bridge whose port (or LOCAL port) ``name`` is."""
        for bridge in self.bridges:
            if name == bridge.name or any(port.name == name for port in bridge.ports):
                return bridge
        return None


@dataclasses.dataclass(frozen=True)
class Stack:
    """A namespace without OVS: a machine, router, DHCP server or external peer."""

    namespace: str
    kind: str   # machine, router, dhcp, external
    interfaces: tuple[Interface, ...] = ()


@dataclasses.dataclass(frozen=True)
class Link:
    kind: str   # patch or veth
    a: Device
    b: Device


@dataclasses.dataclass(frozen=True)
class Tunnel:
    """One tunnel port; the picture pairs it with the port that points back."""

    kind: str
    port: Device
    local_ip: str
    remote_ip: str


@dataclasses.dataclass(frozen=True)
class ControlNetwork:
    """The root namespace's Linux bridge the hosts' ctl0 veths hang off."""

    bridge: str
    addresses: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Topology:
    prefix: str
    sites: tuple[Site, ...] = ()
    stacks: tuple[Stack, ...] = ()
    links: tuple[Link, ...] = ()
    tunnels: tuple[Tunnel, ...] = ()
    control: ControlNetwork | None = None
