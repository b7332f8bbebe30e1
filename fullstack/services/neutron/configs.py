"""What each Neutron process's config file says (one file per process, every group in it).

Choices, and why:

- No authentication (``auth_strategy = noauth``): clients send the project in
  bodies, as they do to neutrino.
- One API, one RPC and one state-report worker: two cores are the budget.
- ML2 with flat, vlan, vxlan and gre, the openvswitch and l2population
  mechanism drivers and port_security, as an operator would run it.
- QoS (``EnvironmentDescription(qos=True)``): the qos service plugin and
  ML2 extension driver, the OVS agent's qos extension with meter-based
  bandwidth limits (``qos_meter_bandwidth``), as Neutron's fullstack suite
  runs it with ``use_meter_bandwidth_limit``.
- Security groups are enforced on the hosts that ask for it
  (``HostDescription(firewall_driver="openvswitch")``: Neutron's conntrack
  driver, which works with the userspace datapath's conntrack); the others
  run ``noop``, as Neutron's fullstack suite did by default, so scenarios
  about something else need no rules for their traffic.
- Agents wait 30 s for an RPC reply (``rpc_response_timeout``; Neutron's
  default is 60), as neutrino's do: a call the server took and lost as it
  restarted then costs the agent at most 30 s and a backoff of as much,
  which a scenario's deadline can hold.
- INFO logs unless FULLSTACK_SERVICE_DEBUG=1: DEBUG costs a third more CPU
  to come up, on two cores.
- Agents: privileged calls run in-process (see agent_main.py), so
  ``root_helper`` is empty (there is no sudo); the OVS agent's OpenFlow
  controller listens on the host namespace's own loopback; router and DHCP
  ports are veths (``ovs_use_veth``) on the userspace datapath; no metadata
  proxy (no haproxy on the machine).
"""

from __future__ import annotations

import os

from fullstack.descriptions import EXTERNAL_PHYSNET, NETWORK_TYPES
from fullstack.process import Sections
from fullstack.services.base import AgentSpec, ServerSpec
from fullstack.services.neutron import installation

TUNNEL_ID_RANGE = "1001:2000"
VLAN_RANGE = (1000, 1999)
AGENT_RPC_TIMEOUT = 30


def rabbit_url(transport_url: str) -> str:
    """oslo.messaging's name for the broker URL the harness gives (amqp://...)."""
    scheme, sep, rest = transport_url.partition("://")
    return f"rabbit://{rest}" if sep and scheme == "amqp" else transport_url


def server(spec: ServerSpec, state_dir: str) -> Sections:
    desc = spec.env_desc
    return {
        "DEFAULT": {
            "core_plugin": "ml2", "service_plugins": ["router", *(["qos"] if desc.qos else [])],
            "auth_strategy": "noauth", "api_paste_config": installation.api_paste_config(),
            "api_workers": 1, "rpc_workers": 1, "rpc_state_report_workers": 1,
            "bind_host": spec.bind_host, "bind_port": spec.bind_port,
            "state_path": state_dir, "transport_url": rabbit_url(spec.transport_url),
            "agent_down_time": desc.agent_down_time,
            "dhcp_agents_per_network": desc.dhcp_agents_per_network,
            "allow_automatic_l3agent_failover": desc.l3_agent_failover,
            "notify_nova_on_port_status_changes": False,
            "notify_nova_on_port_data_changes": False,
            "debug": spec.ctx.settings.service_debug,
        },
        "database": {"connection": spec.database_url},
        "oslo_concurrency": {"lock_path": os.path.join(state_dir, "lock")},
        "ml2": {"type_drivers": list(NETWORK_TYPES),
                "tenant_network_types": [desc.network_type],
                "mechanism_drivers": ["openvswitch", "l2population"],
                "extension_drivers": ["port_security", *(["qos"] if desc.qos else [])]},
        "ml2_type_flat": {"flat_networks": [*desc.physical_networks, EXTERNAL_PHYSNET]},
        "ml2_type_vlan": {"network_vlan_ranges": [
            f"{net}:{VLAN_RANGE[0]}:{VLAN_RANGE[1]}" for net in desc.physical_networks]},
        "ml2_type_vxlan": {"vni_ranges": [TUNNEL_ID_RANGE]},
        "ml2_type_gre": {"tunnel_id_ranges": [TUNNEL_ID_RANGE]},
        "securitygroup": {"enable_security_group": True},
        # A project may have more than Neutron's default 100 rules (the
        # benchmark gives one port's groups 100 and more), as neutrino allows.
        "quotas": {"quota_security_group": -1, "quota_security_group_rule": -1},
    }


# Where a server option's names are looked up: its stevedore namespace.
_PLUGGABLE = (
    ("DEFAULT", "core_plugin", "neutron.core_plugins"),
    ("DEFAULT", "service_plugins", "neutron.service_plugins"),
    ("ml2", "type_drivers", "neutron.ml2.type_drivers"),
    ("ml2", "mechanism_drivers", "neutron.ml2.mechanism_drivers"),
    ("ml2", "extension_drivers", "neutron.ml2.extension_drivers"),
)


def server_entry_points(sections: Sections) -> tuple[tuple[str, str], ...]:
    """The ``(namespace, name)`` of each plugin and driver ``sections`` name, for the
    zygote to import before it forks (a class path is left to the process)."""
    found: list[tuple[str, str]] = []
    for section, option, group in _PLUGGABLE:
        value = sections.get(section, {}).get(option, ())
        names = [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        found.extend((group, str(name)) for name in names if name and "." not in str(name))
    return tuple(found)


def agent_common(spec: AgentSpec, state_dir: str) -> Sections:
    return {
        "DEFAULT": {"host": spec.hostname, "transport_url": rabbit_url(spec.transport_url),
                    "state_path": state_dir, "debug": spec.ctx.settings.service_debug,
                    "rpc_response_timeout": AGENT_RPC_TIMEOUT},
        "agent": {"root_helper": "", "report_interval": spec.env_desc.report_interval},
        "oslo_concurrency": {"lock_path": os.path.join(state_dir, "lock")},
        "ovs": {"integration_bridge": "br-int", "datapath_type": spec.env_desc.datapath,
                "ovsdb_connection": spec.ovsdb_connection},
    }


def ovs_agent(spec: AgentSpec, state_dir: str) -> Sections:
    desc = spec.env_desc
    sections = agent_common(spec, state_dir)
    sections["ovs"].update({
        "tunnel_bridge": "br-tun", "of_listen_address": "127.0.0.1",
        "local_ip": spec.local_ip, "bridge_mappings": spec.bridge_mappings,
    })
    sections["agent"].update({"tunnel_types": desc.tunnel_types,
                              "l2_population": desc.l2_pop,
                              "arp_responder": desc.arp_responder})
    if desc.qos:
        sections["agent"]["extensions"] = ["qos"]
        # Bandwidth limits as OpenFlow meters: the userspace datapath does not
        # enforce the ingress_policing_rate Neutron writes otherwise.
        sections["ovs"]["qos_meter_bandwidth"] = True
    sections["securitygroup"] = {"enable_security_group": True,
                                 "firewall_driver": spec.firewall_driver}
    return sections


def dhcp_agent(spec: AgentSpec, state_dir: str) -> Sections:
    sections = agent_common(spec, state_dir)
    sections["DEFAULT"].update({
        "interface_driver": "openvswitch", "ovs_use_veth": True,
        "dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq",
        "enable_isolated_metadata": False, "enable_metadata_network": False,
        "force_metadata": False, "dnsmasq_local_resolv": False,
        "dhcp_confs": dhcp_confs(state_dir), "resync_interval": 5,
    })
    return sections


def l3_agent(spec: AgentSpec, state_dir: str) -> Sections:
    sections = agent_common(spec, state_dir)
    sections["DEFAULT"].update({
        "interface_driver": "openvswitch", "ovs_use_veth": True,
        "agent_mode": "legacy", "enable_metadata_proxy": False,
    })
    return sections


def dhcp_confs(state_dir: str) -> str:
    """Where the DHCP agent keeps each network's dnsmasq files (and its pid file)."""
    return os.path.join(state_dir, "dhcp")
