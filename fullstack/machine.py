"""Fake machines: a namespace with one NIC plugged into a host's br-int."""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import fixtures
import netaddr

from fullstack import context, wait
from fullstack.resources import cable, client, daemon, link, namespace, runner

if TYPE_CHECKING:
    from fullstack.environment import Environment
    from fullstack.host import Host

BOOT_TIMEOUT = 60.0
DHCLIENT_SCRIPT = os.path.join(os.path.dirname(__file__), "resources", "dhclient-script.sh")
PING_DEADLINE = 10
#: How long a port may stay DOWN before its agent's log is read for a known drop.
DROPPED_PORT_CHECK = 3.0

LOG = logging.getLogger(__name__)


def tap_name(port_id: str) -> str:
    """The host end of a port's veth, as Neutron's agents name it (and machines do too)."""
    return f"tap{port_id[:11]}"


class PingingMachine(fixtures.Fixture):
    """What every machine can do from its namespace: run commands and ping."""

    ctx: context.RunContext
    namespace: str
    ip: str

    def describe(self) -> str:
        raise NotImplementedError

    def _on_ping_failure(self) -> None:
        pass

    def execute(self, cmd: list[str], check: bool = True, timeout: float = 60.0):
        return runner.execute(cmd, namespace=self.namespace, check=check, timeout=timeout)

    def ping(self, ip: str, deadline: float = PING_DEADLINE) -> bool:
        """True as soon as one echo comes back, trying until ``deadline`` s.

        One ``ping`` run is not enough: when ARP goes unanswered for 3 s (a
        userspace tunnel drops the packets that resolve its next hop), ping
        gets "Destination Host Unreachable" and gives up before its deadline.
        """
        def answered() -> bool:
            result = self.execute(["ping", "-c", "1", "-W", "1", ip], check=False, timeout=10)
            return result.returncode == 0

        try:
            wait.wait_until_true(answered, timeout=deadline, sleep=0.1)
        except wait.WaitTimeout:
            return False
        return True

    def assert_ping(self, ip: str) -> None:
        if not self.ping(ip):
            self._on_ping_failure()
            raise AssertionError(f"{self.describe()} cannot ping {ip}")

    def assert_no_ping(self, ip: str) -> None:
        if self._pings_once(ip):
            raise AssertionError(f"{self.describe()} unexpectedly pings {ip}")

    def _pings_once(self, ip: str) -> bool:
        """Whether any of three quick echoes comes back."""
        result = self.execute(["ping", "-c", "3", "-i", "0.2", "-W", "1", ip], check=False)
        return result.returncode == 0

    def block_until_ping(self, ip: str, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until ``ip`` answers: a change (a rule, a port set up) took effect."""
        if not self.ping(ip, deadline=timeout):
            self._on_ping_failure()
            raise wait.WaitTimeout(f"{self.describe()} still cannot ping {ip} after {timeout} s")

    def block_until_no_ping(self, ip: str, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until ``ip`` stops answering: a change that cuts traffic took effect."""
        wait.wait_until_true(
            lambda: not self._pings_once(ip), timeout=timeout, sleep=0.1,
            exception=f"{self.describe()} still pings {ip} after {timeout} s")


class FakeFullstackMachine(PingingMachine):
    """A port bound to ``host`` and a namespace that uses it, as an instance would.

    The veth's host end is a port of br-int carrying the port id as
    ``iface-id`` (and the MAC as ``attached-mac``): exactly what Nova's VIF
    plugging leaves for the L2 agent to find.  The machine creates its port,
    unless given ``neutron_port``: a port the test made (with security
    groups, or port security off), which the machine binds to ``host`` as
    Nova would and leaves to the test to delete.
    """

    def __init__(self, host: Host, network_id: str, tenant_id: str,
                 safe_client: client.SafeClient, use_dhcp: bool = False,
                 neutron_port: dict | None = None, nic_named_as_tap: bool = False,
                 claim_as_compute: bool = True):
        super().__init__()
        # Whether a port of the test's without a device_owner gets Nova's
        # ("compute:..."); Neutron's fullstack machines leave it empty.
        self.claim_as_compute = claim_as_compute
        # Its NIC is eth0, or (nic_named_as_tap) named as its br-int end: one
        # name for both ends, as Neutron's fullstack machines have it.
        self.nic_named_as_tap = nic_named_as_tap
        self.use_dhcp = use_dhcp
        self.dhcp_client: daemon.ProcessFixture | None = None
        self.host = host
        self.ctx = host.site.ctx
        self.network_id = network_id
        self.tenant_id = tenant_id
        self.safe_client = safe_client
        self.neutron_port = neutron_port
        self._replugged = False

    def _setUp(self) -> None:
        self.port = self._bound_port()
        fixed_ip = self.port["fixed_ips"][0]
        subnet = self.safe_client.client.show("subnet", fixed_ip["subnet_id"])
        network = self.safe_client.client.show("network", self.network_id)
        self.ip = fixed_ip["ip_address"]
        self.ip_cidr = f"{self.ip}/{netaddr.IPNetwork(subnet['cidr']).prefixlen}"
        self.gateway_ip = subnet.get("gateway_ip")
        self.mac_address = self.port["mac_address"]
        self.namespace = self.useFixture(namespace.Namespace(
            f"{self.ctx.prefix}-m{self.host.site.next_machine_number()}")).name
        self._plug(network.get("mtu") or 1450)

    def _bound_port(self) -> dict:
        """Its port, bound to its host: a new one (deleted at cleanup), or the test's."""
        if self.neutron_port is None:
            return self.safe_client.create_port(
                self.tenant_id, self.network_id, hostname=self.host.hostname,
                device_owner="compute:fullstack")
        binding: dict = {"binding:host_id": self.host.hostname}
        if not self.neutron_port.get("device_owner") and self.claim_as_compute:
            binding["device_owner"] = "compute:fullstack"
        return self.safe_client.update_port(self.neutron_port["id"], **binding)

    @property
    def tap(self) -> str:
        """Its NIC's other end: a port of its host's br-int."""
        return tap_name(self.port["id"])

    @property
    def ovs_port(self) -> str:
        """Its port on br-int: its tap, or (plugged hybrid) its qvo."""
        return self._cable.port

    @property
    def nic(self) -> str:
        """Its NIC, in its namespace."""
        return self.tap if self.nic_named_as_tap else "eth0"

    @property
    def lease_path(self) -> str:
        """dhclient's lease file (with use_dhcp): every lease it took, the newest last."""
        return os.path.join(self._dhclient_dir, "dhclient.leases")

    @property
    def _dhclient_dir(self) -> str:
        return os.path.join(self.ctx.run_dir, "dhclient", self.namespace)

    def _plug(self, mtu: int) -> None:
        external_ids = {"iface-id": self.port["id"], "attached-mac": self.mac_address,
                        "iface-status": "active"}
        if self.port.get("binding:vif_details", {}).get("ovs_hybrid_plug"):
            self._plug_hybrid(mtu, external_ids)
        else:
            self._cable = self.useFixture(cable.Cable(
                self.host.br_int, self.tap, self.nic, peer_namespace=self.namespace,
                external_ids=external_ids, peer_mac=self.mac_address, mtu=mtu))
        if self.use_dhcp:
            return   # dhclient starts once the port is ACTIVE (block_until_boot)
        link.add_address(self.nic, self.ip_cidr, self.namespace)
        # A gateway off the subnet (a /31 or /32 subnet's) is unreachable: the
        # instance has no default route, as with Neutron's own machines.
        if self.gateway_ip and netaddr.IPAddress(self.gateway_ip) in netaddr.IPNetwork(
                self.ip_cidr):
            link.add_route(self.namespace, "0.0.0.0/0", gateway=self.gateway_ip)

    def _plug_hybrid(self, mtu: int, external_ids: dict[str, str]) -> None:
        """As Nova plugs a port whose binding asks for it (the iptables_hybrid
        firewall): the NIC's host end, tap, on a Linux bridge qbr in the host's
        namespace, which a veth qvb-qvo joins to br-int."""
        suffix = self.port["id"][:11]
        host_ns = self.host.namespace
        bridge = self.useFixture(link.LinuxBridge(f"qbr{suffix}", namespace=host_ns))
        self._cable = self.useFixture(cable.Cable(
            self.host.br_int, f"qvo{suffix}", f"qvb{suffix}", peer_namespace=host_ns,
            external_ids=external_ids, mtu=mtu))
        bridge.attach(f"qvb{suffix}")
        self.useFixture(link.VethPair(self.tap, self.nic, namespace=host_ns,
                                      peer_namespace=self.namespace, mtu=mtu,
                                      peer_mac=self.mac_address))
        bridge.attach(self.tap)

    def _dhclient(self) -> daemon.ProcessFixture:
        """ISC dhclient in the foreground, owned by pid, with our own hook script."""
        ctx = self.ctx
        os.makedirs(self._dhclient_dir, exist_ok=True)
        return daemon.ProcessFixture(
            f"dhclient-{self.namespace}",
            ["dhclient", "-d", "-v", "-4", "-sf", DHCLIENT_SCRIPT,
             "-pf", os.path.join(self._dhclient_dir, "dhclient.pid"),
             "-lf", self.lease_path, self.nic],
            ctx.owner, namespace=self.namespace)

    def renew_lease(self) -> None:
        """Ask again from scratch, as a rebooting instance would."""
        if self.dhcp_client is None:
            raise RuntimeError(f"{self!r}: renew_lease() needs a machine booted "
                               "with use_dhcp=True")
        self.dhcp_client.restart()

    def set_address(self, ip_cidr: str) -> None:
        """Use ``ip_cidr`` instead of the port's address, as a spoofing instance would."""
        link.replace_addresses(self.nic, ip_cidr, self.namespace)

    def set_mac(self, mac: str) -> None:
        """Send from ``mac`` instead of the port's, as a spoofing instance would."""
        link.set_mac(self.nic, mac, self.namespace)

    def set_neighbor(self, ip: str, mac: str) -> None:
        """Know that ``ip`` is at ``mac`` without asking ARP."""
        link.set_neighbor(self.nic, ip, mac, self.namespace)

    def addresses(self) -> list[str]:
        with link.netlink(self.namespace) as ipr:
            index = link.link_index(ipr, self.nic)
            return [a.get("IFA_ADDRESS") for a in ipr.get_addr(index=index, family=2)]

    def default_gateway(self) -> str | None:
        with link.netlink(self.namespace) as ipr:
            for route in ipr.get_default_routes(family=2):
                return route.get("RTA_GATEWAY")
        return None

    def refresh_port(self) -> None:
        """Re-read the port (after a fixed IP change through the API)."""
        self.port = self.safe_client.client.show("port", self.port["id"])
        self.ip = self.port["fixed_ips"][0]["ip_address"]

    def block_until_dhcp_address(self, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until DHCP gave the port's fixed IP and the subnet's gateway route."""
        def configured() -> bool:
            self.host.site.check_processes()
            if self.ip not in self.addresses():
                return False
            return not self.gateway_ip or self.default_gateway() == self.gateway_ip

        wait.wait_until_true(
            configured, timeout=timeout, sleep=0.2,
            exception=lambda: f"{self.namespace} has no DHCP lease for {self.ip} (gateway "
                              f"{self.gateway_ip}) after {timeout} s; it has {self.addresses()}")

    def block_until_boot(self, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until the server reports the port ACTIVE (the agent wired it)."""
        port_id = self.port["id"]
        next_check = time.monotonic() + DROPPED_PORT_CHECK

        def active() -> bool:
            nonlocal next_check
            self.host.site.check_processes()
            if self.safe_client.client.show("port", port_id)["status"] == "ACTIVE":
                return True
            l2_agent = self.host.l2_agent
            if not self._replugged and l2_agent is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + 1.0
                reason = self.host.site.service.dropped_port(l2_agent, port_id)
                if reason:   # once in the machine's life: the agent's log keeps the line
                    LOG.warning("%s: plugging the port again", reason)
                    self._cable.replug()
                    self._replugged = True
            return False

        wait.wait_until_true(active, timeout=timeout, sleep=0.1,
                             exception=f"port {port_id} still not ACTIVE on "
                                       f"{self.host.hostname} after {timeout} s")
        if self.use_dhcp:
            # Like an instance that boots once Nova hears "vif plugged": a
            # DISCOVER sent before the agent wired the port would be lost and
            # dhclient would only retry seconds later.
            if self.dhcp_client is None:
                self.dhcp_client = self.useFixture(self._dhclient())
            self.block_until_dhcp_address(timeout)

    def describe(self) -> str:
        return f"{self.namespace} ({self.ip})"

    def __repr__(self) -> str:
        if not hasattr(self, "namespace"):
            return f"<FakeFullstackMachine (not booted) on {self.host.hostname}>"
        return f"<FakeFullstackMachine {self.namespace} {self.ip} on {self.host.hostname}>"

    def _on_ping_failure(self) -> None:
        # A dead agent explains a failed ping better than the ping does.
        self.host.site.check_processes()


class ExternalMachine(PingingMachine):
    """A peer outside the cloud: a namespace on the central external bridge.

    It holds ``ip_cidr`` on the external network, so it is what routers'
    gateways and floating IPs are reached from (and, as the external
    subnet's gateway address, where routers send their traffic).
    """

    def __init__(self, environment: Environment, ip_cidr: str):
        super().__init__()
        self.site = environment.site   # it joins a deployment that is up
        self.ctx = self.site.ctx
        self.ip_cidr = str(netaddr.IPNetwork(ip_cidr))
        self.ip = str(netaddr.IPNetwork(ip_cidr).ip)

    def _setUp(self) -> None:
        number = self.site.next_machine_number()
        self.namespace = self.useFixture(namespace.Namespace(
            f"{self.ctx.prefix}-ext{number}")).name
        self.useFixture(cable.Cable(self.site.external_bridge, f"ext{number}", "eth0",
                                    peer_namespace=self.namespace))
        link.add_address("eth0", self.ip_cidr, self.namespace)

    def describe(self) -> str:
        return f"external peer {self.ip}"

    def __repr__(self) -> str:
        namespace = getattr(self, "namespace", "(not set up)")
        return f"<ExternalMachine {namespace} {self.ip_cidr}>"


class FakeFullstackMachinesList(list):
    """Machines, with what a test does to all of them at once."""

    def block_until_all_boot(self, timeout: float = BOOT_TIMEOUT) -> None:
        for vm in self:
            vm.block_until_boot(timeout)

    def ping_all(self) -> None:
        """Ping every ordered pair concurrently; name every pair that failed."""
        pairs = [(src, dst) for src, dst in itertools.permutations(self, 2)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(pairs))) as pool:
            results = list(pool.map(lambda pair: pair[0].ping(pair[1].ip), pairs))
        failed = [f"{src.ip} ({src.host.hostname}) -> {dst.ip} ({dst.host.hostname})"
                  for (src, dst), ok in zip(pairs, results, strict=True) if not ok]
        if failed:
            for site in {id(vm.host.site): vm.host.site for vm in self}.values():
                site.check_processes()
            raise AssertionError(f"{len(failed)} of {len(pairs)} pairs cannot ping: "
                                 + "; ".join(failed))


def boot_machines(use_fixture: Callable[[FakeFullstackMachine], FakeFullstackMachine],
                  hosts: Iterable[Host], network_id: str, tenant_id: str,
                  safe_client: client.SafeClient, use_dhcp: bool = False,
                  client_for: Callable[[Host], client.SafeClient | None] = lambda host: None,
                  ) -> FakeFullstackMachinesList:
    """A machine on each of ``hosts`` (a host twice: two machines), all booted.

    Every port is created and plugged before the first wait, so the agents
    wire them side by side.  ``use_fixture`` is the owner's ``useFixture``;
    ``client_for`` may name another client for a host's machine (its region's).
    """
    vms = FakeFullstackMachinesList(
        use_fixture(FakeFullstackMachine(host, network_id, tenant_id,
                                         client_for(host) or safe_client, use_dhcp=use_dhcp))
        for host in hosts)
    vms.block_until_all_boot()
    return vms
