"""neutrino, the reference service: its server and agents, forked or started as ``python -m``.

Everything about neutrino the harness knows is here: module names, what
each config file says, where its agents keep their files, and that its
dnsmasq outlives the DHCP agent by design.  In a test, the server and
the agents fork from zygotes the test runner keeps (``agent_main.py``,
``server_main.py``; see services/forking.py): half of each one's start-up
was importing neutrino.  A deployment left standing starts them as
``python -m`` (nothing of it may depend on a process that ends with the
command that made it).
"""

from __future__ import annotations

import concurrent.futures
import glob
import os
import shutil
import sys
from collections.abc import Sequence
from typing import ClassVar

import psutil

from fullstack import context, process
from fullstack.descriptions import (
    EXTERNAL_PHYSNET,
    NETWORK_TYPES,
    AgentKind,
    EnvironmentDescription,
    HostDescription,
)
from fullstack.resources import config, namespace, records, runner
from fullstack.services import forking
from fullstack.services.base import AgentSpec, ServerSpec, Service

TUNNEL_ID_RANGE = "1001:2000"
VLAN_RANGE = (1000, 1999)

_AGENTS = {  # kind: (module, name suffix)
    "l2": ("neutrino.agents.ovs", "ovs-agent"),
    "l3": ("neutrino.agents.l3", "l3-agent"),
    "dhcp": ("neutrino.agents.dhcp", "dhcp-agent"),
}
SERVER_BINARY = "neutrino-server"
# The zygotes' role files (see services/zygote.py): what each forks, and how.
_HERE = os.path.dirname(__file__)
AGENT_ROLE = os.path.join(_HERE, "agent_main.py")
SERVER_ROLE = os.path.join(_HERE, "server_main.py")


def _python_module(module: str) -> list[str]:
    return [sys.executable, "-m", module]


# Runs the function at import path argv[1] ("package.module:function") as main.
_RUN_MAIN = ("import importlib, sys; module, _, function = sys.argv.pop(1).partition(':'); "
             "sys.exit(getattr(importlib.import_module(module), function or 'main')())")


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
        # [agent] extensions takes import paths (Neutron's, entry point names only).
        "l2-agent-extensions-by-import-path",
        # A create body without tenant_id makes a resource of no project, where
        # Neutron without Keystone refuses it (400).
        "creates-without-a-project",
    })

    def unsupported_regions(self) -> str | None:
        return None

    def check_config(self, ctx: context.RunContext, env_desc: EnvironmentDescription,
                     hosts_desc: Sequence[HostDescription]) -> None:
        """neutrino's processes refuse an option they do not know (or a bad value):
        with ``--check-config`` they say so without starting, so each overlaid
        file is checked first, side by side, in a process of its own."""
        checks: dict[str, tuple[str, str, process.Sections]] = {}
        if env_desc.server_config:
            server = self.server(ServerSpec(ctx=ctx, env_desc=env_desc, bind_host="127.0.0.1",
                                            bind_port=0, transport_url="", database_url="",
                                            broker=None))
            server.apply_overlay(env_desc.server_config)
            checks["server_config"] = ("server", "neutrino.server", server.sections)
        for number, host in enumerate(hosts_desc, start=1):
            for kind, overlay in host.agent_config.items():
                agent = self.agent(kind, _spec_for_check(ctx, env_desc, host, number))
                agent.apply_overlay(overlay)
                checks[f"agent_config[{kind!r}] of host-{number}"] = (
                    f"host-{number}-{kind}", _AGENTS[kind][0], agent.sections)
        folder = os.path.join(ctx.log_dir, "config-check")

        def check(item: tuple[str, tuple[str, str, process.Sections]]) -> str:
            what, (name, module, sections) = item
            with config.ConfigFile(folder, f"{name}.ini", sections) as written:
                done = runner.execute([*_python_module(module), "--check-config",
                                       "--config-file", written.path], check=False)
            return f"{what}: {done.stderr.strip()}" if done.returncode else ""

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(checks))) as pool:
            errors = [error for error in pool.map(check, checks.items()) if error]
        if errors:
            raise ValueError("; ".join(errors))

    def server(self, spec: ServerSpec) -> process.ServerProcess | forking.ForkedServer:
        desc = spec.env_desc
        sections: process.Sections = {
            "DEFAULT": {
                "bind_host": spec.bind_host, "bind_port": spec.bind_port, "debug": True,
                "transport_url": spec.transport_url,
                "agent_down_time": desc.agent_down_time,
                "dhcp_agents_per_network": desc.dhcp_agents_per_network,
                "allow_automatic_l3agent_failover": desc.l3_agent_failover,
                "core_plugin": "ml2",
                "service_plugins": ["router", "dhcp_agent_scheduler", "security_group",
                                    *(["qos"] if desc.qos else [])],
            },
            "database": {"connection": spec.database_url},
            "ml2": {"type_drivers": list(NETWORK_TYPES),
                    "tenant_network_types": [desc.network_type],
                    "mechanism_drivers": ["openvswitch", *(["l2population"] if desc.l2_pop
                                                           else [])]},
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
        config_file = ["--config-file", process.config_path(spec.ctx, name)]
        server: process.ServerProcess | forking.ForkedServer
        if spec.ctx.lasting:
            zygote = forking.KeptZygote(spec.ctx.settings, "neutrino-server-zygote", SERVER_ROLE)
            server = forking.ForkedServer(zygote, spec.ctx, name, [SERVER_BINARY, *config_file],
                                          sections, spec.bind_host, spec.bind_port)
        else:
            server = process.ServerProcess(
                spec.ctx, name, [*_python_module("neutrino.server"), *config_file], sections,
                spec.bind_host, spec.bind_port)
        # Both ends of every queue and exchange declare it (neutrino.common.rpc.
        # topology): an agent's first calls wait in the broker for the server.
        server.early_agents = True
        return server

    def agent(self, kind: AgentKind, spec: AgentSpec) -> process.ServiceProcess:
        module, suffix = _AGENTS[kind]
        name = f"{spec.hostname}-{suffix}"
        sections = {"l2": self._l2_config, "l3": self._l3_config,
                    "dhcp": self._dhcp_config}[kind](spec)
        binary = self.agent_binaries[kind]
        config_file = ["--config-file", process.config_path(spec.ctx, name)]
        if spec.ctx.lasting:
            zygote = forking.KeptZygote(spec.ctx.settings, "neutrino-agent-zygote", AGENT_ROLE)
            return forking.ForkedProcess(zygote, spec.ctx, name, [binary, *config_file],
                                         sections, binary=binary, namespace=spec.namespace)
        return process.ServiceProcess(
            spec.ctx, name, [*_python_module(module), *config_file], sections,
            binary=binary, namespace=spec.namespace)

    def agent_from_main(self, spec: AgentSpec, name: str, main: str,
                        sections: process.Sections, binary: str = "") -> process.ServiceProcess:
        cmd = [sys.executable, "-c", _RUN_MAIN, main, "--config-file",
               process.config_path(spec.ctx, name)]
        agent = process.ServiceProcess(
            spec.ctx, name, cmd, {"DEFAULT": self._defaults(spec),
                                  "agent": {"report_interval": spec.env_desc.report_interval}},
            binary=binary, namespace=spec.namespace)
        agent.apply_overlay(sections)
        return agent

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
        return {"host": spec.hostname, "debug": True, "transport_url": spec.transport_url}

    def _dhcp_config(self, spec: AgentSpec) -> process.Sections:
        return {
            "DEFAULT": {**self._defaults(spec), "namespace_prefix": spec.namespace_prefix,
                        "state_path": self._dhcp_state_path(spec),
                        "dhcp_lease_duration": 600},
            "agent": {"report_interval": spec.env_desc.report_interval},
            "ovs": {"ovsdb_connection": spec.ovsdb_connection},
        }

    def _l3_config(self, spec: AgentSpec) -> process.Sections:
        return {
            "DEFAULT": {**self._defaults(spec), "namespace_prefix": spec.namespace_prefix},
            "agent": {"report_interval": spec.env_desc.report_interval},
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
            "agent": {"report_interval": desc.report_interval,
                      "tunnel_types": desc.tunnel_types, "l2_population": desc.l2_pop,
                      "arp_responder": desc.arp_responder,
                      "extensions": ["qos"] if desc.qos else []},
            "securitygroup": {"firewall_driver": spec.firewall_driver},
        }


def _spec_for_check(ctx: context.RunContext, env_desc: EnvironmentDescription,
                    host: HostDescription, number: int) -> AgentSpec:
    """What host ``number``'s agents would be given, for a check of their files:
    where nothing stands yet, placeholders."""
    hostname = f"host-{number}"
    return AgentSpec(
        ctx=ctx, env_desc=env_desc, hostname=hostname, namespace=f"{ctx.prefix}-h{number}",
        transport_url="amqp://check", ovsdb_connection="unix:/nonexistent",
        ovs_run_dir=ctx.ovs_run_dir(hostname), local_ip="127.0.0.1", bridge_mappings={},
        namespace_prefix="", state_dir=os.path.join(ctx.run_dir, "agents", hostname),
        firewall_driver=host.firewall_driver)
