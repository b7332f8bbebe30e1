"""Neutron behind the harness's service seam: database, server, agents, their leftovers.

Its agents are forked by the agents' zygote (zygote.py, which imported
them once; see services/forking.py) and run as ``agent_main.py`` says (privileged calls in-process,
namespaces named per host).  What they leave by design goes at the host's
cleanup: dnsmasq (it daemonizes out of the DHCP agent's session), anything
still running inside the namespaces they made, and the namespaces.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
from typing import ClassVar

import psutil

from fullstack import context, prerequisites, process
from fullstack.descriptions import AgentKind, EnvironmentDescription
from fullstack.resources import database, namespace, records
from fullstack.services import forking
from fullstack.services.base import AgentSpec, ServerSpec, Service
from fullstack.services.neutron import configs, installation, ovs_agent, schema
from fullstack.services.neutron.server import NeutronServer

# The DHCP and L3 agents drain for seconds on SIGTERM: a short grace, then
# SIGKILL (what they leave goes with the host's leftovers).
AGENT_STOP_TIMEOUT = 3.0

_AGENTS = {  # kind: (console script, config, name suffix, stop signal)
    # SIGTERM never ends the OVS agent (it waits on its OpenFlow controller's
    # threads for good): it is stopped as it would crash, its flows staying.
    "l2": ("neutron-openvswitch-agent", configs.ovs_agent, "ovs-agent", signal.SIGKILL),
    "l3": ("neutron-l3-agent", configs.l3_agent, "l3-agent", signal.SIGTERM),
    "dhcp": ("neutron-dhcp-agent", configs.dhcp_agent, "dhcp-agent", signal.SIGTERM),
}


class NeutronService(Service):
    name = "neutron"
    agent_binaries: ClassVar[dict[str, str]] = {
        kind: script for kind, (script, *_) in _AGENTS.items()}
    #: The main the L3 or DHCP agent runs instead of its script's, by import
    #: path (``package.module:function``); the script still names it.
    agent_mains: ClassVar[dict[str, str]] = {}
    known_bugs: ClassVar[dict[str, str]] = {
        # Seen in scenarios.test_live_changes.TestSegmentationIdUpdate: the
        # network update moves the ports' flows, then the port's details
        # (neutron.agent.rpc's cache-backed get_device_details) bring the old
        # segment back.  Nothing refreshes a cached port when only its segment
        # changed.
        "vlan-segmentation-update-undone": (
            "the OVS agent moves a VLAN network's ports to the new segmentation id, "
            "then on its next pass over them (polling_interval, 2 s) puts them back on "
            "the old VLAN under a new local VLAN: it reads their VLAN from its cached "
            "ports, whose binding still holds the segment as it was"),
    }

    def unsupported(self, env_desc: EnvironmentDescription) -> str | None:
        if env_desc.interconnection == "veth":
            return ("Neutron 29 joins br-int to br-tun and the physical bridges with patch "
                    "ports only (its use_veth_interconnection option is gone)")
        return None

    def unsupported_regions(self) -> str | None:
        return ("no central and local server roles: Tricircle gave Neutron those, and it "
                "was retired in 2020 and does not run with Neutron 29")

    def check_settings(self, settings: prerequisites.Settings) -> None:
        installation.check()
        schema.check_mysql(settings)

    def prepare_database(self, ctx: context.RunContext, db: database.Database) -> None:
        schema.load(db, schema.ensure_dump(ctx))

    def server(self, spec: ServerSpec) -> process.Server:
        return NeutronServer(spec)

    def agent(self, kind: AgentKind, spec: AgentSpec) -> process.ServiceProcess:
        zygote = self._zygote(spec)
        script, make_config, suffix, stop_signal = _AGENTS[kind]
        name = f"{spec.hostname}-{suffix}"
        # Its own state directory, there from its start (options may point in it).
        os.makedirs(self._state_dir(spec, kind), exist_ok=True)
        config = make_config(spec, self._state_dir(spec, kind))
        cmd = [script, "--config-file", process.config_path(spec.ctx, name)]
        env = self._agent_env(spec)
        if kind == "l2":
            agent_class = (ovs_agent.PrimedOvsAgent if spec.firewall_driver == "openvswitch"
                           else ovs_agent.OvsAgent)
            return agent_class(zygote, spec.ctx, name, cmd, config, spec=spec, binary=script,
                               namespace=spec.namespace, stop_timeout=AGENT_STOP_TIMEOUT,
                               stop_signal=stop_signal, env=env)
        return forking.ForkedProcess(zygote, spec.ctx, name, cmd, config, binary=script,
                                   namespace=spec.namespace, stop_timeout=AGENT_STOP_TIMEOUT,
                                   stop_signal=stop_signal, env=env,
                                   main=self.agent_mains.get(kind))

    def agent_from_main(self, spec: AgentSpec, name: str, main: str,
                        sections: process.Sections, binary: str = "") -> forking.ForkedProcess:
        """Forked by the zygote like the three (it imports ``main`` once, itself)."""
        zygote = self._zygote(spec)
        state_dir = os.path.join(spec.state_dir, name.removeprefix(f"{spec.hostname}-"))
        agent = forking.ForkedProcess(
            zygote, spec.ctx, name, [binary or name, "--config-file",
                                     process.config_path(spec.ctx, name)],
            configs.agent_common(spec, state_dir), binary=binary, namespace=spec.namespace,
            stop_timeout=AGENT_STOP_TIMEOUT, env=self._agent_env(spec), main=main)
        agent.apply_overlay(sections)
        return agent

    @staticmethod
    def _zygote(spec: AgentSpec) -> forking.Zygote:
        if not isinstance(spec.server, NeutronServer):
            raise ValueError(f"AgentSpec.server of {spec.hostname} must be the NeutronServer "
                             f"this service made, not {spec.server!r}: its zygote forks the "
                             "agents")
        if spec.server.zygote is None:
            raise ValueError(f"the NeutronServer of {spec.hostname} is not set up: its agents' "
                             "zygote is chosen then")
        return spec.server.zygote

    @staticmethod
    def _agent_env(spec: AgentSpec) -> dict[str, str]:
        return {"FULLSTACK_NS_PREFIX": spec.namespace_prefix, "OVS_RUNDIR": spec.ovs_run_dir,
                "PATH": os.pathsep.join([installation.bin_dir(), os.environ.get("PATH", "")])}

    @staticmethod
    def _state_dir(spec: AgentSpec, kind: str) -> str:
        return os.path.join(spec.state_dir, kind)

    def dhcp_servers(self, spec: AgentSpec,
                     network_id: str | None = None) -> list[psutil.Process]:
        pid_files = glob.glob(os.path.join(configs.dhcp_confs(self._state_dir(spec, "dhcp")),
                                           network_id or "*", "pid"))
        found = (records.process_of_pid_file(pid_file) for pid_file in pid_files)
        return [proc for proc in found if proc is not None]

    def dropped_port(self, l2_agent: process.ServiceProcess, port_id: str) -> str | None:
        # Neutron 29's OVS agent learns of a new port from an ``ovsdb-client
        # monitor`` stream but reads its ofport through its own OVSDB
        # connection.  When the stream is ahead (a busy machine), the port is
        # taken as added with no ofport, logged as "will be retried" and never
        # is: no later event names it again.
        skipped = f"VIF port: {port_id} has no valid ofport"
        try:
            with open(l2_agent.log_path, encoding="utf-8", errors="replace") as log:
                if any(skipped in line for line in log):
                    return (f"{l2_agent.name} skipped port {port_id} for want of an ofport "
                            f"and will not retry it (see {l2_agent.log_path})")
        except FileNotFoundError:
            pass
        return None

    def remove_agent_leftovers(self, spec: AgentSpec) -> None:
        for proc in self.dhcp_servers(spec):
            records.kill(proc)
        # What else the agents started and left, by its pid file in their state
        # (the OVS agent's metadata haproxy, a router's radvd).
        for pid_file in glob.glob(os.path.join(spec.state_dir, "**", "*.pid"), recursive=True):
            proc = records.process_of_pid_file(pid_file)
            if proc is not None:
                records.kill(proc)
        for name in namespace.starting_with(spec.namespace_prefix):
            for proc in namespace.processes_in(name):
                records.kill(proc)
            namespace.delete(name)
        for kind in ("dhcp", "l3"):
            shutil.rmtree(self._state_dir(spec, kind), ignore_errors=True)
