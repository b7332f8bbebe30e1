"""Descriptions of a deployment: plain, frozen data, validated before anything is built.

``EnvironmentDescription`` holds the choices of the whole deployment,
``HostDescription`` those of one host, ``RegionDescription`` the hosts of
one region; the Environment and its Hosts turn them into namespaces,
bridges and processes.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Literal, get_args

from fullstack.extension import HostExtension
from fullstack.resources.config import Overlay, Repeated, check_overlay

__all__ = ["EnvironmentDescription", "HostDescription", "HostExtension", "RegionDescription",
           "Repeated"]

# The closed sets of choices, as types (for mypy) and as tuples (to check).
NetworkType = Literal["vxlan", "gre", "vlan", "flat"]
NETWORK_TYPES: tuple[NetworkType, ...] = get_args(NetworkType)
TUNNEL_TYPES: tuple[NetworkType, ...] = ("vxlan", "gre")
Interconnection = Literal["patch", "veth"]
INTERCONNECTIONS: tuple[Interconnection, ...] = get_args(Interconnection)
Datapath = Literal["netdev", "system"]
DATAPATHS: tuple[Datapath, ...] = get_args(Datapath)
# How a host's L2 agent enforces security groups: not at all (Neutron's
# fullstack default), or with conntrack flows on br-int.
FirewallDriver = Literal["noop", "openvswitch"]
FIREWALL_DRIVERS: tuple[FirewallDriver, ...] = get_args(FirewallDriver)
AgentKind = Literal["l2", "l3", "dhcp"]
AGENT_KINDS: tuple[AgentKind, ...] = get_args(AgentKind)
EXTERNAL_PHYSNET = "extnet"   # flat physical network of cnt-ex, mapped to each br-ex


def _one_of(field: str, value: object, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{field} {value!r} is not one of {', '.join(map(str, allowed))}")


def _copied_overlay(field: str, overlay: object) -> dict[str, dict[str, object]]:
    """A checked copy (later changes to the caller's dict change nothing)."""
    check_overlay(field, overlay)
    assert isinstance(overlay, Mapping)
    return {section: dict(options) for section, options in overlay.items()}


@dataclasses.dataclass(frozen=True)
class EnvironmentDescription:
    """What the whole deployment looks like; validated before anything is built."""

    network_type: NetworkType = "vxlan"
    physical_network: str | None = "physnet1"
    l2_pop: bool = False
    arp_responder: bool = False
    interconnection: Interconnection = "patch"
    datapath: Datapath = "netdev"
    report_interval: float = 1.0
    agent_down_time: int = 10
    dhcp_agents_per_network: int = 1
    # The server moves routers off dead L3 agents (allow_automatic_l3agent_failover).
    l3_agent_failover: bool = False
    # QoS policies and rules, enforced by each host's L2 agent (the qos service
    # plugin, and the agent's qos extension).
    qos: bool = False
    # A RabbitMQ node and a MariaDB server of the test's own (for outage
    # scenarios) instead of the machine's shared ones.
    private_broker: bool = False
    private_database: bool = False
    # The system deployed: "neutrino", "neutron" or a Service's import path;
    # None: the run's choice (FULLSTACK_SERVICE, else neutrino).
    service: str | None = None
    # Options for every server process, {section: {option: value}}, applied last
    # over what the service writes (None removes an option; Repeated writes a
    # multi-string option's key once per value).
    server_config: Overlay = dataclasses.field(
        default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "server_config",
                           _copied_overlay("server_config", self.server_config))
        _one_of("network_type", self.network_type, NETWORK_TYPES)
        if self.service is not None and (not isinstance(self.service, str)
                                         or not self.service.strip()):
            raise ValueError(f"service {self.service!r} must name a service: neutrino, "
                             "neutron or the import path of a Service class")
        _one_of("interconnection", self.interconnection, INTERCONNECTIONS)
        _one_of("datapath", self.datapath, DATAPATHS)
        if self.network_type in ("vlan", "flat") and not self.physical_network:
            raise ValueError(f"physical_network is required for network_type "
                             f"{self.network_type!r}")
        if self.arp_responder and not self.l2_pop:
            raise ValueError("arp_responder needs l2_pop: the responder learns from l2pop")
        if self.dhcp_agents_per_network < 1:
            raise ValueError(f"dhcp_agents_per_network must be at least 1, not "
                             f"{self.dhcp_agents_per_network}")
        if self.report_interval <= 0:
            raise ValueError(f"report_interval must be positive, not {self.report_interval}")
        if self.agent_down_time < 2 * self.report_interval:
            raise ValueError(f"agent_down_time ({self.agent_down_time} s) must be at least two "
                             f"report intervals ({self.report_interval} s)")

    @property
    def tunnel_types(self) -> list[str]:
        """Every host tunnels with both types, so networks of any type can coexist."""
        return list(TUNNEL_TYPES)

    @property
    def physical_networks(self) -> list[str]:
        return [self.physical_network] if self.physical_network else []

    def network_attrs(self) -> dict[str, str]:
        """What a test's network of ``network_type`` is created with.

        Nothing, but for flat: a flat network is a provider network on the
        physical network, as Neutron has it (its flat type driver gives
        projects none of their own).
        """
        if self.network_type == "flat":
            return {"provider:network_type": "flat",
                    "provider:physical_network": str(self.physical_network)}
        return {}


@dataclasses.dataclass(frozen=True)
class HostDescription:
    """One simulated host and the agents it runs."""

    l2_agent: bool = True
    l3_agent: bool = False
    dhcp_agent: bool = False
    firewall_driver: FirewallDriver = "noop"
    # Options per kind of agent ("l2", "l3", "dhcp"): {kind: {section: {option:
    # value}}}, applied last over what the service writes for that agent.
    agent_config: Mapping[AgentKind, Overlay] = dataclasses.field(
        default_factory=dict, hash=False)
    # What more it runs (fullstack.extension): started after its wiring, before its agents.
    extensions: Sequence[HostExtension] = ()

    @property
    def agent_kinds(self) -> tuple[AgentKind, ...]:
        """The kinds of agent it runs, of "l2", "l3" and "dhcp"."""
        wanted: dict[AgentKind, bool] = {
            "l2": self.l2_agent, "l3": self.l3_agent, "dhcp": self.dhcp_agent}
        return tuple(kind for kind, on in wanted.items() if on)

    def __post_init__(self) -> None:
        _one_of("firewall_driver", self.firewall_driver, FIREWALL_DRIVERS)
        if not isinstance(self.agent_config, Mapping):
            raise ValueError(f"agent_config must be a dict of agent kinds "
                             f"({', '.join(AGENT_KINDS)}) to sections, not "
                             f"{type(self.agent_config).__name__}")
        copied: dict[AgentKind, Overlay] = {}
        for kind, overlay in self.agent_config.items():
            _one_of("agent_config kind", kind, AGENT_KINDS)
            if kind not in self.agent_kinds:
                raise ValueError(f"agent_config[{kind!r}]: this host runs no {kind} agent "
                                 f"(it runs {', '.join(self.agent_kinds) or 'none'})")
            copied[kind] = _copied_overlay(f"agent_config[{kind!r}]", overlay)
        object.__setattr__(self, "agent_config", copied)
        object.__setattr__(self, "extensions", _checked_extensions(self.extensions))
        if (self.l3_agent or self.dhcp_agent) and not self.l2_agent:
            raise ValueError("l3_agent and dhcp_agent need l2_agent: their ports on br-int "
                             "are wired by the L2 agent")


def _checked_extensions(extensions: object) -> tuple[HostExtension, ...]:
    if isinstance(extensions, (str, bytes)) or not isinstance(extensions, Sequence):
        raise ValueError(f"extensions must be a sequence of HostExtension, "
                         f"not {type(extensions).__name__}")
    names: set[str] = set()
    for extension in extensions:
        if not isinstance(extension, HostExtension):
            raise ValueError(f"extensions: {extension!r} is not a HostExtension "
                             f"(fullstack.extension)")
        if extension.name in names:
            raise ValueError(f"extensions: two are named {extension.name!r}")
        names.add(extension.name)
    return tuple(extensions)


_REGION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


@dataclasses.dataclass(frozen=True)
class RegionDescription:
    """One region of a multi-region deployment (the Tricircle shape): its hosts.

    Each region gets a vhost, a database and a local server of its own; the
    environment's central server owns the networks all regions share.
    """

    name: str
    hosts: tuple[HostDescription, ...] = (HostDescription(),)

    def __init__(self, name: str, hosts: Sequence[HostDescription] = (HostDescription(),)):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "hosts", tuple(hosts) if isinstance(hosts, (list, tuple))
                           else hosts)
        self.__post_init__()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _REGION_NAME.match(self.name):
            raise ValueError(f"name {self.name!r}: a region's name is a letter, then up to 31 "
                             "letters, digits, '_' or '-' (it names the region's vhost, "
                             "database and log files)")
        if not isinstance(self.hosts, tuple) or not self.hosts:
            raise ValueError(f"hosts of region {self.name}: a list of at least one "
                             "HostDescription")
        for index, desc in enumerate(self.hosts):
            if not isinstance(desc, HostDescription):
                raise ValueError(f"hosts[{index}] of region {self.name} must be a "
                                 "HostDescription")


def check_deployment(env_desc: object, hosts_desc: Sequence[object] | None,
                     regions: Sequence[object] | None) -> list[HostDescription]:
    """Every host of the deployment in order (host-1 ... host-N, across regions),
    or a ValueError naming what is wrong with the combination."""
    if not isinstance(env_desc, EnvironmentDescription):
        raise ValueError("env_desc must be an EnvironmentDescription")
    if regions is not None:
        if hosts_desc:
            raise ValueError("hosts_desc and regions: give the hosts in the regions' "
                             "descriptions only")
        hosts_desc = _check_regions(env_desc, regions)
    if hosts_desc is None:
        raise ValueError("hosts_desc: a list of HostDescription ([]: the server alone, "
                         "for tests of its API)")
    for index, desc in enumerate(hosts_desc):
        if not isinstance(desc, HostDescription):
            raise ValueError(f"hosts_desc[{index}] must be a HostDescription")
    return list(hosts_desc)  # type: ignore[arg-type]


def _check_regions(env_desc: EnvironmentDescription,
                   regions: Sequence[object]) -> list[HostDescription]:
    if not isinstance(regions, (list, tuple)) or len(regions) < 1:
        raise ValueError("regions: a list of at least one RegionDescription")
    for index, region in enumerate(regions):
        if not isinstance(region, RegionDescription):
            raise ValueError(f"regions[{index}] must be a RegionDescription")
    named = [region for region in regions if isinstance(region, RegionDescription)]
    names = [region.name.lower() for region in named]
    if len(set(names)) != len(names):
        raise ValueError(f"regions: names must differ (case aside): "
                         f"{', '.join(region.name for region in named)}")
    if env_desc.private_broker or env_desc.private_database:
        raise ValueError("private_broker and private_database: not with regions (each "
                         "region has a vhost and a database on the shared servers)")
    if env_desc.network_type not in TUNNEL_TYPES:
        raise ValueError(f"network_type {env_desc.network_type!r}: regions share "
                         "networks over tunnels, vxlan or gre")
    return [desc for region in named for desc in region.hosts]
