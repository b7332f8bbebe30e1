"""The database or the broker goes away and comes back; nothing is restarted by hand.

Each test runs against a MariaDB server or a RabbitMQ node of its own
(``private_database``, ``private_broker``), so stopping it disturbs no test
running beside it. While it is down a client keeps calling the API; what
those calls may do differs: neutrino answers each at once (a 503 naming
the database, or, without a broker, the call itself), while Neutron holds a
call until the server it needs is back and then answers it (see the README).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

from testtools import content

from fullstack import base, environment, probes, wait
from fullstack.resources import client

OUTAGE = 10.0           # seconds the database stays down (RabbitMQ: its stop and start)
QUICK = 15.0            # what "at once" allows on a loaded machine
HELD = 120.0            # how long a call held through the outage may take in all
AGENT_DOWN_TIME = 10
# Pings between machines while the control plane is away: the data plane
# does not need it, so only CPU load may cost a few.
MAX_LOST_PINGS = 3


@dataclasses.dataclass
class Call:
    outcome: object     # what the call returned, or the ApiError it raised
    started: float      # time.monotonic() when it was made
    took: float

    @property
    def failed(self) -> bool:
        return isinstance(self.outcome, client.ApiError)


class Prober(threading.Thread):
    """Calls the API every ``interval`` s (or as soon as the last call ended)
    until told to stop; records every call."""

    def __init__(self, call: Callable[[], object], interval: float = 0.5):
        super().__init__(name="api-prober", daemon=True)
        self.call = call
        self.interval = interval
        self.calls: list[Call] = []
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            start = time.monotonic()
            try:
                outcome = self.call()
            except client.ApiError as error:
                outcome = error
            except Exception as error:  # noqa: BLE001 - a hang or a reset is the finding
                self.errors.append(error)
                return
            self.calls.append(Call(outcome, start, time.monotonic() - start))
            self.stopping.wait(self.interval)

    def finish(self) -> list[Call]:
        self.stopping.set()
        self.join(HELD)
        if self.is_alive():
            raise AssertionError(f"an API call made during the outage is still unanswered "
                                 f"{HELD} s later")
        if self.errors:
            raise AssertionError(f"an API call made during the outage failed: "
                                 f"{self.errors[0]!r}")
        return self.calls


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
        # A client that waits as long as a held call may take.
        self.patient = self.useFixture(client.SafeClient(
            client.ApiClient(self.environment.server.url, timeout=HELD)))

    def deployment_pids(self) -> dict[str, int | None]:
        """The pid of every process but the private server the test stops."""
        private = {server.process.name for server in (self.environment.broker_server,
                                                      self.environment.database_server)
                   if server is not None}
        return {proc.name: proc.pid for proc in self.environment.processes()
                if proc.name not in private}

    def probe_through_outage(self, server, call: Callable[[], object],
                             duration: float) -> list[Call]:
        """Stop ``server`` for ``duration`` s (after its stop) while a client calls
        ``call`` again and again; start it again; the calls made meanwhile."""
        pinger = self.useFixture(probes.Pinger(self.vms[0], self.vms[1].ip, interval=0.2))
        pinger.start()
        prober = Prober(call)
        with server.outage():
            prober.start()
            # The fault is the scenario: it lasts this long, whatever happens.
            prober.stopping.wait(duration)
            # The server starts again from here: a call made later may find it back.
            self.restart_began = time.monotonic()
        self.outage_ended = time.monotonic()
        calls = prober.finish()
        pinger.stop()
        self.addDetail("API calls during the outage", content.text_content("\n".join(
            f"{call.took:6.2f} s  "
            f"{call.outcome.status if call.failed else 'ok'}"   # type: ignore[attr-defined]
            for call in calls)))
        self.assertTrue(calls, "no API call ended")
        self.assertLessEqual(pinger.lost, MAX_LOST_PINGS,
                             f"{pinger.lost} of {pinger.sent} pings lost while the "
                             "control plane was away")
        return calls

    def assert_everything_works_again(self) -> None:
        """The API answers, agents are alive within agent_down_time of the end of the
        outage, new machines boot and ping the old ones, no process was restarted."""
        wait.wait_until_true(lambda: self.client.list_networks() is not None, timeout=60,
                             sleep=0.5)
        self.environment.wait_until_env_is_up(
            timeout=max(1.0, self.outage_ended + AGENT_DOWN_TIME - time.monotonic()))
        newcomers = self.boot_machines(self.environment.hosts, self.network["id"])
        for vm in newcomers:
            for old in self.vms:
                vm.assert_ping(old.ip)
        self.assertEqual(self.pids, self.deployment_pids(), "a process was restarted")


class TestDatabaseOutage(OutageTestCase):
    private_database = True

    def test_api_answers_during_the_outage_and_everything_works_after(self):
        calls = self.probe_through_outage(self.environment.database_server,
                                          self.patient.client.list_networks, OUTAGE)
        for call in calls:
            if call.failed:
                self.assertEqual(503, call.outcome.status, str(call.outcome))
                self.assertIn("database", call.outcome.message.lower())
        if "refuses-while-database-is-out" in self.environment.service.features:
            # The prober goes on while MariaDB starts again; what it asked once
            # MariaDB was starting may rightly be answered.
            during = [call for call in calls if call.started < self.restart_began]
            self.assertTrue(during, "no API call was made while the database was down")
            self.assertTrue(all(call.failed for call in during),
                            f"answered without its database: {during}")
            self.assertLess(max(call.took for call in calls), QUICK,
                            f"a call took {max(call.took for call in calls):.1f} s")
        self.assert_everything_works_again()


class TestBrokerOutage(OutageTestCase):
    private_broker = True

    def test_api_answers_during_the_outage_and_everything_works_after(self):
        created = []

        def create() -> dict:
            created.append(self.patient.create_network(self.tenant_id))
            return created[-1]

        # Stopping and starting RabbitMQ take about 15 s themselves.
        calls = self.probe_through_outage(self.environment.broker_server, create, 0)
        self.assertEqual([], [call for call in calls if call.failed])
        if "serves-without-broker" in self.environment.service.features:
            self.assertLess(max(call.took for call in calls), QUICK,
                            f"a call took {max(call.took for call in calls):.1f} s")
        self.assert_everything_works_again()
