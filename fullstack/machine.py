"""Fake machines: a namespace with one NIC plugged into a host's br-int."""

from __future__ import annotations

import concurrent.futures
import itertools
from typing import TYPE_CHECKING

import fixtures
import netaddr

from fullstack import wait
from fullstack.resources import client, link, namespace, runner

if TYPE_CHECKING:
    from fullstack.environment import Environment
    from fullstack.host import Host

BOOT_TIMEOUT = 60.0
PING_DEADLINE = 10


class PingingMachine(fixtures.Fixture):
    """What every machine can do from its namespace: run commands and ping."""

    namespace: str
    ip: str

    def describe(self) -> str:
        raise NotImplementedError

    def _on_ping_failure(self) -> None:
        pass

    def execute(self, cmd: list[str], check: bool = True, timeout: float = 60.0):
        return runner.execute(cmd, namespace=self.namespace, check=check, timeout=timeout)

    def ping(self, ip: str, deadline: int = PING_DEADLINE) -> bool:
        """True as soon as one echo comes back; the first may be lost to ARP."""
        result = self.execute(["ping", "-c", "1", "-i", "0.2", "-w", str(deadline), ip],
                              check=False, timeout=deadline + 5)
        return result.returncode == 0

    def assert_ping(self, ip: str) -> None:
        if not self.ping(ip):
            self._on_ping_failure()
            raise AssertionError(f"{self.describe()} cannot ping {ip}")

    def assert_no_ping(self, ip: str) -> None:
        result = self.execute(["ping", "-c", "3", "-i", "0.2", "-W", "1", ip], check=False)
        if result.returncode == 0:
            raise AssertionError(f"{self.describe()} unexpectedly pings {ip}")


class FakeFullstackMachine(PingingMachine):
    """A port bound to ``host`` and a namespace that uses it, as an instance would.

    The veth's host end is a port of br-int carrying the port id as
    ``iface-id`` (and the MAC as ``attached-mac``): exactly what Nova's VIF
    plugging leaves for the L2 agent to find.
    """

    def __init__(self, host: Host, network_id: str, tenant_id: str,
                 safe_client: client.SafeClient, use_dhcp: bool = False):
        super().__init__()
        if use_dhcp:
            raise ValueError("use_dhcp=True is not available yet: this harness has no DHCP "
                             "agent (addresses are configured statically)")
        self.host = host
        self.network_id = network_id
        self.tenant_id = tenant_id
        self.safe_client = safe_client

    def _setUp(self) -> None:
        env = self.host.env
        assert env.ctx is not None
        self.port = self.safe_client.create_port(
            self.tenant_id, self.network_id, hostname=self.host.hostname,
            device_owner="compute:fullstack")
        fixed_ip = self.port["fixed_ips"][0]
        subnet = self.safe_client.client.show("subnet", fixed_ip["subnet_id"])
        network = self.safe_client.client.show("network", self.network_id)
        self.ip = fixed_ip["ip_address"]
        self.ip_cidr = f"{self.ip}/{netaddr.IPNetwork(subnet['cidr']).prefixlen}"
        self.gateway_ip = subnet.get("gateway_ip")
        self.mac_address = self.port["mac_address"]
        self.namespace = self.useFixture(namespace.Namespace(
            f"{env.ctx.prefix}-m{env.next_machine_number()}")).name
        self._plug(network.get("mtu") or 1450)

    def _plug(self, mtu: int) -> None:
        tap = f"tap{self.port['id'][:11]}"
        self.useFixture(link.VethPair(tap, "eth0", namespace=self.host.namespace,
                                      peer_namespace=self.namespace, mtu=mtu))
        with link.netlink(self.namespace) as ipr:
            ipr.link("set", index=link.link_index(ipr, "eth0"), address=self.mac_address)
        self.host.br_int.add_port(tap, external_ids={
            "iface-id": self.port["id"], "attached-mac": self.mac_address,
            "iface-status": "active"})
        self.addCleanup(self.host.br_int.delete_port, tap)
        link.add_address("eth0", self.ip_cidr, self.namespace)
        if self.gateway_ip:
            link.add_route(self.namespace, "0.0.0.0/0", gateway=self.gateway_ip)

    def block_until_boot(self, timeout: float = BOOT_TIMEOUT) -> None:
        """Wait until the server reports the port ACTIVE (the agent wired it)."""
        port_id = self.port["id"]

        def active() -> bool:
            self.host.env.check_processes()
            return self.safe_client.client.show("port", port_id)["status"] == "ACTIVE"

        wait.wait_until_true(active, timeout=timeout, sleep=0.1,
                             exception=f"port {port_id} still not ACTIVE on "
                                       f"{self.host.hostname} after {timeout} s")

    def describe(self) -> str:
        return f"{self.namespace} ({self.ip})"

    def _on_ping_failure(self) -> None:
        # A dead agent explains a failed ping better than the ping does.
        self.host.env.check_processes()


class ExternalMachine(PingingMachine):
    """A peer outside the cloud: a namespace on the central external bridge.

    It holds ``ip_cidr`` on the external network, so it is what routers'
    gateways and floating IPs are reached from (and, as the external
    subnet's gateway address, where routers send their traffic).
    """

    def __init__(self, environment: Environment, ip_cidr: str):
        super().__init__()
        self.env = environment
        self.ip_cidr = str(netaddr.IPNetwork(ip_cidr))
        self.ip = str(netaddr.IPNetwork(ip_cidr).ip)

    def _setUp(self) -> None:
        assert self.env.ctx is not None
        number = self.env.next_machine_number()
        self.namespace = self.useFixture(namespace.Namespace(
            f"{self.env.ctx.prefix}-ext{number}")).name
        central_end = f"ext{number}"
        self.useFixture(link.VethPair(central_end, "eth0",
                                      namespace=self.env.central_namespace.name,
                                      peer_namespace=self.namespace))
        self.env.central_external_bridge.add_port(central_end)
        link.add_address("eth0", self.ip_cidr, self.namespace)

    def describe(self) -> str:
        return f"external peer {self.ip}"


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
            for vm in self:
                vm.host.env.check_processes()
            raise AssertionError(f"{len(failed)} of {len(pairs)} pairs cannot ping: "
                                 + "; ".join(failed))
