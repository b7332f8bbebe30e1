"""Agents, the server and the broker connection die and come back; traffic survives."""

from __future__ import annotations

import datetime
import signal

import testscenarios

from fullstack import base, environment, probes, wait
from fullstack.resources import daemon

# stestr sees (and spreads over its workers) every scenario as its own test.
load_tests = testscenarios.load_tests_apply_scenarios

MAX_LOST_PINGS = 5


class ResilienceTestCase(base.BaseFullStackTestCase):
    network_type = "vxlan"
    hosts = 2
    report_interval = 1.0
    agent_down_time = 10

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(
                network_type=self.network_type, report_interval=self.report_interval,
                agent_down_time=self.agent_down_time),
            [environment.HostDescription() for _ in range(self.hosts)]))
        net = self.safe_client.create_network(self.tenant_id,
                                              **self.environment.env_desc.network_attrs())
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24")
        self.network_id = net["id"]
        self.vms = self.boot_machines(self.environment.hosts, self.network_id)

    def continuous_ping(self) -> probes.Pinger:
        self.vms.ping_all()
        pinger = self.useFixture(probes.Pinger(self.vms[0], self.vms[1].ip, count=80))
        pinger.start()
        return pinger

    def assert_few_lost(self, pinger: probes.Pinger) -> None:
        pinger.stop()   # once all 80 echoes were sent
        self.assertGreaterEqual(pinger.sent, 80)
        self.assertLessEqual(pinger.lost, MAX_LOST_PINGS,
                             f"{pinger.lost} of {pinger.sent} pings lost")

    def assert_new_machine_works(self) -> None:
        newcomer = self.boot_machine(self.environment.hosts[0], self.network_id)
        for vm in self.vms:
            newcomer.assert_ping(vm.ip)


class TestL2AgentRestart(ResilienceTestCase):
    scenarios = testscenarios.multiply_scenarios(
        [(kind, {"network_type": kind}) for kind in ("vxlan", "vlan", "flat")],
        [("sigterm", {"kill_signal": signal.SIGTERM}),
         ("sigkill", {"kill_signal": signal.SIGKILL})])

    def test_restart_keeps_traffic(self):
        pinger = self.continuous_ping()
        for host in self.environment.hosts:
            host.l2_agent.stop(kill_signal=self.kill_signal)
            host.l2_agent.start()
        self.environment.wait_until_env_is_up()
        self.vms.ping_all()
        self.assert_few_lost(pinger)
        self.assert_new_machine_works()


class TestAgentsDown(ResilienceTestCase):
    def test_traffic_flows_while_agents_are_down(self):
        """No OpenFlow controller is configured: the agents program flows with
        ovs-ofctl and bridges are fail_mode=secure, so nothing in OVS notices
        an agent's absence however long it lasts."""
        for host in self.environment.hosts:
            host.l2_agent.stop()
        pinger = self.useFixture(probes.Pinger(self.vms[0], self.vms[1].ip, interval=0.2,
                                               count=40))
        pinger.start()
        pinger.stop()   # once all 40 echoes were sent
        self.assertEqual(pinger.sent, pinger.received, pinger.output())
        for host in self.environment.hosts:
            host.l2_agent.start()
        self.environment.wait_until_env_is_up()


class TestServerRestart(ResilienceTestCase):
    def test_agents_reconnect_and_new_ports_become_active(self):
        server = self.environment.server
        old_pid = server.pid
        server.restart()
        self.assertNotEqual(old_pid, server.pid)
        self.environment.wait_until_env_is_up()
        self.vms.ping_all()
        self.assert_new_machine_works()


class TestBrokerConnectionLoss(ResilienceTestCase):
    def test_everyone_reconnects(self):
        rabbit = self.environment.rabbitmq_environment
        # Every process holds several connections; the management API lists
        # new ones with a delay of a few seconds.
        processes = 1 + sum(len(host.agents) for host in self.environment.hosts)
        wait.wait_until_true(
            lambda: len(rabbit.api.connections(rabbit.vhost)) >= 2 * processes, timeout=60,
            sleep=0.5, exception="the management API never listed every process's connections")
        before = rabbit.api.connections(rabbit.vhost)
        for conn in before:
            rabbit.api.close_connection(conn["name"])
        old_names = {c["name"] for c in before}
        wait.wait_until_true(
            lambda: len({c["name"] for c in rabbit.api.connections(rabbit.vhost)}
                        - old_names) >= len(before),
            timeout=60, sleep=0.5,
            exception="agents and server did not reconnect to RabbitMQ")
        self.environment.wait_until_env_is_up()
        self.assert_new_machine_works()


class TestAgentLiveness(ResilienceTestCase):
    report_interval = 0.5
    agent_down_time = 4

    def agent_alive(self, host) -> bool:
        agents = self.client.list_agents(host=host.hostname)
        return bool(agents) and agents[0]["alive"]

    def test_stopped_agent_is_dead_then_alive_again(self):
        host = self.environment.hosts[0]
        self.assertTrue(self.agent_alive(host))
        host.l2_agent.stop()
        wait.wait_until_true(lambda: not self.agent_alive(host), timeout=60, sleep=0.2,
                             exception=f"agent of {host.hostname} still alive 60 s after stop")
        # Not dead before the configured down time after its last heartbeat
        # (the API shows whole seconds, hence the second of slack).
        [agent] = self.client.list_agents(host=host.hostname)
        silent_for = datetime.datetime.now(datetime.timezone.utc) - _utc(
            agent["heartbeat_timestamp"])
        self.assertGreaterEqual(silent_for.total_seconds(), self.agent_down_time - 1)
        host.l2_agent.start()
        wait.wait_until_true(lambda: self.agent_alive(host), timeout=60, sleep=0.2,
                             exception=f"agent of {host.hostname} not alive after restart")


def _utc(timestamp: str) -> datetime.datetime:
    """An API time in UTC: neutrino's '2026-12-01T10:00:00Z', Neutron's '2026-12-01 10:00:00'."""
    parsed = datetime.datetime.fromisoformat(timestamp.replace("Z", "").replace("T", " "))
    return parsed.replace(tzinfo=datetime.timezone.utc)


class TestUnexpectedAgentDeath(ResilienceTestCase):
    def test_death_is_reported_by_name(self):
        host = self.environment.hosts[1]
        host.l2_agent.popen.kill()   # behind the harness's back, like a crash
        host.l2_agent.popen.wait()
        exc = self.assertRaises(daemon.ProcessExited, self.boot_machine, host, self.network_id)
        self.assertIn(host.l2_agent.name, str(exc))
        self.assertIn("exited with code -9", str(exc))
        self.assertIn(f"last lines of {host.l2_agent.log_path}", str(exc))
        host.l2_agent.start()   # so the end-of-test check finds everyone alive
        self.environment.wait_until_env_is_up()
