"""Networks on DHCP agents: automatic scheduling, auto-scheduling and the scheduler API."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
import testtools

from neutrino.server.db import models
from neutrino.server.plugins.dhcp import models as dhcp_models
from tests.unit import test_server_support as support

UNKNOWN_ID = "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11"


class TestConfig(testtools.TestCase):
    def test_one_agent_per_network_by_default_and_at_least_one(self):
        conf = support.make_conf("sqlite:////nonexistent.db")
        self.assertEqual(1, conf.dhcp_agents_per_network)
        self.assertRaises(ValueError, conf.set_override, "dhcp_agents_per_network", 0)


class TestScheduling(support.DhcpTestCase):
    def test_a_dhcp_subnet_puts_its_network_on_the_alive_dhcp_agent(self):
        self.report_ovs("host-1")
        self.report("host-2")
        network, _ = self.dhcp_network()
        [agent] = self.ok("GET", f"/v2.0/networks/{network['id']}/dhcp-agents")["agents"]
        self.assertEqual(("DHCP agent", "host-2", True),
                         (agent["agent_type"], agent["host"], agent["alive"]))
        self.assertEqual([network["id"]], [n["id"] for n in self.ok(
            "GET", f"/v2.0/agents/{agent['id']}/dhcp-networks")["networks"]])

    def test_a_network_without_dhcp_subnets_waits_until_a_subnet_enables_dhcp(self):
        self.report("host-1")
        network, subnet = self.dhcp_network(enable_dhcp=False)
        self.assertEqual([], self.hosts_of(network["id"]))
        self.ok("PUT", f"/v2.0/subnets/{subnet['id']}", {"subnet": {"name": "renamed"}})
        self.assertEqual([], self.hosts_of(network["id"]))
        self.ok("PUT", f"/v2.0/subnets/{subnet['id']}", {"subnet": {"enable_dhcp": True}})
        self.assertEqual(["host-1"], self.hosts_of(network["id"]))

    def test_the_least_loaded_agent_is_chosen_and_the_host_name_breaks_ties(self):
        self.report("host-a")
        first, _ = self.dhcp_network()
        second, _ = self.dhcp_network()
        self.report("host-c")
        self.report("host-b")
        third, _ = self.dhcp_network()
        fourth, _ = self.dhcp_network()
        fifth, _ = self.dhcp_network()
        self.assertEqual([["host-a"], ["host-a"], ["host-b"], ["host-c"], ["host-b"]],
                         [self.hosts_of(n["id"]) for n in (first, second, third, fourth, fifth)])

    def test_a_second_dhcp_subnet_adds_no_agent(self):
        self.report("host-1")
        network, _ = self.dhcp_network()
        self.report("host-2")
        self.client.create("subnet", network_id=network["id"], cidr="10.0.1.0/24")
        self.assertEqual(["host-1"], self.hosts_of(network["id"]))

    def test_dead_or_disabled_agents_get_nothing(self):
        self.report("host-dead")
        self.kill("host-dead")
        self.report("host-off")
        self.ok("PUT", f"/v2.0/agents/{self.agent_id('host-off')}",
                {"agent": {"admin_state_up": False}})
        self.report_ovs("host-ovs")
        network, _ = self.dhcp_network()
        self.assertEqual([], self.hosts_of(network["id"]))

    def test_deleting_the_network_removes_its_bindings(self):
        self.report("host-1")
        network, _ = self.dhcp_network()
        self.ok("DELETE", f"/v2.0/networks/{network['id']}")
        self.assertEqual(0, self.server.db.run(lambda session: session.scalar(
            sa.select(sa.func.count()).select_from(dhcp_models.NetworkDhcpAgentBinding))))
        self.assertEqual([], self.ok(
            "GET", f"/v2.0/agents/{self.agent_id('host-1')}/dhcp-networks")["networks"])

    def test_deleting_the_agent_frees_its_networks_for_another(self):
        self.report("host-1")
        network, _ = self.dhcp_network()
        self.ok("DELETE", f"/v2.0/agents/{self.agent_id('host-1')}")
        self.assertEqual([], self.hosts_of(network["id"]))
        self.report("host-2")
        self.assertEqual([network["id"]], [n["id"] for n in self.endpoint.get_active_networks_info(
            host="host-2")])
        self.assertEqual(["host-2"], self.hosts_of(network["id"]))


class TestTwoAgentsPerNetwork(support.DhcpTestCase):
    AGENTS_PER_NETWORK = 2

    def test_each_network_gets_the_two_least_loaded_agents(self):
        self.report("host-a")
        self.report("host-b")
        first, _ = self.dhcp_network()
        self.report("host-c")
        second, _ = self.dhcp_network()
        self.assertEqual(["host-a", "host-b"], self.hosts_of(first["id"]))
        # host-c has no network, host-a and host-b one each: the name decides.
        self.assertEqual(["host-a", "host-c"], self.hosts_of(second["id"]))

    def test_a_network_short_of_agents_is_topped_up_by_the_next_agent_that_asks(self):
        self.report("host-a")
        network, _ = self.dhcp_network()
        self.assertEqual(["host-a"], self.hosts_of(network["id"]))
        self.report("host-b")
        self.report("host-c")
        self.assertEqual([network["id"]], [n["id"] for n in self.endpoint.get_active_networks_info(
            host="host-b")])
        self.assertEqual([], self.endpoint.get_active_networks_info(host="host-c"))
        self.assertEqual(["host-a", "host-b"], self.hosts_of(network["id"]))


class TestAutoScheduling(support.DhcpTestCase):
    def test_a_network_created_without_agents_goes_to_the_first_that_asks(self):
        network, _ = self.dhcp_network()
        self.assertEqual([], self.hosts_of(network["id"]))
        self.notifier.events.clear()
        self.report("host-1")
        self.assertEqual([network["id"]], [n["id"] for n in self.endpoint.get_active_networks_info(
            host="host-1")])
        self.assertEqual(["host-1"], self.hosts_of(network["id"]))
        self.assertEqual([[network["id"]]], self.changed_networks())
        # Served already: a second agent takes nothing away.
        self.report("host-2")
        self.assertEqual([], self.endpoint.get_active_networks_info(host="host-2"))
        self.assertEqual(["host-1"], self.hosts_of(network["id"]))

    def test_networks_without_dhcp_are_not_auto_scheduled(self):
        network, _ = self.dhcp_network(enable_dhcp=False)
        self.report("host-1")
        self.assertEqual([], self.endpoint.get_active_networks_info(host="host-1"))
        self.assertEqual([], self.hosts_of(network["id"]))

    def test_a_dead_agent_that_asks_gets_nothing(self):
        network, _ = self.dhcp_network()
        self.report("host-1")
        self.kill("host-1")
        self.assertEqual([], self.endpoint.get_active_networks_info(host="host-1"))
        self.assertEqual([], self.hosts_of(network["id"]))

    def test_a_host_without_dhcp_agent_gets_nothing(self):
        network, _ = self.dhcp_network()
        self.report_ovs("host-1")
        self.assertEqual([], self.endpoint.get_active_networks_info(host="host-1"))
        self.assertEqual([], self.hosts_of(network["id"]))


class TestSchedulerApi(support.DhcpTestCase):
    def setUp(self):
        super().setUp()
        self.report("host-1")
        self.report_ovs("host-1")
        self.agent = self.agent_id("host-1")
        self.network, _ = self.dhcp_network(enable_dhcp=False)
        self.path = f"/v2.0/agents/{self.agent}/dhcp-networks"

    def add(self, network_id, agent_id=None):
        return self.client.request("POST", f"/v2.0/agents/{agent_id or self.agent}/dhcp-networks",
                                   {"network_id": network_id})

    def test_schedule_by_hand_then_unschedule(self):
        self.notifier.events.clear()
        self.assertEqual((201, None), self.add(self.network["id"]))
        self.assertEqual(["host-1"], self.hosts_of(self.network["id"]))
        self.assertEqual((204, None), self.client.request(
            "DELETE", f"{self.path}/{self.network['id']}"))
        self.assertEqual([], self.hosts_of(self.network["id"]))
        self.assertEqual([[self.network["id"]]] * 2, self.changed_networks())

    def test_by_hand_past_agents_per_network(self):
        self.report("host-2")
        network, _ = self.dhcp_network()
        self.assertEqual(["host-1"], self.hosts_of(network["id"]))
        self.assertEqual(201, self.add(network["id"], self.agent_id("host-2"))[0])
        self.assertEqual(["host-1", "host-2"], self.hosts_of(network["id"]))

    def test_scheduling_twice_is_409(self):
        self.add(self.network["id"])
        self.assertError(409, "NetworkHostedByDHCPAgent", self.add(self.network["id"]))

    def test_unknown_network_or_agent_is_404(self):
        self.assertError(404, "NetworkNotFound", self.add(UNKNOWN_ID))
        self.assertError(404, "AgentNotFound", self.add(self.network["id"], UNKNOWN_ID))
        self.assertEqual([], self.hosts_of(self.network["id"]))

    def test_an_agent_that_is_not_a_dhcp_agent_is_400(self):
        ovs_agent = self.agent_id("host-1", "Open vSwitch agent")
        self.assertError(400, "InvalidDHCPAgent", self.add(self.network["id"], ovs_agent))
        self.assertError(400, "InvalidDHCPAgent", self.client.request(
            "DELETE", f"/v2.0/agents/{ovs_agent}/dhcp-networks/{self.network['id']}"))

    def test_a_malformed_body_is_400(self):
        for body in ({}, {"network_id": "not-a-uuid"}, {"network": self.network["id"]},
                     [self.network["id"]]):
            status, _ = self.client.request("POST", self.path, body)
            self.assertEqual(400, status, body)
        self.assertEqual([], self.hosts_of(self.network["id"]))

    def test_unscheduling_a_network_not_hosted_is_404(self):
        self.assertError(404, "NetworkNotHostedByDhcpAgent", self.client.request(
            "DELETE", f"{self.path}/{self.network['id']}"))
        self.assertError(404, "AgentNotFound", self.client.request(
            "DELETE", f"/v2.0/agents/{UNKNOWN_ID}/dhcp-networks/{self.network['id']}"))

    def test_views_of_unknown_ids_are_404(self):
        self.assertError(404, "NetworkNotFound", self.client.request(
            "GET", f"/v2.0/networks/{UNKNOWN_ID}/dhcp-agents"))
        self.assertError(404, "AgentNotFound", self.client.request(
            "GET", f"/v2.0/agents/{UNKNOWN_ID}/dhcp-networks"))

    def test_the_extension_is_listed(self):
        self.assertIn("dhcp_agent_scheduler", [e["alias"] for e in self.ok(
            "GET", "/v2.0/extensions")["extensions"]])


class TestUnschedulingDeletesTheDhcpPort(support.DhcpTestCase):
    AGENTS_PER_NETWORK = 2

    def test_only_the_agents_own_port_goes(self):
        for host in ("host-1", "host-2"):
            self.report(host)
            self.report_ovs(host)
        network, _ = self.dhcp_network()
        mine = self.dhcp_port(network["id"], "host-1", "dhcp-host-1")
        theirs = self.dhcp_port(network["id"], "host-2", "dhcp-host-2")
        self.notifier.events.clear()
        self.ok("DELETE", f"/v2.0/agents/{self.agent_id('host-1')}/dhcp-networks/{network['id']}")
        self.assertEqual(404, self.client.request("GET", f"/v2.0/ports/{mine['id']}")[0])
        self.assertEqual(200, self.client.request("GET", f"/v2.0/ports/{theirs['id']}")[0])
        self.assertEqual([{"port_id": mine["id"]}], self.notifier.sent("port_delete"))
        self.assertIn([network["id"]], self.changed_networks())
        self.assertIsNone(self.endpoint.get_network_info(host="host-1",
                                                         network_id=network["id"]))


class TestFailover(support.DhcpTestCase):
    """allow_automatic_dhcp_failover: networks leave agents dead for 2 x agent_down_time."""

    def dead_since_long(self, host: str) -> None:
        """``host``'s agents last reported, and started, long ago."""
        def age(session) -> None:
            for agent in session.scalars(sa.select(models.Agent).where(
                    models.Agent.host == host)):
                agent.heartbeat_timestamp -= datetime.timedelta(minutes=5)
                agent.started_at -= datetime.timedelta(minutes=5)
        self.server.db.run(age)

    def move(self) -> list[str]:
        [task] = [task for plugin in self.server.plugins for task in plugin.periodic_tasks()]
        self.assertEqual(("dhcp-failover", 7), (task.name, task.interval))  # down time 15
        return self.server.plugins.service("dhcp_agent_scheduler").hosting \
            .move_from_dead_agents()

    def test_a_dead_agents_network_moves_to_an_alive_one(self):
        self.report("host-1")
        self.report_ovs("host-1")
        network, _ = self.dhcp_network()
        old_port = self.dhcp_port(network["id"])
        self.report("host-2")
        self.dead_since_long("host-1")
        self.notifier.events.clear()
        self.assertEqual([network["id"]], self.move())
        self.assertEqual(["host-2"], self.hosts_of(network["id"]))
        self.assertEqual(404, self.client.request("GET", f"/v2.0/ports/{old_port['id']}")[0])
        self.assertIn([network["id"]], self.changed_networks())
        self.assertEqual([], self.move(), "a moved network moves once")

    def test_an_agent_dead_only_lately_or_just_started_keeps_its_networks(self):
        self.report("host-1")
        network, _ = self.dhcp_network()
        self.report("host-2")
        self.kill("host-1")   # heartbeat 5 min old, but started just now
        self.assertEqual([], self.move())
        self.assertEqual(["host-1"], self.hosts_of(network["id"]))

    def test_with_no_alive_agent_nothing_moves(self):
        self.report("host-1")
        network, _ = self.dhcp_network()
        self.dead_since_long("host-1")
        self.assertEqual([], self.move())
        self.assertEqual(["host-1"], self.hosts_of(network["id"]))

    def test_failover_switched_off_runs_no_task(self):
        fixture = self.useFixture(support.ServerFixture({"allow_automatic_dhcp_failover": False}))
        self.assertEqual([], [task for plugin in fixture.server.plugins
                              for task in plugin.periodic_tasks()])
