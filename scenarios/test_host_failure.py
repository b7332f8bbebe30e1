"""A host fails (cut off, killed, shut down); the others keep talking and the server notices."""

from __future__ import annotations

from fullstack import base, environment, probes, wait

# Pings sent from one healthy host to another while the fault happens: a
# few may be lost to CPU load on two cores, not to the fault.
MAX_LOST_PINGS = 2
DEAD_TIMEOUT = 90.0


class HostFailureTestCase(base.BaseFullStackTestCase):
    report_interval = 1.0
    agent_down_time = 10

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(
                network_type="vxlan", report_interval=self.report_interval,
                agent_down_time=self.agent_down_time),
            [environment.HostDescription() for _ in range(3)]))
        net = self.safe_client.create_network(self.tenant_id,
                                              **self.environment.env_desc.network_attrs())
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24")
        self.network_id = net["id"]
        self.vms = self.boot_machines(self.environment.hosts, self.network_id)
        self.vms.ping_all()
        self.victim = self.environment.hosts[2]
        self.victim_vm = self.vms[2]

    def agents_alive(self, host) -> bool:
        agents = self.client.list_agents(host=host.hostname)
        return bool(agents) and all(agent["alive"] for agent in agents)

    def agents_dead(self, host) -> bool:
        agents = self.client.list_agents(host=host.hostname)
        return bool(agents) and not any(agent["alive"] for agent in agents)

    def fail_victim_while_others_talk(self, fault) -> None:
        """Inject ``fault`` while host-1's machine pings host-2's; the victim's agents
        must be reported dead and the other two hosts must not notice."""
        pinger = self.useFixture(probes.Pinger(self.vms[0], self.vms[1].ip, interval=0.2))
        pinger.start()
        fault()
        wait.wait_until_true(
            lambda: self.agents_dead(self.victim), timeout=DEAD_TIMEOUT, sleep=0.5,
            exception=lambda: f"agents of {self.victim.hostname} still alive "
                              f"{DEAD_TIMEOUT} s after the fault: "
                              f"{self.client.list_agents(host=self.victim.hostname)}")
        pinger.stop()
        self.assertGreater(pinger.sent, 0)
        self.assertLessEqual(pinger.lost, MAX_LOST_PINGS,
                             f"{pinger.lost} of {pinger.sent} pings between healthy hosts lost")
        for other in self.environment.hosts[:2]:
            self.assertTrue(self.agents_alive(other), f"agents of {other.hostname} died too")
        self.vms[0].assert_no_ping(self.victim_vm.ip)


class TestHostDisconnect(HostFailureTestCase):
    def test_cut_off_host_is_dead_then_comes_back(self):
        self.fail_victim_while_others_talk(self.victim.disconnect)
        self.assertTrue(all(proc.is_running() for proc in self.victim.processes()),
                        "a disconnected host keeps its processes")
        self.victim.reconnect()
        wait.wait_until_true(
            lambda: self.agents_alive(self.victim), timeout=DEAD_TIMEOUT, sleep=0.5,
            exception=f"agents of {self.victim.hostname} not alive again after reconnect()")
        self.vms[0].assert_ping(self.victim_vm.ip)
        self.victim_vm.assert_ping(self.vms[1].ip)


class TestHostKill(HostFailureTestCase):
    def test_killed_host_is_dead_and_others_keep_talking(self):
        self.fail_victim_while_others_talk(self.victim.kill)
        self.assertFalse(any(proc.is_running() for proc in self.victim.processes()))
        # The healthy hosts still take new machines.
        newcomer = self.boot_machine(self.environment.hosts[0], self.network_id)
        newcomer.assert_ping(self.vms[1].ip)


class TestHostShutdown(HostFailureTestCase):
    def test_shut_down_host_is_dead_and_others_keep_talking(self):
        self.fail_victim_while_others_talk(self.victim.shutdown)
        self.assertFalse(any(proc.is_running() for proc in self.victim.processes()))
        newcomer = self.boot_machine(self.environment.hosts[1], self.network_id)
        newcomer.assert_ping(self.vms[0].ip)
