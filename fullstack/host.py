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

import dataclasses
import os
import signal
import time
from collections.abc import Callable
from typing import Protocol

import fixtures
import netaddr

from fullstack import context, extension, process
from fullstack.descriptions import EXTERNAL_PHYSNET, EnvironmentDescription, HostDescription
from fullstack.resources import cable, config, daemon, link, namespace, ovs, records
from fullstack.services.base import AgentSpec, Service

FABRIC_BRIDGE = "br-fabric"
PHYSICAL_BRIDGE = "br-phys"
EXTERNAL_BRIDGE = "br-ex"
HOST_ADDRESS_OFFSET = 10   # host N has address N + 10 of the control and tunnel networks


class CentralBridges(Protocol):
    data_bridge: ovs.OvsBridge
    external_bridge: ovs.OvsBridge


@dataclasses.dataclass(frozen=True)
class CentralSite:
    """What the environment gives each host (and the host its machines).

    The run's context, the central part as values and bridges to plug
    into (their namespace is the central one; ``central()`` waits until its
    OVS is up), and the only ways back into the environment: callables.
    """

    ctx: context.RunContext
    env_desc: EnvironmentDescription
    service: Service                      # the system deployed: what its agents are
    control_bridge: link.LinuxBridge      # root namespace: every host's ctl0 veth hangs off it
    control_network: netaddr.IPNetwork
    tunnel_network: netaddr.IPNetwork
    # The central OVS, once it is up (waits for it): its cnt-data, the fabric
    # (tunnels, physical networks), and cnt-ex, the external network.
    central: Callable[[], CentralBridges]
    transport_url: str                    # RabbitMQ, as agents reach it over the control network
    server: process.Server                # the server of the host's region, as launched
    # Until the host's server answers (waits once for all hosts).
    wait_for_server: Callable[[], None]
    check_processes: Callable[[], None]   # ProcessExited if any process of the deployment died
    next_machine_number: Callable[[], int]   # machines are numbered across the environment
    region: str = ""                      # the host's region, in a multi-region deployment

    def __repr__(self) -> str:
        return f"<CentralSite {self.ctx.prefix}>"

    @property
    def data_bridge(self) -> ovs.OvsBridge:
        return self.central().data_bridge

    @property
    def external_bridge(self) -> ovs.OvsBridge:
        return self.central().external_bridge

    @property
    def api_url(self) -> str:
        """The server's API, as the harness reaches it."""
        return self.server.url

    def control_address(self, number: int) -> str:
        """Host ``number``'s address (CIDR) on the control network."""
        return _host_address(self.control_network, number)

    def tunnel_address(self, number: int) -> str:
        """Host ``number``'s tunnel endpoint (CIDR), on its br-fabric."""
        return _host_address(self.tunnel_network, number)


def _host_address(network: netaddr.IPNetwork, number: int) -> str:
    return f"{network[HOST_ADDRESS_OFFSET + number]}/{network.prefixlen}"


def hostname(number: int) -> str:
    return f"host-{number}"


def host_namespace(ctx: context.RunContext, number: int) -> str:
    return f"{ctx.prefix}-h{number}"


class HostChassis(fixtures.Fixture):
    """Host ``number`` before a cable is plugged: its namespace, its OVS
    instance and its NICs' bridges (br-fabric, br-phys, br-ex if ``external``).

    It needs nothing of the centre, so an environment builds its hosts'
    chassis while the centre comes up.  Most of its time is OVS starting:
    the instance, then its first bridge (vswitchd sets its datapath up on
    the first one, about 0.1 s, where a later bridge takes milliseconds).
    ``adopted`` once a Host owns it (and cleans it up).
    """

    def __init__(self, ctx: context.RunContext, number: int, datapath: str,
                 external: bool = False):
        super().__init__()
        self.ctx = ctx
        self.hostname = hostname(number)
        self.namespace = host_namespace(ctx, number)
        self.datapath = datapath
        self.external = external
        self.timings: dict[str, float] = {}
        self.adopted = False

    def __repr__(self) -> str:
        return f"<HostChassis {self.hostname} ns={self.namespace}>"

    def _setUp(self) -> None:
        self.useFixture(namespace.Namespace(self.namespace))
        # The host's NICs (data0, phys0, ex0) are OVS ports, yet the kernel
        # sees their traffic too and, by default, answers ARP for the tunnel
        # address on every one of them, with each one's own MAC: a tunnel
        # whose next hop learnt such a MAC sends into a port that can't
        # decapsulate (seen as GRE pairs that never pinged).  Answer only on
        # the interface that holds the address.
        namespace.set_sysctls(self.namespace, {"net.ipv4.conf.all.arp_ignore": "1",
                                               "net.ipv4.conf.all.arp_announce": "2",
                                               **namespace.NO_IPV6})
        started = time.monotonic()
        self.ovs = self.useFixture(ovs.OvsInstance(
            self.hostname, self.namespace, self.ctx.ovs_run_dir(self.hostname), self.ctx.owner,
            self.datapath))
        self.timings[f"{self.hostname}.ovs"] = time.monotonic() - started
        self.br_fabric = self.useFixture(self.ovs.bridge(FABRIC_BRIDGE))
        # Its NICs' bridges, there before the agents that map them start.
        self.br_phys = self.useFixture(self.ovs.bridge(PHYSICAL_BRIDGE))
        self.br_ex = self.useFixture(self.ovs.bridge(EXTERNAL_BRIDGE)) if self.external else None


class Host(fixtures.Fixture):
    """Host ``number`` of the deployment described by ``desc``, on ``site``
    (built on ``chassis`` if given, one it builds itself if not)."""

    def __init__(self, site: CentralSite, number: int, desc: HostDescription,
                 chassis: HostChassis | None = None):
        super().__init__()
        self.site = site
        self.number = number
        self.desc = desc
        self.hostname = hostname(number)
        self.namespace = host_namespace(site.ctx, number)
        self.chassis = chassis
        #: Seconds its OVS instance took to start ("host-N.ovs"), for the benchmark.
        self.timings: dict[str, float] = {}
        #: The agents it runs, by kind: "l2", "l3", "dhcp" (as desc.agent_kinds).
        self.agents: dict[str, process.ServiceProcess] = {}
        #: What its extensions added (fullstack.extension), in the order started.
        self.extension_processes: list[daemon.ProcessFixture] = []
        #: What more it runs (the service's, then its description's), once started.
        self.extensions: tuple[extension.HostExtension, ...] = ()
        #: The central ends of its cables (control, data, physical, external):
        #: (link, namespace), what disconnect() pulls.
        self.cable_ends: list[tuple[str, str | None]] = []

    def __repr__(self) -> str:
        return f"<Host {self.hostname} ns={self.namespace}>"

    def _setUp(self) -> None:
        ctx = self.site.ctx
        chassis = self.chassis
        if chassis is None:
            chassis = self.chassis = self.useFixture(
                HostChassis(ctx, self.number, self.site.env_desc.datapath, self.desc.l3_agent))
        else:
            chassis.adopted = True
            self.addCleanup(chassis.cleanUp)
        self.ovs = chassis.ovs
        self.br_fabric, self.br_phys = chassis.br_fabric, chassis.br_phys
        if chassis.br_ex is not None:
            self.br_ex = chassis.br_ex
        self.timings.update(chassis.timings)
        self._wire_control()
        self.tunnel_cidr = self.site.tunnel_address(self.number)
        self.tunnel_ip = self.tunnel_cidr.split("/")[0]
        link.add_address(FABRIC_BRIDGE, self.tunnel_cidr, self.namespace)
        link.set_up(FABRIC_BRIDGE, self.namespace)
        self.br_int = self.ovs.bridge("br-int")
        self.br_tun = self.ovs.bridge("br-tun")
        # Torn down, the host's OVS goes right after its agents and extensions.
        self.addCleanup(self.ovs.stop)
        self.agent_spec = self._agent_spec(ctx)
        self.extensions = (*self.site.service.host_extensions(self.desc), *self.desc.extensions)
        if self.extensions or not self.site.server.early_agents:
            # Extensions are promised a wired host and a server that answers;
            # agents are too, unless the server's queues hold their first calls.
            self._cable_to_central()
            self.site.wait_for_server()
            for each in self.extensions:
                each.start(self)
            self._start_agents()
        else:
            # Agents need the control network and their bridges, not the
            # cables: they start while the central OVS may still be coming up.
            self._start_agents()
            self._cable_to_central()

    def _agent_spec(self, ctx: context.RunContext) -> AgentSpec:
        return AgentSpec(
            ctx=ctx, env_desc=self.site.env_desc, hostname=self.hostname,
            namespace=self.namespace, transport_url=self.site.transport_url,
            ovsdb_connection=self.ovs.db_socket, ovs_run_dir=self.ovs.run_dir,
            local_ip=self.tunnel_ip, bridge_mappings=self._bridge_mappings(),
            namespace_prefix=f"{self.namespace}-",
            state_dir=os.path.join(ctx.run_dir, "agents", self.hostname),
            firewall_driver=self.desc.firewall_driver, api_url=self.site.api_url,
            server=self.site.server)

    def _start_agents(self) -> None:
        # Registered before the agents start, so it runs after they stopped:
        # what they had no time to remove goes with the test.
        self.addCleanup(self.site.service.remove_agent_leftovers, self.agent_spec)
        for kind in self.desc.agent_kinds:
            agent = self.site.service.agent(kind, self.agent_spec)
            for each in self.extensions:   # two may each add an agent extension
                agent.apply_overlay(each.agent_config(self).get(kind), extend=True)
            agent.apply_overlay(self.desc.agent_config.get(kind))
            self.agents[kind] = self.useFixture(agent)

    # What extensions (fullstack.extension) build with: the host owns it all.

    def add_process(self, proc: daemon.ProcessFixture) -> daemon.ProcessFixture:
        """Start ``proc``; it is the host's from then on (processes(), kill(), shutdown())."""
        taken = {other.name for other in self.processes()}
        if proc.name in taken:
            raise ValueError(f"{self.hostname} already runs a process named {proc.name!r}")
        self.useFixture(proc)
        self.extension_processes.append(proc)
        return proc

    def spawn(self, name: str, cmd: list[str], **kwargs) -> daemon.ProcessFixture:
        """Run ``cmd`` in the host's namespace, logged as ``<hostname>-<name>``."""
        kwargs.setdefault("namespace", self.namespace)
        return self.add_process(daemon.ProcessFixture(f"{self.hostname}-{name}", cmd,
                                                      self.site.ctx.owner, **kwargs))

    def add_bridge(self, name: str) -> ovs.OvsBridge:
        """A bridge of the host's OVS, removed with the host."""
        return self.useFixture(self.ovs.bridge(name))

    def add_agent(self, name: str, main: str, sections: config.Sections,
                  binary: str = "") -> daemon.ProcessFixture:
        """An agent of the deployed service beyond its three, by the import path of its
        main (``package.module:function``), as ``<hostname>-<name>``."""
        return self.add_process(self.site.service.agent_from_main(
            self.agent_spec, f"{self.hostname}-{name}", main, sections, binary))

    def _wire_control(self) -> None:
        root_end = f"{self.site.ctx.prefix}-c{self.number}"
        self.useFixture(link.VethPair(root_end, "ctl0", peer_namespace=self.namespace))
        self.site.control_bridge.attach(root_end)
        self.cable_ends.append((root_end, None))
        self.control_ip = self.site.control_address(self.number)
        link.add_address("ctl0", self.control_ip, self.namespace)

    def _cable_to_central(self) -> None:
        """Its NICs' bridges cabled (veth) to the central OVS's: br-fabric and
        br-phys to cnt-data, br-ex (with an L3 agent) to cnt-ex."""
        central = self.site.central()
        self._cable(self.br_fabric, central.data_bridge, "data", "data0")
        self._cable(self.br_phys, central.data_bridge, "phys", "phys0")
        if self.desc.l3_agent:
            self._cable(self.br_ex, central.external_bridge, "ex", "ex0")

    def _cable(self, bridge: ovs.OvsBridge, central_bridge: ovs.OvsBridge,
               suffix: str, nic: str) -> None:
        central_end = self.useFixture(cable.Cable(central_bridge, f"h{self.number}-{suffix}",
                                                  nic, peer_bridge=bridge))
        self.cable_ends.append((central_end.port, central_bridge.namespace))

    def router_namespace(self, router_id: str) -> str:
        """The namespace this host's L3 agent builds the router in."""
        return self.site.service.router_namespace(self.agent_spec, router_id)

    def dhcp_namespace(self, network_id: str) -> str:
        """The namespace this host's DHCP agent serves the network from."""
        return self.site.service.dhcp_namespace(self.agent_spec, network_id)

    def dhcp_server_pids(self, network_id: str | None = None) -> list[int]:
        """The pids of this host's running DHCP servers (dnsmasq), for one network or all."""
        return [proc.pid for proc in self.site.service.dhcp_servers(self.agent_spec, network_id)]

    def kill_dhcp_servers(self) -> None:
        """Kill this host's DHCP servers, as a host failure would."""
        for proc in self.site.service.dhcp_servers(self.agent_spec):
            records.kill(proc)

    # Faults, as a host suffers them.  Its fixtures still own everything, so
    # the test's cleanup works after any of them.

    def disconnect(self) -> None:
        """Pull its cables (control, data, physical, external) at the central end; its
        processes keep running, cut off from the broker and the other hosts."""
        for name, ns in self.cable_ends:
            link.set_down(name, ns)

    def reconnect(self) -> None:
        """Plug its cables back in."""
        for name, ns in self.cable_ends:
            link.set_up(name, ns)

    def kill(self) -> None:
        """SIGKILL every process of the host at once (OVS, agents, DHCP servers), as a
        power cut would; its links stay, with nothing behind them."""
        procs = [p for p in self.processes() if p.is_running()]
        for proc in procs:
            if proc.popen is not None:
                proc.popen.send_signal(signal.SIGKILL)
        self.kill_dhcp_servers()
        for proc in procs:
            proc.stop(kill_signal=signal.SIGKILL)

    def shutdown(self) -> None:
        """Stop everything in order (agents, then OVS) and remove its cables, as an
        operator powering the host off would."""
        for proc in reversed(self.processes()):
            proc.stop()
        self.kill_dhcp_servers()
        for name, ns in self.cable_ends:
            link.delete(name, ns)

    def _bridge_mappings(self) -> dict[str, str]:
        mappings = dict.fromkeys(self.site.env_desc.physical_networks, PHYSICAL_BRIDGE)
        if self.desc.l3_agent:
            mappings[EXTERNAL_PHYSNET] = EXTERNAL_BRIDGE
        return mappings

    @property
    def l2_agent(self) -> process.ServiceProcess | None:
        return self.agents.get("l2")

    @property
    def l3_agent(self) -> process.ServiceProcess | None:
        return self.agents.get("l3")

    @property
    def dhcp_agent(self) -> process.ServiceProcess | None:
        return self.agents.get("dhcp")

    def processes(self) -> list[daemon.ProcessFixture]:
        """Every process the host runs: its OVS daemons, its extensions', its agents."""
        return [self.ovs.ovsdb_server, self.ovs.vswitchd, *self.extension_processes,
                *self.agents.values()]
