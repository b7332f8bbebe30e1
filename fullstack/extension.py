"""Host extensions: what more a host runs, owned by the host as its agents are.

A plugin's fullstack suite needs more than the three agents: a bagpipe-bgp
beside the OVS agent, a route reflector on the fabric, a bridge of its own,
a fourth Neutron agent (BGP dynamic routing).  A ``HostExtension`` is a
frozen value on ``HostDescription.extensions`` (or one a service adds to
every host, ``Service.host_extensions``); the host calls its ``start`` once
the host is wired and its server answers, before the agents start (so an
agent extension finds the process it talks to), and gives its agents the
options ``agent_config`` returns.  What ``start`` adds
through the host is the host's: listed in ``host.processes()``, in the
forensics and the topology picture, ended by ``host.kill()`` and
``host.shutdown()``, and named in the failure when it dies on its own.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Protocol

from fullstack.resources import config, daemon
from fullstack.resources.ovs import OvsBridge, OvsInstance


class ExtensibleHost(Protocol):
    """What an extension gets of the host it extends."""

    hostname: str
    namespace: str              # the host's network namespace
    control_ip: str             # CIDR on the control network (broker, API)
    tunnel_ip: str              # the tunnel endpoint, on br-fabric
    ovs: OvsInstance        # the host's own OVS

    def spawn(self, name: str, cmd: list[str], **kwargs) -> daemon.ProcessFixture:
        """Run ``cmd`` in the host's namespace as ``<hostname>-<name>``
        (keyword arguments as ``ProcessFixture``'s: env, ready, stop_signal...)."""

    def add_process(self, proc: daemon.ProcessFixture) -> daemon.ProcessFixture:
        """Start a process made elsewhere; the host owns it from then on."""

    def add_bridge(self, name: str) -> OvsBridge:
        """A bridge of the host's OVS, removed with the host."""

    def add_agent(self, name: str, main: str, sections: config.Sections,
                  binary: str = "") -> daemon.ProcessFixture:
        """An agent of the deployed service beyond its three, by the import path
        of its main (``package.module:function``), reading a config file of
        ``sections`` (the service adds its connection options: broker, host)."""


class HostExtension(abc.ABC):
    """Subclass as a frozen dataclass: its fields say what to run, ``start`` runs it."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """Short and unique per host: what its processes are named after."""

    @abc.abstractmethod
    def start(self, host: ExtensibleHost) -> None:
        """Add the processes and bridges (through ``host``); return once they serve."""

    def agent_config(self, host: ExtensibleHost) -> Mapping[str, config.Overlay]:
        """Options for the host's agents, by kind ("l2", "l3", "dhcp"), once started:
        where to reach what it runs (a socket, an address).  A list adds to what
        the service or an earlier extension set (each extension's ``[agent]
        extensions`` stay); the description's own ``agent_config`` comes last
        and replaces."""
        return {}
