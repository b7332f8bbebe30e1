"""The database or the broker goes away and comes back; nothing is restarted by hand.

Each test runs against a MariaDB server or a RabbitMQ node of its own
(``private_database``, ``private_broker``), so stopping it disturbs no test
running beside it.
"""

from __future__ import annotations

import time

from fullstack import base, environment, probes, wait
from fullstack.resources import client

OUTAGE = 10.0           # seconds the database stays down
REQUEST_BOUND = 15.0    # an API call during an outage answers within this, or it hangs
AGENT_DOWN_TIME = 10
# Pings between machines while the control plane is away: the data plane
# does not need it, so only CPU load may cost a few.
MAX_LOST_PINGS = 3


class OutageTestCase(base.BaseFullStackTestCase):
    private_broker = False
    private_database = False

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(
                network_type="vxlan", report_interval=1, agent_down_time=AGENT_DOWN_TIME,
                private_broker=self.private_broker, private_database=self.private_database),
            [environment.HostDescription() for _ in range(2)]))
        self.network = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, self.network["id"], "20.0.0.0/24")
        self.vms = self.boot_machines(self.environment.hosts, self.network["id"])
        self.vms.ping_all()
        self.pids = self.deployment_pids()

    def deployment_pids(self) -> dict[str, int | None]:
        """The pid of every process but the private server the test stops."""
        private = {server.process.name for server in (self.environment.broker_server,
                                                      self.environment.database_server)
                   if server is not None}
        return {proc.name: proc.pid for proc in self.environment.processes()
                if proc.name not in private}

    def timed(self, call):
        """``call()``'s result or ApiError, and how long it took."""
        start = time.monotonic()
        try:
            result = call()
        except client.ApiError as error:
            result = error
        return result, time.monotonic() - start

    def assert_everything_works_again(self, outage_ended: float) -> None:
        """Agents alive within agent_down_time of the end, new machines boot and
        ping the old ones, and not one process was restarted."""
        self.environment.wait_until_env_is_up(
            timeout=max(1.0, outage_ended + AGENT_DOWN_TIME - time.monotonic()))
        newcomers = self.boot_machines(self.environment.hosts, self.network["id"])
        for vm in newcomers:
            for old in self.vms:
                vm.assert_ping(old.ip)
        self.assertEqual(self.pids, self.deployment_pids(), "a process was restarted")


class TestDatabaseOutage(OutageTestCase):
    private_database = True

    def test_api_answers_during_the_outage_and_everything_works_after(self):
        pinger = self.useFixture(probes.Pinger(self.vms[0], self.vms[1].ip, interval=0.2))
        pinger.start()
        answers = []
        with self.environment.database_server.outage():
            end = time.monotonic() + OUTAGE
            while time.monotonic() < end:
                answers.append(self.timed(self.client.list_networks))
        outage_ended = time.monotonic()
        pinger.stop()

        for result, took in answers:
            self.assertLess(took, REQUEST_BOUND, f"an API call hung for {took:.1f} s")
            if isinstance(result, client.ApiError):
                self.assertEqual(503, result.status, str(result))
                self.assertIn("database", result.message.lower())
        if self.environment.service.name == "neutrino":
            # neutrino refuses at once; Neutron retries a call until the
            # database is back (see the README), and then answers it.
            self.assertTrue(all(isinstance(r, client.ApiError) for r, _ in answers),
                            f"neutrino answered during the outage: {answers}")
        self.assertLessEqual(pinger.lost, MAX_LOST_PINGS,
                             f"{pinger.lost} of {pinger.sent} pings lost")

        wait.wait_until_true(lambda: not isinstance(self.timed(self.client.list_networks)[0],
                                                    client.ApiError),
                             timeout=60, sleep=0.5,
                             exception="the API still fails 60 s after the database is back")
        self.assert_everything_works_again(outage_ended)


class TestBrokerOutage(OutageTestCase):
    private_broker = True

    def test_everything_works_after_the_broker_restarts(self):
        pinger = self.useFixture(probes.Pinger(self.vms[0], self.vms[1].ip, interval=0.2))
        pinger.start()
        with self.environment.broker_server.outage():
            # The API needs no broker: it answers, and agents catch up later.
            result, took = self.timed(lambda: self.safe_client.create_network(self.tenant_id))
            self.assertLess(took, REQUEST_BOUND, f"a network create hung for {took:.1f} s")
            self.assertNotIsInstance(result, client.ApiError)
        outage_ended = time.monotonic()
        pinger.stop()
        self.assertLessEqual(pinger.lost, MAX_LOST_PINGS,
                             f"{pinger.lost} of {pinger.sent} pings lost")
        self.assert_everything_works_again(outage_ended)
