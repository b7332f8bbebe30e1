"""``neutron.tests.fullstack.resources.environment``, on this harness.

The descriptions are Neutron's (``compat.neutron.descriptions``).
``Environment`` is what the suite's tests hand to ``setUp``; the layer's
``BaseFullStackTestCase`` builds the harness's environment from it and
gives it back as Neutron's names (``hosts``, ``neutron_server``,
``central_bridge``...).
"""

from __future__ import annotations

import os
import signal

import fixtures
from neutron.tests.common import config_fixtures, net_helpers

from fullstack import environment, process, wait
from fullstack import host as host_module
from fullstack.compat.neutron import agents, bridges, service
from fullstack.compat.neutron.descriptions import (  # noqa: F401 (Neutron's names)
    METADATA_BRIDGE,
    PHYSICAL_NETWORK_NAME,
    PHYSICAL_NETWORK_SEGMENTS_NAME,
    SRIOV_AGENT_BINARY,
    EnvironmentDescription,
    HostDescription,
    harness_descriptions,
    unsupported,
)
from fullstack.resources import cable, link


class NeutronConfig:
    """What the suite reads of a host's ``neutron_config``: its host name, a
    directory of its own."""

    def __init__(self, hostname: str, temp_dir: str, report_interval: float):
        self.config = config_fixtures.ConfigDict()
        self.config.update({"DEFAULT": {"host": hostname, "state_path": temp_dir},
                            "agent": {"report_interval": str(int(report_interval))}})
        self.temp_dir = temp_dir

    def get_host(self) -> str:
        return str(self.config.DEFAULT.host)


class Host:
    """A harness host (its own namespace and OVS instance) under Neutron's names."""

    def __init__(self, env: Environment, harness_host: host_module.Host,
                 host_desc: HostDescription):
        self.environment = env
        self.harness_host = harness_host
        self.env_desc = env.env_desc
        self.host_desc = host_desc
        self.test_name = env.test_name
        self.central_bridge = env.central_bridge
        temp_dir = os.path.join(harness_host.site.ctx.run_dir, "compat", harness_host.hostname)
        os.makedirs(temp_dir, exist_ok=True)
        self.neutron_config = NeutronConfig(harness_host.hostname, temp_dir,
                                            harness_host.site.env_desc.report_interval)
        self.local_ip = harness_host.tunnel_ip
        # Where the host's agents run (their iptables, their sysctls): None in
        # Neutron's harness, where that was the machine's root namespace.
        self.host_namespace = harness_host.namespace
        self._bridges = {"int": "br-int", "tun": "br-tun", "phys": host_module.PHYSICAL_BRIDGE}
        self.br_phys = bridges.HostBridge(harness_host.ovs, host_module.PHYSICAL_BRIDGE)
        self._br_int = bridges.HostBridge(harness_host.ovs, "br-int")
        if self.env_desc.has_metadata:
            self.br_meta = bridges.HostBridge(harness_host.ovs, METADATA_BRIDGE)
        self.agents: dict[str, agents.AgentFixture] = {}
        self._uplinks = 0
        for kind, name in (("l2", "ovs"), ("l3", "l3"), ("dhcp", "dhcp")):
            agent = harness_host.agents.get(kind)
            if agent is not None:
                self.agents[name] = agents.AgentFixture(kind, agent, self, self._bridges)
        for proc in harness_host.extension_processes:
            if isinstance(proc, process.ServiceProcess) and proc.binary == SRIOV_AGENT_BINARY:
                self.agents["sriov"] = agents.AgentFixture("sriov", proc, self, self._bridges)

    def __repr__(self) -> str:
        return f"Host description {self.host_desc}, environment description: {self.env_desc}"

    @property
    def hostname(self) -> str:
        return self.harness_host.hostname

    @property
    def l2_agent(self) -> agents.AgentFixture:
        return self.agents["ovs"] if "ovs" in self.agents else self.agents["sriov"]

    @property
    def ovs_agent(self) -> agents.AgentFixture:
        return self.agents["ovs"]

    @property
    def sriov_agent(self) -> agents.AgentFixture:
        return self.agents["sriov"]

    @property
    def l3_agent(self) -> agents.AgentFixture:
        return self.agents["l3"]

    @property
    def dhcp_agent(self) -> agents.AgentFixture:
        return self.agents["dhcp"]

    def get_bridge(self) -> bridges.HostBridge:
        return self._br_int

    def useFixture(self, fixture):
        """A fixture the test gives the host.  Neutron's ``OVSBridgeFixture``
        makes its bridge in the host's own OVS (Neutron's would make it in the
        machine's); any other is the harness host's."""
        if isinstance(fixture, net_helpers.OVSBridgeFixture):
            self.harness_host.add_bridge(fixture.prefix)
            fixture.bridge = bridges.HostBridge(self.harness_host.ovs, fixture.prefix)
            return fixture
        return self.harness_host.useFixture(fixture)

    def connect_to_central_network_via_vlans(self, host_data_bridge) -> None:
        """``host_data_bridge`` (one of this host's) cabled to the central data
        bridge, as a second physical NIC would be (Neutron patches them)."""
        self._uplinks += 1
        port = f"h{self.harness_host.number}-up{self._uplinks}"
        self.harness_host.useFixture(cable.Cable(
            self.harness_host.site.central().data_bridge, port, f"up{self._uplinks}",
            peer_bridge=host_data_bridge.harness_bridge()))
        self.internal_port = f"up{self._uplinks}"

    def disconnect(self) -> None:
        """Cut the host from the data network, as Neutron's does (its tunnel
        address or its physical bridge's uplink); its agents keep their
        control connection."""
        for name, ns in self.harness_host.cable_ends:
            if name.endswith(("-data", "-phys")):
                link.set_down(name, ns)

    def kill(self, parent=None) -> None:
        """Every agent SIGKILLed, then the host shut down."""
        for agent in self.agents.values():
            agent.stop(kill_signal=signal.SIGKILL)
        self.shutdown(parent)

    def shutdown(self, parent=None) -> None:
        """The host's processes stopped and its cables removed; its fixtures stay
        the test's, so the test's cleanup removes the rest (``parent`` is
        accepted for Neutron's signature)."""
        self.harness_host.shutdown()

    def signal_agent_tree(self, agent, sig: int) -> None:
        """``sig`` to an agent and what it started, as systemd's kill of its unit."""
        agent.stop(kill_signal=sig)
        if agent is self.harness_host.dhcp_agent:
            self.harness_host.kill_dhcp_servers()

    def remove_agent_namespaces(self) -> None:
        """The host's DHCP and router namespaces removed, with what runs in them."""
        service.remove_host_namespaces(self.harness_host.site.ctx.prefix, self.hostname)


class NeutronServer:
    """``environment.neutron_server``: its client (python-neutronclient), its
    options (``neutron_cfg_fixture``, written to each of its processes' files),
    restart."""

    def __init__(self, server, client):
        self.harness_server = server
        self.client = client
        self.neutron_cfg_fixture = agents.ProcessConfig(
            [proc for proc in server.processes() if isinstance(proc, process.ServiceProcess)])

    def restart(self, executor=None):
        if executor is not None:
            return executor.submit(self.harness_server.restart)
        self.harness_server.restart()
        return None


class Environment(fixtures.Fixture):
    """What a test describes and hands to ``setUp``; built there by the layer's
    ``BaseFullStackTestCase`` (``adopt``), which gives it its hosts."""

    def __init__(self, env_desc: EnvironmentDescription, hosts_desc: list[HostDescription]):
        super().__init__()
        self.env_desc = env_desc
        self.hosts_desc = list(hosts_desc)
        self.hosts: list[Host] = []
        self.test_name = ""
        self.harness: environment.Environment | None = None

    def unsupported(self) -> str | None:
        """Why this machine cannot build the deployment, or None."""
        return unsupported(self.env_desc, self.hosts_desc)

    def harness_environment(self) -> environment.Environment:
        env_desc, hosts = harness_descriptions(self.env_desc, self.hosts_desc)
        return environment.Environment(env_desc, hosts)

    def adopt(self, harness: environment.Environment, client, harness_safe_client) -> None:
        """Take the harness's built environment as this one's (``client``: the
        suite's; ``harness_safe_client``: the harness's, for its machines)."""
        self.harness = harness
        self.harness_safe_client = harness_safe_client
        self.neutron_server = NeutronServer(harness.server, client)
        self.central_bridge = bridges.HostBridge(harness.fabric.ovs, "cnt-data",
                                                 site=harness.site)
        self.hosts = [Host(self, harness_host, desc)
                      for harness_host, desc in zip(harness.hosts, self.hosts_desc, strict=True)]

    def get_host_by_name(self, hostname: str) -> Host:
        return next(host for host in self.hosts if host.hostname == hostname)

    def wait_until_env_is_up(self) -> None:
        """Every agent of every host alive in the API (the harness waits so in its
        set-up already; a test calls it again after restarts)."""
        expected = sum(len(host.agents) for host in self.hosts)

        def all_listed() -> bool:
            return len(self.neutron_server.client.list_agents()["agents"]) == expected

        wait.wait_until_true(all_listed, timeout=180, sleep=0.5,
                             exception=f"fewer than {expected} agents listed after 180 s")
