"""neutrino, the reference service: its server and agents, started as ``python -m ...``.

Everything about neutrino the harness knows is here: module names, what
each config file says, where its agents keep their files, and that its
dnsmasq outlives the DHCP agent by design.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from typing import ClassVar

import psutil

from fullstack import process
from fullstack.descriptions import EXTERNAL_PHYSNET, NETWORK_TYPES
from fullstack.resources import namespace, records
from fullstack.services.base import AgentSpec, ServerSpec, Service

TUNNEL_ID_RANGE = "1001:2000"
VLAN_RANGE = (1000, 1999)

_AGENTS = {  # kind: (module, name suffix)
    "l2": ("neutrino.agents.ovs", "ovs-agent"),
    "l3": ("neutrino.agents.l3", "l3-agent"),
    "dhcp": ("neutrino.agents.dhcp", "dhcp-agent"),
}


def _python_module(module: str) -> list[str]:
    return [sys.executable, "-m", module]


class NeutrinoService(Service):
    name = "neutrino"
    agent_binaries: ClassVar[dict[str, str]] = {
        "l2": "neutrino-openvswitch-agent", "l3": "neutrino-l3-agent",
        "dhcp": "neutrino-dhcp-agent"}
    features: ClassVar[frozenset[str]] = frozenset({
        "errors-name-the-attribute",   # every 400 names the attribute it is about
        "refuses-while-database-is-out",   # a 503 at once, where Neutron holds the call
        "serves-without-broker",   # the API needs no broker, where Neutron's waits for it
        # stateful=False filters without conntrack, where Neutron's openvswitch
        # firewall treats every group as stateful.
        "stateless-security-groups",
    })

    def unsupported_regions(self) -> str | None:
        return None

    def server(self, spec: ServerSpec) -> process.Server:
        desc = spec.env_desc
        sections: process.Sections = {
            "DEFAULT": {
                "bind_host": spec.bind_host, "bind_port": spec.bind_port, "debug": True,
                "transport_url": spec.transport_url,
                "agent_down_time": desc.agent_down_time,
                "dhcp_agents_per_network": desc.dhcp_agents_per_network,
                "allow_automatic_l3agent_failover": desc.l3_agent_failover,
                "core_plugin": "ml2",
                "service_plugins": ["router", "dhcp_agent_scheduler", "security_group"],
            },
            "database": {"connection": spec.database_url},
            "ml2": {"type_drivers": list(NETWORK_TYPES),
                    "tenant_network_types": [desc.network_type],
                    "l2_population": desc.l2_pop},
            "ml2_type_vxlan": {"vni_ranges": [TUNNEL_ID_RANGE]},
            "ml2_type_gre": {"tunnel_id_ranges": [TUNNEL_ID_RANGE]},
            "ml2_type_vlan": {"network_vlan_ranges": [
                f"{net}:{VLAN_RANGE[0]}:{VLAN_RANGE[1]}" for net in desc.physical_networks]},
            "ml2_type_flat": {"flat_networks": [*desc.physical_networks, EXTERNAL_PHYSNET]},
        }
        if spec.role != "standalone":
            sections["DEFAULT"]["role"] = spec.role
            region: dict[str, object] = {
                # A scenario asks for a failed job again itself.
                "failed_job_redo_interval": 0}
            if spec.role == "local":
                region.update(region_name=spec.region_name, central_url=spec.central_url)
            sections["region"] = region
        name = f"neutrino-{spec.process_name}"
        return process.ServerProcess(
            spec.ctx, name, self._command("neutrino.server", spec.ctx, name), sections,
            spec.bind_host, spec.bind_port)

    def agent(self, kind: str, spec: AgentSpec) -> process.ServiceProcess:
        module, suffix = _AGENTS[kind]
        name = f"{spec.hostname}-{suffix}"
        sections = {"l2": self._l2_config, "l3": self._l3_config,
                    "dhcp": self._dhcp_config}[kind](spec)
        return process.ServiceProcess(
            spec.ctx, name, self._command(module, spec.ctx, name), sections,
            binary=self.agent_binaries[kind], namespace=spec.namespace)

    @staticmethod
    def _command(module: str, ctx: object, name: str) -> list[str]:
        return [*_python_module(module), "--config-file",
                process.config_path(ctx, name)]  # type: ignore[arg-type]

    def dhcp_servers(self, spec: AgentSpec,
                     network_id: str | None = None) -> list[psutil.Process]:
        # A dnsmasq is ours if its command line names its pid file under
        # this host's state path.
        found = (records.process_of_pid_file(pid_file)
                 for pid_file in self._dnsmasq_pid_files(spec, network_id))
        return [proc for proc in found if proc is not None]

    def remove_agent_leftovers(self, spec: AgentSpec) -> None:
        # dnsmasq outlives its agent by design.
        for proc in self.dhcp_servers(spec):
            records.kill(proc)
        for name in namespace.starting_with(spec.namespace_prefix):
            namespace.delete(name)
        shutil.rmtree(self._dhcp_state_path(spec), ignore_errors=True)

    @staticmethod
    def _dhcp_state_path(spec: AgentSpec) -> str:
        return os.path.join(spec.state_dir, "dhcp")

    def _dnsmasq_pid_files(self, spec: AgentSpec, network_id: str | None) -> list[str]:
        return glob.glob(os.path.join(self._dhcp_state_path(spec), network_id or "*", "pid"))

    @staticmethod
    def _defaults(spec: AgentSpec) -> dict[str, object]:
        return {"host": spec.hostname, "debug": True, "transport_url": spec.transport_url,
                "report_interval": spec.env_desc.report_interval}

    def _dhcp_config(self, spec: AgentSpec) -> process.Sections:
        return {
            "DEFAULT": {**self._defaults(spec), "namespace_prefix": spec.namespace_prefix,
                        "state_path": self._dhcp_state_path(spec),
                        "dhcp_lease_duration": 600},
            "ovs": {"ovsdb_connection": spec.ovsdb_connection},
        }

    def _l3_config(self, spec: AgentSpec) -> process.Sections:
        return {
            "DEFAULT": {**self._defaults(spec), "namespace_prefix": spec.namespace_prefix},
            "ovs": {"ovsdb_connection": spec.ovsdb_connection},
        }

    def _l2_config(self, spec: AgentSpec) -> process.Sections:
        desc = spec.env_desc
        return {
            "DEFAULT": self._defaults(spec),
            "ovs": {
                "ovsdb_connection": spec.ovsdb_connection, "ovs_rundir": spec.ovs_run_dir,
                "datapath_type": desc.datapath, "local_ip": spec.local_ip,
                "bridge_mappings": spec.bridge_mappings,
                "use_veth_interconnection": desc.interconnection == "veth",
            },
            "agent": {"tunnel_types": desc.tunnel_types, "l2_population": desc.l2_pop,
                      "arp_responder": desc.arp_responder},
            "securitygroup": {"firewall_driver": spec.firewall_driver},
        }
