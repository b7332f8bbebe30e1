"""A simulated host: a namespace with its own OVS instance and agents.

Wiring of host N (names inside the host's namespace need no prefix)::

    root ns:    <prefix>-ctl (Linux bridge, control network) -- <prefix>-cN
    host ns:    ctl0 (control address: RabbitMQ and the API, never via OVS)
                br-fabric (OVS; its LOCAL port holds the tunnel endpoint
                address, as userspace tunnelling needs) -- data0
                br-phys (OVS; VLAN and flat networks) -- phys0
    central ns: hN-data and hN-phys, ports of cnt-data (the fabric all
                hosts share)

The L2 agent creates br-int and br-tun itself and joins br-int to br-phys,
as on a real node; br-fabric and br-phys stand for the host's NICs.
"""

from __future__ import annotations

import glob
import os
import shutil
from typing import TYPE_CHECKING

import fixtures

from fullstack import process
from fullstack.descriptions import EXTERNAL_PHYSNET
from fullstack.resources import cable, link, namespace, ovs, records, runner

if TYPE_CHECKING:
    from fullstack.descriptions import HostDescription
    from fullstack.environment import Environment

FABRIC_BRIDGE = "br-fabric"
PHYSICAL_BRIDGE = "br-phys"
EXTERNAL_BRIDGE = "br-ex"


class Host(fixtures.Fixture):
    def __init__(self, env: Environment, number: int, desc: HostDescription):
        super().__init__()
        self.env = env
        self.number = number
        self.desc = desc
        self.hostname = f"host-{number}"
        self.l2_agent: process.ServiceProcess | None = None
        self.l3_agent: process.ServiceProcess | None = None
        self.dhcp_agent: process.ServiceProcess | None = None

    def _setUp(self) -> None:
        ctx = self.env.ctx
        assert ctx is not None
        self.namespace = self.useFixture(
            namespace.Namespace(f"{ctx.prefix}-h{self.number}")).name
        # The host's NICs (data0, phys0, ex0) are OVS ports, yet the kernel
        # sees their traffic too and, by default, answers ARP for the tunnel
        # address on every one of them, with each one's own MAC: a tunnel
        # whose next hop learnt such a MAC sends into a port that can't
        # decapsulate (seen as GRE pairs that never pinged).  Answer only on
        # the interface that holds the address.
        runner.execute(["sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=1",
                        "net.ipv4.conf.all.arp_announce=2"], namespace=self.namespace)
        self._wire_control()
        with self.env.phase(f"{self.hostname}.ovs"):
            self.ovs = self.useFixture(ovs.OvsInstance(
                self.hostname, self.namespace, ctx.ovs_run_dir(self.hostname), ctx.log_dir,
                ctx.settings.state_dir, ctx.prefix, self.env.env_desc.datapath))
        self._wire_fabric()
        self._wire_physical()
        if self.desc.l3_agent:
            self._wire_external()
        self.br_int = self.ovs.bridge("br-int")
        self.br_tun = self.ovs.bridge("br-tun")
        self.env.wait_for_server()
        if self.desc.l2_agent:
            self.l2_agent = self.useFixture(process.OvsAgentProcess(
                ctx, f"{self.hostname}-ovs-agent", self._l2_agent_config(),
                namespace=self.namespace))
        if self.desc.l3_agent or self.desc.dhcp_agent:
            # Registered before the agents start, so it runs after they
            # stopped: what they had no time to remove goes with the test.
            self.addCleanup(self._remove_agent_leftovers)
        if self.desc.l3_agent:
            self.l3_agent = self.useFixture(process.L3AgentProcess(
                ctx, f"{self.hostname}-l3-agent", self._l3_agent_config(),
                namespace=self.namespace))
        if self.desc.dhcp_agent:
            self.dhcp_agent = self.useFixture(process.DhcpAgentProcess(
                ctx, f"{self.hostname}-dhcp-agent", self._dhcp_agent_config(),
                namespace=self.namespace))

    def _wire_control(self) -> None:
        ctx = self.env.ctx
        assert ctx is not None
        root_end = f"{ctx.prefix}-c{self.number}"
        self.useFixture(link.VethPair(root_end, "ctl0", peer_namespace=self.namespace))
        self.env.control_bridge.attach(root_end)
        self.control_ip = self.env.host_address(self.env.control_network, self.number)
        link.add_address("ctl0", self.control_ip, self.namespace)

    def _cable_to_central(self, bridge_name: str, central_bridge: ovs.OvsBridge,
                          suffix: str, nic: str) -> ovs.OvsBridge:
        """A host bridge whose NIC is cabled (veth) to a bridge of the central OVS."""
        bridge = self.useFixture(self.ovs.bridge(bridge_name))
        self.useFixture(cable.Cable(central_bridge, f"h{self.number}-{suffix}", nic,
                                    peer_bridge=bridge))
        return bridge

    def _wire_fabric(self) -> None:
        self.br_fabric = self._cable_to_central(FABRIC_BRIDGE, self.env.central_data_bridge,
                                                "data", "data0")
        self.tunnel_cidr = self.env.host_address(self.env.tunnel_network, self.number)
        self.tunnel_ip = self.tunnel_cidr.split("/")[0]
        link.add_address(FABRIC_BRIDGE, self.tunnel_cidr, self.namespace)
        link.set_up(FABRIC_BRIDGE, self.namespace)

    def _wire_physical(self) -> None:
        self.br_phys = self._cable_to_central(PHYSICAL_BRIDGE, self.env.central_data_bridge,
                                              "phys", "phys0")

    def _wire_external(self) -> None:
        self.br_ex = self._cable_to_central(EXTERNAL_BRIDGE, self.env.central_external_bridge,
                                            "ex", "ex0")

    @property
    def agent_namespace_prefix(self) -> str:
        """Namespaces the host's L3 and DHCP agents create start with this."""
        assert self.env.ctx is not None
        return f"{self.env.ctx.prefix}-h{self.number}-"

    @property
    def dhcp_state_path(self) -> str:
        assert self.env.ctx is not None
        return os.path.join(self.env.ctx.run_dir, "dhcp", self.hostname)

    def kill_dhcp_servers(self) -> None:
        """Kill this host's dnsmasq processes, as a host failure would."""
        for pid_file in glob.glob(os.path.join(self.dhcp_state_path, "*", "pid")):
            records.kill_by_pid_file(pid_file)

    def _remove_agent_leftovers(self) -> None:
        # dnsmasq outlives its agent by design; it is ours if its command
        # line names a pid file under this host's state path.
        self.kill_dhcp_servers()
        for name in namespace.starting_with(self.agent_namespace_prefix):
            namespace.delete(name)
        shutil.rmtree(self.dhcp_state_path, ignore_errors=True)

    def _agent_defaults(self) -> dict[str, object]:
        return {
            "host": self.hostname, "debug": True,
            "transport_url": self.env.rabbitmq_environment.transport_url(self.env.control_ip),
            "report_interval": self.env.env_desc.report_interval,
        }

    def _dhcp_agent_config(self) -> dict[str, dict[str, object]]:
        return {
            "DEFAULT": {**self._agent_defaults(),
                        "namespace_prefix": self.agent_namespace_prefix,
                        "state_path": self.dhcp_state_path, "dhcp_lease_duration": 600},
            "ovs": {"ovsdb_connection": self.ovs.db_socket},
        }

    def _l3_agent_config(self) -> dict[str, dict[str, object]]:
        return {
            "DEFAULT": {**self._agent_defaults(),
                        "namespace_prefix": self.agent_namespace_prefix},
            "ovs": {"ovsdb_connection": self.ovs.db_socket},
        }

    def _l2_agent_config(self) -> dict[str, dict[str, object]]:
        desc = self.env.env_desc
        return {
            "DEFAULT": self._agent_defaults(),
            "ovs": {
                "ovsdb_connection": self.ovs.db_socket, "ovs_rundir": self.ovs.run_dir,
                "datapath_type": desc.datapath, "local_ip": self.tunnel_ip,
                "bridge_mappings": self._bridge_mappings(),
                "use_veth_interconnection": desc.interconnection == "veth",
            },
            "agent": {"tunnel_types": desc.tunnel_types, "l2_population": desc.l2_pop,
                      "arp_responder": desc.arp_responder},
        }

    def _bridge_mappings(self) -> dict[str, str]:
        mappings = dict.fromkeys(self.env.env_desc.physical_networks, PHYSICAL_BRIDGE)
        if self.desc.l3_agent:
            mappings[EXTERNAL_PHYSNET] = EXTERNAL_BRIDGE
        return mappings

    def agents(self) -> list[process.ServiceProcess]:
        return [a for a in (self.l2_agent, self.l3_agent, self.dhcp_agent) if a is not None]

    def check_processes(self) -> None:
        """Raise, naming the process and its log's tail, if an agent died on its own."""
        for process_fixture in [*self.agents(), self.ovs.ovsdb_server, self.ovs.vswitchd]:
            process_fixture.check_alive()
