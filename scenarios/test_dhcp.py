"""Machines get their addresses the way instances do: from the DHCP agent."""

from __future__ import annotations

import re

import testscenarios
from pyroute2 import netns

from fullstack import base, environment, machine, wait

# stestr sees (and spreads over its workers) every scenario as its own test.
load_tests = testscenarios.load_tests_apply_scenarios

# A dead agent's network moves after twice agent_down_time (10 s here) and
# the server's next check (every 5 s); Neutron may wait a dead limit more
# before its first check.
FAILOVER_TIMEOUT = 120.0


class DhcpTestCase(base.BaseFullStackTestCase):
    network_type = "vxlan"
    dhcp_hosts = 1
    dhcp_agents_per_network = 1

    def setUp(self):
        hosts = [environment.HostDescription(dhcp_agent=i < self.dhcp_hosts) for i in range(3)]
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(
                network_type=self.network_type,
                dhcp_agents_per_network=self.dhcp_agents_per_network),
            hosts))
        net = self.safe_client.create_network(self.tenant_id)
        self.subnet = self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24",
                                                     enable_dhcp=True)
        self.network_id = net["id"]

    def dnsmasq_pids(self, host) -> list[int]:
        """Every dnsmasq serving this network from ``host``."""
        return host.dhcp_server_pids(self.network_id)

    def answering_server(self, vm: machine.FakeFullstackMachine) -> str:
        """The address of the DHCP server that gave ``vm`` its newest lease."""
        with open(vm.lease_path) as f:
            leases = f.read()
        return re.findall(r"dhcp-server-identifier ([\d.]+);", leases)[-1]


class TestDhcpBoot(DhcpTestCase):
    scenarios = [("vxlan", {"network_type": "vxlan"}), ("vlan", {"network_type": "vlan"})]

    def test_machines_boot_by_dhcp_and_ping(self):
        vms = self.boot_machines(self.environment.hosts, self.network_id, use_dhcp=True)
        vms.ping_all()
        agents = self.client.request(
            "GET", f"/v2.0/networks/{self.network_id}/dhcp-agents")["agents"]
        self.assertEqual([self.environment.hosts[0].hostname], [a["host"] for a in agents])


class TestFixedIpChange(DhcpTestCase):
    def test_next_lease_has_the_new_address(self):
        vm = self.boot_machine(self.environment.hosts[1], self.network_id, use_dhcp=True)
        old_ip = vm.ip
        new_ip = "20.0.0.200"
        self.safe_client.update_port(
            vm.port["id"], fixed_ips=[{"subnet_id": self.subnet["id"], "ip_address": new_ip}])
        vm.refresh_port()
        self.assertEqual(new_ip, vm.ip)

        def next_lease_is_new() -> bool:
            # A renewal that reaches dnsmasq before the agent reloaded it
            # still gets the old address; the next one must get the new.
            vm.renew_lease()
            try:
                vm.block_until_dhcp_address(timeout=10)
            except wait.WaitTimeout:
                return False
            return True

        wait.wait_until_true(next_lease_is_new, timeout=90, sleep=0.5,
                             exception=f"no lease for {new_ip} after 90 s")
        self.assertNotIn(old_ip, vm.addresses())


class TestTwoDhcpAgents(DhcpTestCase):
    dhcp_hosts = 2
    dhcp_agents_per_network = 2

    def test_a_lease_survives_losing_the_answering_agent(self):
        dhcp_hosts = self.environment.hosts[:2]
        wait.wait_until_true(lambda: all(self.dnsmasq_pids(h) for h in dhcp_hosts),
                             timeout=60, exception="not both DHCP agents run a dnsmasq")
        first = self.boot_machine(self.environment.hosts[2], self.network_id, use_dhcp=True)
        server_ip = self.answering_server(first)
        dhcp_ports = self.client.list_ports(network_id=self.network_id,
                                            device_owner="network:dhcp")
        by_ip = {p["fixed_ips"][0]["ip_address"]: p["binding:host_id"] for p in dhcp_ports}
        answered_by = next(h for h in dhcp_hosts if h.hostname == by_ip[server_ip])
        answered_by.dhcp_agent.stop()
        answered_by.kill_dhcp_servers()

        second = self.boot_machine(self.environment.hosts[2], self.network_id, use_dhcp=True)
        self.assertNotEqual(server_ip, self.answering_server(second))
        second.assert_ping(first.ip)
        answered_by.dhcp_agent.start()


class TestDhcpAgentRestart(DhcpTestCase):
    def test_leases_renew_to_the_same_address(self):
        host = self.environment.hosts[0]
        vm = self.boot_machine(self.environment.hosts[1], self.network_id, use_dhcp=True)
        before = self.dnsmasq_pids(host)
        self.assertEqual(1, len(before))
        host.dhcp_agent.restart()
        self.environment.wait_until_env_is_up()
        vm.renew_lease()
        vm.block_until_dhcp_address()
        # The restarted agent adopted the running dnsmasq rather than adding one.
        wait.wait_until_true(
            lambda: self.client.list_agents(host=host.hostname,
                                            agent_type="DHCP agent")[0]["alive"], timeout=60)
        self.assertEqual(before, self.dnsmasq_pids(host))


class TestDhcpCleanup(DhcpTestCase):
    def test_deleting_the_network_removes_namespace_and_dnsmasq(self):
        host = self.environment.hosts[0]
        namespace = host.dhcp_namespace(self.network_id)
        wait.wait_until_true(lambda: namespace in netns.listnetns() and
                             self.dnsmasq_pids(host), timeout=60,
                             exception=f"{namespace} with its dnsmasq never appeared")
        self.client.delete("network", self.network_id)
        wait.wait_until_true(lambda: namespace not in netns.listnetns() and
                             not self.dnsmasq_pids(host), timeout=60,
                             exception=f"{namespace} or its dnsmasq outlived the network")


class TestDhcpAgentFailover(DhcpTestCase):
    """allow_automatic_dhcp_failover (on by default): a network whose one DHCP
    agent is dead for twice agent_down_time moves to an alive agent."""

    dhcp_hosts = 2

    def hosting(self) -> list[str]:
        return [agent["host"] for agent in self.client.request(
            "GET", f"/v2.0/networks/{self.network_id}/dhcp-agents")["agents"]]

    def test_network_moves_to_an_alive_agent_and_new_machines_get_leases(self):
        wait.wait_until_true(lambda: len(self.hosting()) == 1, timeout=60,
                             exception=lambda: f"network on {self.hosting()}, not one agent")
        [first_name] = self.hosting()
        first, second = sorted(self.environment.hosts[:2],
                               key=lambda host: host.hostname != first_name)
        first.dhcp_agent.stop()
        first.kill_dhcp_servers()

        wait.wait_until_true(
            lambda: self.hosting() == [second.hostname], timeout=FAILOVER_TIMEOUT, sleep=1,
            exception=lambda: f"network still on {self.hosting()}, not only on "
                              f"{second.hostname}, {FAILOVER_TIMEOUT} s after the agent died")
        vm = self.boot_machine(self.environment.hosts[2], self.network_id, use_dhcp=True)
        self.assertTrue(self.dnsmasq_pids(second))
        self.assertEqual([], self.dnsmasq_pids(first))
        [port] = self.client.list_ports(network_id=self.network_id,
                                        device_owner="network:dhcp")
        self.assertEqual(second.hostname, port["binding:host_id"])
        self.assertEqual(port["fixed_ips"][0]["ip_address"], self.answering_server(vm))
        first.dhcp_agent.start()   # so the end-of-test check finds everyone alive
