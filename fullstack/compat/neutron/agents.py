"""A host's agents as Neutron's fullstack suite handles them.

Neutron's harness runs each agent as a systemd unit
(``resources.process.ProcessFixture``) and keeps its options in a
``ConfigFixture``; the suite stops, kills, restarts and reconfigures agents
through those.  Here the agent is the harness's process (forked by the
deployment's zygote, in its host's namespace) and these classes give it
the suite's names.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from concurrent import futures

from neutron.tests.common import config_fixtures

from fullstack import process
from fullstack.resources import config, daemon

# What the suite calls each agent kind (neutron_lib's AGENT_PROCESS_*).
PROCESS_NAMES = {"l2": "neutron-openvswitch-agent", "l3": "neutron-l3-agent",
                 "dhcp": "neutron-dhcp-agent", "sriov": "neutron-sriov-nic-agent"}


class ProcessConfig:
    """A process's options as a ``ConfigDict`` (``config.agent.l2_population``);
    ``write_config_to_configfile`` writes what the test changed, for its next
    start (to every file, for a server of several processes)."""

    def __init__(self, processes: list[process.ServiceProcess],
                 bridges: dict[str, str] | None = None):
        self._processes = processes
        self._bridges = bridges or {}
        self.filename = processes[0].config_path
        # As Neutron's: every value a string, as the file has it, but with
        # $state_path resolved (a test opens a path it reads here).
        sections = processes[0].sections
        state_path = str(sections.get("DEFAULT", {}).get("state_path", "$state_path"))
        self.config = config_fixtures.ConfigDict()
        self.config.update({
            section: {option: value if isinstance(value, config.Repeated)
                      else config.render_value(value).replace("$state_path", state_path)
                      for option, value in options.items() if value is not None}
            for section, options in sections.items()})

    def write_config_to_configfile(self) -> None:
        sections = {section: dict(options) for section, options in self.config.items()}
        for proc in self._processes:
            proc.sections = sections
            with open(proc.config_path, "w") as f:
                f.write(config.render(sections))

    def get_br_int_name(self) -> str:
        return self._bridges["int"]

    def get_br_tun_name(self) -> str:
        return self._bridges["tun"]

    def get_br_phys_name(self) -> str:
        return self._bridges["phys"]


class ProcessFixture:
    """A process as ``resources.process.ProcessFixture``: start, stop (gracefully,
    or with ``kill_signal``: to it and, through ``kill_tree``, what it started),
    restart."""

    def __init__(self, agent: daemon.ProcessFixture, process_name: str,
                 kill_tree: Callable[[daemon.ProcessFixture, int], None] | None = None):
        self._agent = agent
        self._kill_tree = kill_tree
        self.process_name = process_name

    def start(self) -> None:
        self._agent.start()

    def stop(self, kill_signal: signal.Signals | None = None) -> None:
        if not self._agent.is_running():
            return
        if kill_signal is None:
            self._agent.stop()
            return
        if self._kill_tree is None:
            self._agent.stop(kill_signal=kill_signal)
        else:
            self._kill_tree(self._agent, kill_signal)

    def restart(self, executor: futures.Executor | None = None):
        def restart() -> None:
            if self._agent.is_running():
                self._agent.stop()
            self._agent.start()

        if executor is not None:
            return executor.submit(restart)
        restart()
        return None

    def process_is_running(self) -> bool:
        return self._agent.is_running()

    def process_is_not_running(self) -> bool:
        return not self._agent.is_running()

    service_is_active = process_is_running

    @property
    def pid(self) -> int | None:
        return self._agent.pid


class AgentFixture:
    """``OVSAgentFixture``, ``L3AgentFixture`` and ``DhcpAgentFixture`` in one: what
    the suite reaches on ``host.agents[...]``."""

    def __init__(self, kind: str, agent: process.ServiceProcess, host, bridges: dict[str, str]):
        self.kind = kind
        self._host = host
        self.harness_agent = agent
        self.hostname = host.hostname
        self.env_desc = host.env_desc
        self.host_desc = host.host_desc
        # As systemd's "kill --kill-who all": the agent and everything it
        # started (dnsmasq, keepalived, its helpers) get the signal.
        self.process_fixture = ProcessFixture(
            agent, f"{agent.binary or agent.name}-{host.hostname}", host.signal_agent_tree)
        self.agent_cfg_fixture = ProcessConfig([agent], bridges)
        self.agent_config = self.agent_cfg_fixture.config
        # The suite's names for the same object, per kind.
        self.l3_agent_cfg_fixture = self.agent_cfg_fixture
        self.plugin_config = self.agent_cfg_fixture.config
        self.neutron_cfg_fixture = host.neutron_config
        self.neutron_config = host.neutron_config.config
        # DHCP and router namespaces are ordinary ones, reachable by ip_lib
        # from the test (Neutron's "nested namespace" case does not arise).
        self.namespace = None
        if kind == "l2":
            self.br_int = host.get_bridge()

    def __repr__(self) -> str:
        return f"<{PROCESS_NAMES[self.kind]} of {self.hostname}>"

    def start(self) -> None:
        self.process_fixture.start()

    def stop(self, kill_signal: signal.Signals | None = None) -> None:
        self.process_fixture.stop(kill_signal=kill_signal)

    def restart(self, executor: futures.Executor | None = None):
        return self.process_fixture.restart(executor=executor)

    def kill(self) -> None:
        """The DHCP agent's: stopped, its namespaces removed (the suite's
        ``DhcpAgentFixture.kill``)."""
        self.process_fixture.stop()
        self._host.remove_agent_namespaces()

    def get_agent_hostname(self) -> str:
        return self.hostname

    def get_namespace_suffix(self) -> str:
        return str(self.plugin_config.DEFAULT.test_namespace_suffix)
