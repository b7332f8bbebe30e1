"""The seam between the harness and the system it deploys: a service.

A service knows one system (neutrino, Neutron, a fork of either): how to
prepare the per-test database, what config files and command lines its
server processes and each kind of agent get, how the harness tells they
are ready, and what they leave behind.  The harness builds namespaces,
OVS instances, cables, the vhost and the database, and hands the service
the values it needs (``ServerSpec``, ``AgentSpec``); the service hands back
process fixtures.  Scenarios never see it: they speak the Neutron API.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from typing import ClassVar, Literal, Protocol

import psutil

from fullstack import context, extension, prerequisites, process
from fullstack.descriptions import (
    AgentKind,
    EnvironmentDescription,
    FirewallDriver,
    HostDescription,
)
from fullstack.resources import daemon, database

# A standalone server serves one deployment; in a multi-region one, the
# central server owns what the regions share and has no agents, and each
# region's local server has its agents.
Role = Literal["standalone", "central", "local"]


class Broker(Protocol):
    """What a server may ask of the test's RabbitMQ vhost."""

    def queue_consumers(self, queue: str) -> int:
        """How many consumers the queue has (0 while it does not exist)."""

    def declare_topic_queue(self, exchange: str, queue: str) -> None:
        """Declare a topic exchange and a queue bound to it, as an RPC server would."""


@dataclasses.dataclass(frozen=True)
class ServerSpec:
    """What the server processes are given: where to listen, the broker, the database."""

    ctx: context.RunContext
    env_desc: EnvironmentDescription
    bind_host: str
    bind_port: int
    transport_url: str          # RabbitMQ as the server reaches it
    database_url: str
    broker: Broker | None       # the test's vhost, as its admin sees it (None: no agents)
    # "local": one region's server, reaching the central one at central_url.
    role: Role = "standalone"
    region_name: str = ""
    central_url: str = ""

    @property
    def process_name(self) -> str:
        """What the server's log and config files are named after: its role and region."""
        return {"standalone": "server", "central": "central-server"}.get(
            self.role, f"server-{self.region_name}")


@dataclasses.dataclass(frozen=True)
class AgentSpec:
    """What an agent of one host is given: the host, as values."""

    ctx: context.RunContext
    env_desc: EnvironmentDescription
    hostname: str
    namespace: str              # the host's network namespace, where the agent runs
    transport_url: str          # RabbitMQ as the host reaches it (over its control link)
    ovsdb_connection: str       # the host's own ovsdb-server, "unix:<socket>"
    ovs_run_dir: str
    local_ip: str               # the tunnel endpoint, on the host's br-fabric
    bridge_mappings: dict[str, str]   # physical network -> bridge
    # Namespaces the L3 and DHCP agents create carry this, so hosts don't collide.
    namespace_prefix: str
    state_dir: str              # the host's agents keep their files under it
    firewall_driver: FirewallDriver = "noop"   # the L2 agent's
    api_url: str = ""           # the server's API, as the harness reaches it
    # The server of the host's region, as the service made it (a service whose
    # agents the server side starts, as Neutron's zygote forks them, needs it).
    server: process.Server | None = None


class Service(abc.ABC):
    """One deployable system.  Subclass it and name the class by import path to add one."""

    name: ClassVar[str]
    # The binary each kind of agent reports in /v2.0/agents.
    agent_binaries: ClassVar[dict[str, str]]
    # What scenarios may check of this system beyond the Neutron API's
    # behaviour (BaseFullStackTestCase.require_feature), by name.
    features: ClassVar[frozenset[str]] = frozenset()
    # Bugs of this system that scenarios find, by name, with what goes wrong:
    # the check that finds one is an expected failure on this system
    # (BaseFullStackTestCase.expect_known_bug), so the suite stays green and
    # an unexpected success says when the bug is gone.
    known_bugs: ClassVar[dict[str, str]] = {}

    def __repr__(self) -> str:
        return f"<Service {self.name}>"

    def unsupported(self, env_desc: EnvironmentDescription) -> str | None:
        """Why the system cannot deploy ``env_desc``, or None: a test is skipped so."""
        return None

    def unsupported_regions(self) -> str | None:
        """Why the system cannot deploy several regions (central and local servers),
        or None if it can."""
        return "no central and local server roles"

    def register_region(self, central: process.Server, region_name: str,
                        local: process.Server) -> None:
        """Tell the central server of a region and its local server, once both
        answer: by default as Tricircle's admin does, a pod of /v1.0/pods."""
        central.client.request("POST", "/v1.0/pods", {"pod": {
            "region_name": region_name, "endpoint": local.url}})

    def check_settings(self, settings: prerequisites.Settings) -> None:  # noqa: B027
        """Refuse, with what to change, settings the service cannot run with."""

    def check_config(self, ctx: context.RunContext,  # noqa: B027
                     env_desc: EnvironmentDescription,
                     hosts_desc: Sequence[HostDescription]) -> None:
        """Before anything is built: raise a ValueError naming an option of the
        descriptions' overlays (``server_config``, ``agent_config``) that the
        system would not take.  By default nothing is checked (Neutron, as
        oslo.config does, ignores options it does not know)."""

    def prepare_database(self, ctx: context.RunContext,  # noqa: B027
                         db: database.Database) -> None:
        """Give the per-test database its schema, if the server does not create it."""

    @abc.abstractmethod
    def server(self, spec: ServerSpec) -> process.Server:
        """The server; its set-up launches it and does not wait."""

    @abc.abstractmethod
    def agent(self, kind: AgentKind, spec: AgentSpec) -> process.ServiceProcess:
        """The agent of ``kind`` (one of descriptions.AGENT_KINDS) for one host."""

    def host_extensions(self, desc: HostDescription) -> Sequence[extension.HostExtension]:
        """What the system runs on every host besides its agents (a BGP speaker
        beside the L2 agent...): started before the host's own extensions."""
        return ()

    def agent_from_main(self, spec: AgentSpec, name: str, main: str,
                        sections: process.Sections, binary: str = "") -> daemon.ProcessFixture:
        """An agent beyond the three kinds, named ``name``: the function at import
        path ``main`` (``package.module:function``, ``main`` by default) run as its
        process's main, reading ``sections`` over the service's own connection
        options (broker, host name).  ``binary`` is what it reports in /v2.0/agents."""
        raise ValueError(f"{self.name} runs no agent by import path (asked for {main})")

    def router_namespace(self, spec: AgentSpec, router_id: str) -> str:
        """The namespace the host's L3 agent builds a router in (Neutron's name,
        with the host's prefix)."""
        return f"{spec.namespace_prefix}qrouter-{router_id}"

    def dhcp_namespace(self, spec: AgentSpec, network_id: str) -> str:
        """The namespace the host's DHCP agent serves a network from (Neutron's
        name, with the host's prefix)."""
        return f"{spec.namespace_prefix}qdhcp-{network_id}"

    @abc.abstractmethod
    def dhcp_servers(self, spec: AgentSpec,
                     network_id: str | None = None) -> list[psutil.Process]:
        """The DHCP servers (dnsmasq) the host's DHCP agent started, for one network or all."""

    def dropped_port(self, l2_agent: process.ServiceProcess, port_id: str) -> str | None:
        """Why ``l2_agent`` will not wire ``port_id`` until it is plugged again
        (a known bug of the system's agent, seen in its log), or None."""
        return None

    def remove_agent_leftovers(self, spec: AgentSpec) -> None:  # noqa: B027
        """After the host's agents stopped: what they leave by design (dnsmasq, namespaces)."""
