"""Neutron 29's fullstack descriptions, and this harness's for the same deployment.

``EnvironmentDescription`` and ``HostDescription`` take Neutron's
arguments, all of them, and mean what they mean there;
``harness_descriptions`` turns them into this harness's: options the
harness has no field for go into the server's and agents' config overlays,
as Neutron's ``ConfigFixture`` classes would write them.
"""

from __future__ import annotations

import dataclasses
import os

from neutron.conf import quota as quota_conf
from neutron_lib import constants

from fullstack import descriptions, extension
from fullstack import host as host_module
from fullstack.compat.neutron import service

UPSTREAM_SERVICE = f"{service.__name__}:{service.UpstreamNeutron.__name__}"

# Neutron's fullstack names and ranges (resources/config.py).
PHYSICAL_NETWORK_NAME = "physnet1"
PHYSICAL_NETWORK_SEGMENTS_NAME = "physnet2"
# Neutron's fullstack policy overrides (see the file).
POLICY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policy.yaml")
# The metadata path's bridge and the physical network Neutron maps it to.
METADATA_BRIDGE = "br-meta"
METADATA_PHYSNET = "meta"


@dataclasses.dataclass(frozen=True)
class MetadataBridge(descriptions.HostExtension):
    """The host's br-meta, made before its OVS agent starts (the agent's
    metadata_path extension finds it in its bridge mappings)."""

    name: str = "br-meta"

    def start(self, host: extension.ExtensibleHost) -> None:
        host.add_bridge(METADATA_BRIDGE)


# What Neutron's SRIOVConfigFixture maps physnet1 to: NICs named only (the
# agent reports them; no VF of theirs is ever bound here).
SRIOV_DEVICES = ("ens5", "ens6")
MINIMUM_BANDWIDTH_KBPS = 1000


@dataclasses.dataclass(frozen=True)
class SriovAgent(descriptions.HostExtension):
    """Neutron's SR-IOV NIC agent as the host's L2 agent, on NICs it only names,
    as Neutron's fullstack runs it."""

    name: str = "sriov-agent"

    def start(self, host: extension.ExtensibleHost) -> None:
        mappings = ",".join(f"{PHYSICAL_NETWORK_NAME}:{dev}" for dev in SRIOV_DEVICES)
        bandwidths = ",".join(f"{dev}:{MINIMUM_BANDWIDTH_KBPS}:{MINIMUM_BANDWIDTH_KBPS}"
                              for dev in SRIOV_DEVICES)
        host.add_agent(self.name, "neutron.cmd.plugins.sriov_nic_neutron_agent:main",
                       {"sriov_nic": {"physical_device_mappings": mappings,
                                      "resource_provider_bandwidths": bandwidths}},
                       binary=SRIOV_AGENT_BINARY)


SRIOV_AGENT_BINARY = "neutron-sriov-nic-agent"


class EnvironmentDescription:
    """The whole deployment, with Neutron 29's options and defaults."""

    def __init__(self, network_type="vxlan", l2_pop=True, qos=False,
                 mech_drivers="openvswitch", service_plugins="router", arp_responder=False,
                 agent_down_time=75, router_scheduler=None,
                 global_mtu=constants.DEFAULT_NETWORK_MTU, debug_iptables=False, log=False,
                 report_bandwidths=False, has_placement=False, placement_port=None,
                 dhcp_scheduler_class=None, ml2_extension_drivers=None, api_workers=1,
                 enable_traditional_dhcp=True, local_ip_ext=False,
                 quota_driver=quota_conf.QUOTA_DB_DRIVER, use_meter_bandwidth_limit=False,
                 has_metadata=False, metadata_host=None, metadata_port=None,
                 host_proxy_listen_port=None):
        self.network_type = network_type
        self.l2_pop = l2_pop
        self.qos = qos
        self.log = log
        self.network_range = None
        self.mech_drivers = mech_drivers
        self.arp_responder = arp_responder
        self.agent_down_time = agent_down_time
        self.router_scheduler = router_scheduler
        self.global_mtu = global_mtu
        self.service_plugins = service_plugins
        self.debug_iptables = debug_iptables
        self.report_bandwidths = report_bandwidths
        self.has_placement = has_placement
        self.placement_port = placement_port
        self.dhcp_scheduler_class = dhcp_scheduler_class
        # As Neutron's: the switches add their service plugins.
        if self.qos:
            self.service_plugins += ",qos"
        if self.log:
            self.service_plugins += ",log"
        self.ml2_extension_drivers = ml2_extension_drivers
        self.api_workers = api_workers
        self.enable_traditional_dhcp = enable_traditional_dhcp
        self.local_ip_ext = local_ip_ext
        if self.local_ip_ext:
            self.service_plugins += ",local_ip"
        self.quota_driver = quota_driver
        self.use_meter_bandwidth_limit = use_meter_bandwidth_limit
        self.has_metadata = has_metadata
        self.metadata_host = metadata_host
        self.metadata_port = metadata_port
        self.hp_listen_port = host_proxy_listen_port

    @property
    def tunneling_enabled(self) -> bool:
        return self.network_type in ("vxlan", "gre")

    def __str__(self) -> str:
        return f"{vars(self)}"


class HostDescription:
    """One host, with Neutron 29's options and defaults."""

    def __init__(self, l3_agent=False, dhcp_agent=False,
                 l2_agent_type=constants.AGENT_TYPE_OVS, firewall_driver="noop",
                 availability_zone=None, l3_agent_mode=None, l3_agent_extensions=None,
                 segmented_physnet=False):
        self.l2_agent_type = l2_agent_type
        self.l3_agent = l3_agent
        self.dhcp_agent = dhcp_agent
        self.firewall_driver = firewall_driver
        self.availability_zone = availability_zone
        self.l3_agent_mode = l3_agent_mode
        self.l3_agent_extensions = l3_agent_extensions
        self.segmented_physnet = segmented_physnet

    def __str__(self) -> str:
        return f"{vars(self)}"


def _names(value) -> list[str]:
    """A comma list (or a list) as a list of names."""
    if value is None:
        return []
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    return [str(name) for name in value]


def server_config(desc: EnvironmentDescription) -> dict:
    """What Neutron's NeutronConfigFixture and ML2ConfigFixture write for ``desc``."""
    mech_drivers = _names(desc.mech_drivers) + (["l2population"] if desc.l2_pop else [])
    extension_drivers = ["port_security"] + (["qos"] if desc.qos else [])
    extension_drivers += [name for name in _names(desc.ml2_extension_drivers)
                          if name not in extension_drivers]
    vlan_ranges = [f"{PHYSICAL_NETWORK_NAME}:1000:1029"]
    if "segments" in _names(desc.service_plugins):
        vlan_ranges.append(f"{PHYSICAL_NETWORK_SEGMENTS_NAME}:1050:1059")
    default: dict = {
        "service_plugins": _names(desc.service_plugins),
        "global_physnet_mtu": desc.global_mtu,
        "agent_down_time": desc.agent_down_time,
        "api_workers": desc.api_workers,
        "enable_traditional_dhcp": desc.enable_traditional_dhcp,
    }
    if desc.router_scheduler:
        default["router_scheduler_driver"] = desc.router_scheduler
    if desc.dhcp_scheduler_class:
        default["dhcp_agents_per_network"] = 1
        default["network_scheduler_driver"] = desc.dhcp_scheduler_class
    sections: dict = {}
    if desc.has_placement:
        # Neutron's fake placement server (compat.neutron.servers), as its
        # NeutronConfigFixture points the server at it.
        default["service_plugins"].append("placement")
        sections["placement"] = {
            "auth_type": "noauth",
            "auth_section": f"http://127.0.0.1:{desc.placement_port}/placement"}
    return {
        **sections,
        "oslo_policy": {"policy_file": POLICY_FILE},
        "DEFAULT": default,
        "quotas": {"quota_driver": desc.quota_driver},
        "ml2": {"mechanism_drivers": mech_drivers, "extension_drivers": extension_drivers,
                "tenant_network_types": [desc.network_type]},
        "ml2_type_vlan": {"network_vlan_ranges": vlan_ranges},
        "ml2_type_gre": {"tunnel_id_ranges": ["1:30"]},
        "ml2_type_vxlan": {"vni_ranges": ["1001:1030"]},
    }


def ovs_agent_config(desc: EnvironmentDescription, host: HostDescription) -> dict:
    """What Neutron's OVSConfigFixture writes beyond the harness's own."""
    agent: dict = {"l2_population": desc.l2_pop, "arp_responder": desc.arp_responder,
                   "debug_iptables_rules": desc.debug_iptables}
    sections: dict = {"agent": agent,
                      "ovs": {"qos_meter_bandwidth": desc.use_meter_bandwidth_limit},
                      "securitygroup": {"firewall_driver": host.firewall_driver}}
    if desc.report_bandwidths and not desc.tunneling_enabled:
        sections["ovs"]["resource_provider_bandwidths"] = f"{host_module.PHYSICAL_BRIDGE}:1000:1000"
    # Each switch sets [agent] extensions, as Neutron's fixture does: the
    # last one set wins.
    if desc.qos:
        agent["extensions"] = "qos"
    if desc.log:
        agent["extensions"] = "log"
        # In the agent's own state directory (the test reads it: the layer
        # shows it the path with $state_path resolved).
        sections["network_log"] = {"local_output_log_base": "$state_path/network-log.log"}
    if not desc.enable_traditional_dhcp:
        agent["extensions"] = "dhcp"
        sections["dhcp"] = {"enable_ipv6": True, "dhcp_renewal_time": 0,
                            "dhcp_rebinding_time": 0}
    if desc.local_ip_ext:
        agent["extensions"] = "local_ip"
        if host.firewall_driver == "openvswitch":
            sections["local_ip"] = {"static_nat": True}
    if desc.has_metadata:
        agent["extensions"] = "metadata_path"
        sections["METADATA"] = {"metadata_proxy_shared_secret": "secret",
                                "nova_metadata_host": desc.metadata_host,
                                "nova_metadata_port": desc.metadata_port,
                                "host_proxy_listen_port": desc.hp_listen_port}
    return sections


def l3_agent_config(host: HostDescription, hostname: str) -> dict:
    default: dict = {"test_namespace_suffix": hostname}
    if host.l3_agent_mode:
        default["agent_mode"] = host.l3_agent_mode
    agent: dict = {}
    if host.availability_zone:
        agent["availability_zone"] = host.availability_zone
    if host.l3_agent_extensions:
        agent["extensions"] = host.l3_agent_extensions
    return {"DEFAULT": default, "agent": agent}


def dhcp_agent_config(host: HostDescription, hostname: str) -> dict:
    sections: dict = {"DEFAULT": {"test_namespace_suffix": f"-{hostname}"}}
    if host.availability_zone:
        sections["AGENT"] = {"availability_zone": host.availability_zone}
    return sections


def unsupported(desc: EnvironmentDescription, hosts: list[HostDescription]) -> str | None:
    """Why this machine cannot run a deployment so described, or None."""
    for host in hosts:
        if host.l2_agent_type not in (constants.AGENT_TYPE_OVS, constants.AGENT_TYPE_NIC_SWITCH):
            return f"{host.l2_agent_type}: not an L2 agent of Neutron 29's fullstack"
    return None


def harness_descriptions(desc: EnvironmentDescription, hosts: list[HostDescription]
                         ) -> tuple[descriptions.EnvironmentDescription,
                                    list[descriptions.HostDescription]]:
    """This harness's descriptions of the same deployment."""
    env_desc = descriptions.EnvironmentDescription(
        network_type=desc.network_type, physical_network=PHYSICAL_NETWORK_NAME,
        l2_pop=desc.l2_pop, arp_responder=desc.arp_responder and desc.l2_pop,
        agent_down_time=desc.agent_down_time,
        # Neutron's fullstack reports at half the down time.
        report_interval=max(1, desc.agent_down_time // 2),
        service=UPSTREAM_SERVICE, server_config=server_config(desc))
    harness_hosts = []
    for number, host in enumerate(hosts, start=1):
        hostname = host_module.hostname(number)
        if host.l2_agent_type == constants.AGENT_TYPE_NIC_SWITCH:
            harness_hosts.append(descriptions.HostDescription(
                l2_agent=False, extensions=(SriovAgent(),)))
            continue
        # Another driver (iptables_hybrid) goes in the agent's options only.
        firewall: descriptions.FirewallDriver = (
            host.firewall_driver if host.firewall_driver in descriptions.FIREWALL_DRIVERS
            else "noop")
        agent_config: dict = {"l2": ovs_agent_config(desc, host)}
        # Its physical bridge carries Neutron's first physical network, or
        # (segmented_physnet) its second.
        physnet = (PHYSICAL_NETWORK_SEGMENTS_NAME if host.segmented_physnet
                   else PHYSICAL_NETWORK_NAME)
        mappings = {physnet: host_module.PHYSICAL_BRIDGE}
        if host.l3_agent:
            mappings[descriptions.EXTERNAL_PHYSNET] = host_module.EXTERNAL_BRIDGE
        extensions: tuple[descriptions.HostExtension, ...] = ()
        if desc.has_metadata:
            mappings[METADATA_PHYSNET] = METADATA_BRIDGE
            extensions = (MetadataBridge(),)
        agent_config["l2"]["ovs"]["bridge_mappings"] = mappings
        if host.l3_agent:
            agent_config["l3"] = l3_agent_config(host, hostname)
        if host.dhcp_agent:
            agent_config["dhcp"] = dhcp_agent_config(host, hostname)
        harness_hosts.append(descriptions.HostDescription(
            l3_agent=host.l3_agent, dhcp_agent=host.dhcp_agent, firewall_driver=firewall,
            agent_config=agent_config, extensions=extensions))
    return env_desc, harness_hosts
