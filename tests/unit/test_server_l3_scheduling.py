"""Routers on L3 agents: scheduling, sync_routers, floating IP statuses, notifications."""

from __future__ import annotations

import datetime

import sqlalchemy as sa

from neutrino.server.db import models
from tests.unit import test_server_support as support

UNKNOWN_ID = "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11"


class SchedulingTestCase(support.L3TestCase):
    def report(self, host, **extra):
        self.endpoint.report_state(agent_state=support.l3_agent_state(host, **extra))

    def report_ovs(self, host):
        self.endpoint.report_state(agent_state=support.agent_state(host))

    def kill(self, host):
        """Make ``host``'s agents look dead: their last heartbeat is long ago."""
        def age(session):
            for agent in session.scalars(sa.select(models.Agent).where(
                    models.Agent.host == host)):
                agent.heartbeat_timestamp -= datetime.timedelta(minutes=5)
        self.server.db.run(age)

    def hosts_of(self, router_id):
        return [agent["host"] for agent in self.ok(
            "GET", f"/v2.0/routers/{router_id}/l3-agents")["agents"]]

    def sync(self, host, router_ids=None):
        return self.endpoint.sync_routers(host=host, router_ids=router_ids)


class TestScheduling(SchedulingTestCase):
    def test_a_new_router_goes_to_the_alive_l3_agent(self):
        self.report_ovs("host-1")
        self.report("host-2")
        router = self.router()
        [agent] = self.ok("GET", f"/v2.0/routers/{router['id']}/l3-agents")["agents"]
        self.assertEqual(("L3 agent", "host-2", True),
                         (agent["agent_type"], agent["host"], agent["alive"]))
        self.assertEqual([router["id"]], [r["id"] for r in self.ok(
            "GET", f"/v2.0/agents/{agent['id']}/l3-routers")["routers"]])

    def test_the_least_loaded_agent_is_chosen(self):
        self.report("host-a")
        first, second = self.router(), self.router()
        self.report("host-b")
        self.report("host-c")
        third = self.router()
        fourth = self.router()
        self.assertEqual([["host-a"], ["host-a"], ["host-b"], ["host-c"]],
                         [self.hosts_of(r["id"]) for r in (first, second, third, fourth)])

    def test_dead_or_disabled_agents_get_nothing(self):
        self.report("host-dead")
        self.kill("host-dead")
        self.report("host-off")
        [off] = [a for a in self.server.core.agents.list() if a["host"] == "host-off"]
        self.ok("PUT", f"/v2.0/agents/{off['id']}", {"agent": {"admin_state_up": False}})
        router = self.router()
        self.assertEqual([], self.hosts_of(router["id"]))

    def test_no_agent_leaves_the_router_unscheduled_until_an_agent_syncs(self):
        router = self.router()
        self.assertEqual([], self.hosts_of(router["id"]))
        self.notifier.events.clear()
        self.report("host-1")
        self.assertEqual([router["id"]], [r["id"] for r in self.sync("host-1")])
        self.assertEqual(["host-1"], self.hosts_of(router["id"]))
        self.assertEqual([[router["id"]]], self.updated_routers())
        # Already scheduled: a second agent's sync takes nothing away.
        self.report("host-2")
        self.assertEqual([], self.sync("host-2"))
        self.assertEqual(["host-1"], self.hosts_of(router["id"]))

    def test_a_dead_agent_that_syncs_gets_nothing(self):
        router = self.router()
        self.report("host-1")
        self.kill("host-1")
        self.assertEqual([], self.sync("host-1"))
        self.assertEqual([], self.hosts_of(router["id"]))

    def test_deleting_the_agent_frees_its_routers_for_another(self):
        self.report("host-1")
        router = self.router()
        [agent] = self.ok("GET", f"/v2.0/routers/{router['id']}/l3-agents")["agents"]
        self.client.request("DELETE", f"/v2.0/agents/{agent['id']}")
        self.report("host-2")
        self.assertEqual([router["id"]], [r["id"] for r in self.sync("host-2")])

    def test_router_ports_bind_to_the_agent_host(self):
        self.report_ovs("host-1")
        self.report("host-1")
        external, router, _, _ = self.routed_port()
        ports = self.router_ports(router["id"])
        self.assertEqual(2, len(ports))
        self.assertEqual([("host-1", "ovs")] * 2,
                         [(p["binding:host_id"], p["binding:vif_type"]) for p in ports])

    def test_ports_of_a_router_scheduled_later_bind_then(self):
        _, router, _, _ = self.routed_port()
        self.assertEqual([("", "unbound")] * 2, [
            (p["binding:host_id"], p["binding:vif_type"]) for p in self.router_ports(
                router["id"])])
        self.report_ovs("host-1")
        self.report("host-1")
        self.sync("host-1")
        self.assertEqual([("host-1", "ovs")] * 2, [
            (p["binding:host_id"], p["binding:vif_type"]) for p in self.router_ports(
                router["id"])])

    def test_scheduler_views_of_unknown_ids_are_404(self):
        self.assertError(404, "RouterNotFound", self.client.request(
            "GET", f"/v2.0/routers/{UNKNOWN_ID}/l3-agents"))
        self.assertError(404, "AgentNotFound", self.client.request(
            "GET", f"/v2.0/agents/{UNKNOWN_ID}/l3-routers"))


class TestSyncRouters(SchedulingTestCase):
    def setUp(self):
        super().setUp()
        self.report_ovs("host-1")
        self.report("host-1")

    def test_the_whole_router(self):
        external, external_subnet = self.external_network()
        network, subnet = self.tenant_subnet("10.0.1.0/24")
        router = self.router(external["id"], name="r1")
        interface = self.add_interface(router["id"], subnet_id=subnet["id"])
        vm = self.client.create("port", network_id=network["id"], tenant_id=self.TENANT)
        fip = self.client.create("floatingip", floating_network_id=external["id"],
                                 port_id=vm["id"], tenant_id=self.TENANT)
        # An unassociated floating IP is no business of the router's.
        self.client.create("floatingip", floating_network_id=external["id"])
        [gateway] = [p for p in self.router_ports(router["id"])
                     if p["device_owner"] == "network:router_gateway"]
        inside = self.port(interface["port_id"])
        self.assertEqual([{
            "id": router["id"], "name": "r1", "admin_state_up": True, "tenant_id": self.TENANT,
            "gw_port": {
                "id": gateway["id"], "mac_address": gateway["mac_address"],
                "network_id": external["id"],
                "fixed_ips": [{"subnet_id": external_subnet["id"], "ip_address": "172.24.4.2",
                               "prefixlen": 24}],
                "subnets": [{"id": external_subnet["id"], "cidr": "172.24.4.0/24",
                             "gateway_ip": "172.24.4.1"}],
                "extra_subnets": [],
                "mtu": 1450},
            "enable_snat": True,
            "interfaces": [{
                "id": inside["id"], "mac_address": inside["mac_address"],
                "network_id": network["id"],
                "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.0.1.1",
                               "prefixlen": 24}],
                "subnets": [{"id": subnet["id"], "cidr": "10.0.1.0/24",
                             "gateway_ip": "10.0.1.1"}],
                "mtu": 1450}],
            "floating_ips": [{"id": fip["id"], "floating_ip_address": "172.24.4.3",
                              "fixed_ip_address": vm["fixed_ips"][0]["ip_address"],
                              "port_id": vm["id"]}],
        }], self.sync("host-1"))

    def test_a_router_without_gateway_or_interfaces(self):
        router = self.router()
        self.assertEqual([{"id": router["id"], "name": "", "admin_state_up": True,
                           "tenant_id": self.TENANT, "gw_port": None, "enable_snat": True,
                           "interfaces": [], "floating_ips": []}], self.sync("host-1"))

    def test_a_router_set_down_is_not_synced_and_its_agent_told(self):
        router = self.router()
        self.notifier.events.clear()
        self.ok("PUT", f"/v2.0/routers/{router['id']}", {"router": {"admin_state_up": False}})
        self.assertEqual([[router["id"]]], self.updated_routers())
        self.assertEqual([], self.sync("host-1"))
        self.ok("PUT", f"/v2.0/routers/{router['id']}", {"router": {"admin_state_up": True}})
        self.assertEqual([router["id"]], [r["id"] for r in self.sync("host-1")])

    def test_the_gateway_knows_the_external_subnets_it_has_no_address_on(self):
        external, first = self.external_network()
        second = self.client.create("subnet", network_id=external["id"], cidr="42.0.0.0/24",
                                    gateway_ip="42.0.0.2")
        router = self.router(external["id"])
        [synced] = self.sync("host-1")
        self.assertEqual([{"id": second["id"], "cidr": "42.0.0.0/24", "gateway_ip": "42.0.0.2"}],
                         synced["gw_port"]["extra_subnets"])
        # Moved onto the second subnet, the gateway reaches the first on the link.
        self.ok("PUT", f"/v2.0/routers/{router['id']}", {"router": {"external_gateway_info": {
            "network_id": external["id"],
            "external_fixed_ips": [{"subnet_id": second["id"], "ip_address": "42.0.0.10"}]}}})
        [synced] = self.sync("host-1")
        self.assertEqual(["42.0.0.10"],
                         [f["ip_address"] for f in synced["gw_port"]["fixed_ips"]])
        self.assertEqual([first["id"]], [s["id"] for s in synced["gw_port"]["extra_subnets"]])

    def test_new_addresses_of_a_gateway_port_reach_its_agent(self):
        external, subnet = self.external_network()
        router = self.router(external["id"])
        [gateway] = [p for p in self.router_ports(router["id"])
                     if p["device_owner"] == "network:router_gateway"]
        self.notifier.events.clear()
        self.ok("PUT", f"/v2.0/ports/{gateway['id']}", {"port": {"fixed_ips": [
            {"subnet_id": subnet["id"], "ip_address": "172.24.4.50"},
            {"subnet_id": subnet["id"], "ip_address": "172.24.4.51"}]}})
        self.assertIn([router["id"]], self.updated_routers())

    def test_snat_disabled(self):
        external, _ = self.external_network()
        self.router(external_gateway_info={"network_id": external["id"], "enable_snat": False})
        [router] = self.sync("host-1")
        self.assertFalse(router["enable_snat"])

    def test_router_ids_filter(self):
        one, two = self.router(), self.router()
        self.assertEqual([one["id"]], [r["id"] for r in self.sync("host-1", [one["id"]])])
        self.assertEqual([two["id"]], [r["id"] for r in self.sync(
            "host-1", [two["id"], UNKNOWN_ID])])
        self.assertEqual([], self.sync("host-1", []))
        self.client.request("DELETE", f"/v2.0/routers/{one['id']}")
        self.assertEqual([], self.sync("host-1", [one["id"]]))

    def test_only_the_callers_routers(self):
        mine = self.router()
        self.report("host-2")
        theirs = self.router()
        self.assertEqual([mine["id"]], [r["id"] for r in self.sync("host-1")])
        self.assertEqual([theirs["id"]], [r["id"] for r in self.sync(
            "host-2", [mine["id"], theirs["id"]])])
        self.assertEqual([], self.sync("host-3"))


class TestFloatingIpStatuses(SchedulingTestCase):
    def test_the_agent_reports_statuses_of_its_routers_floating_ips(self):
        external, router, _, port = self.routed_port()
        fip = self.client.create("floatingip", floating_network_id=external["id"],
                                 port_id=port["id"])
        loose = self.client.create("floatingip", floating_network_id=external["id"])
        self.assertIsNone(self.endpoint.update_floatingip_statuses(
            router_id=router["id"], fip_statuses={fip["id"]: "ERROR", loose["id"]: "ACTIVE",
                                                  UNKNOWN_ID: "ACTIVE"}))
        self.assertEqual(("ERROR", "DOWN"), tuple(
            self.ok("GET", f"/v2.0/floatingips/{f['id']}")["floatingip"]["status"]
            for f in (fip, loose)))

    def test_an_unknown_status_is_refused(self):
        external, router, _, port = self.routed_port()
        fip = self.client.create("floatingip", floating_network_id=external["id"],
                                 port_id=port["id"])
        error = self.assertRaises(ValueError, self.endpoint.update_floatingip_statuses,
                                  router_id=router["id"], fip_statuses={fip["id"]: "UP"})
        self.assertIn("'UP'", str(error))


class TestNotifications(SchedulingTestCase):
    def test_every_change_of_a_router_names_it(self):
        self.report("host-1")
        external, router, subnet, port = self.routed_port()
        fip = self.client.create("floatingip", floating_network_id=external["id"],
                                 port_id=port["id"])
        self.client.request("PUT", f"/v2.0/floatingips/{fip['id']}",
                            {"floatingip": {"port_id": None}})
        self.interface("remove", router["id"], subnet_id=subnet["id"])
        self.client.request("DELETE", f"/v2.0/routers/{router['id']}")
        # create (scheduled, with gateway), add interface, associate, disassociate, remove.
        self.assertEqual([[router["id"]]] * 5, self.updated_routers())
        self.assertEqual([{"router_id": router["id"]}], self.notifier.sent("router_deleted"))

    def test_failed_changes_notify_nothing(self):
        router = self.router()
        self.notifier.events.clear()
        self.interface("add", router["id"], subnet_id=UNKNOWN_ID)
        self.client.request("PUT", f"/v2.0/routers/{router['id']}", {"router": {
            "external_gateway_info": {"network_id": UNKNOWN_ID}}})
        self.assertEqual([], self.notifier.events)


class TestFailover(SchedulingTestCase):
    """allow_automatic_l3agent_failover: off by default; when on, routers leave dead agents."""

    def failover(self):
        return self.server.plugins.service("router").failover

    def test_off_by_default_as_in_neutron(self):
        self.assertFalse(self.server.plugins.service("router").context.conf
                         .allow_automatic_l3agent_failover)
        self.assertEqual([], [task.name for plugin in self.server.plugins
                              for task in plugin.periodic_tasks()
                              if task.name == "l3-failover"])

    def test_a_dead_agents_router_and_its_ports_move_to_an_alive_one(self):
        self.report("host-1")
        external, _ = self.external_network()
        _, subnet = self.tenant_subnet("10.0.1.0/24")
        router = self.router(external["id"])
        self.add_interface(router["id"], subnet_id=subnet["id"])
        self.report("host-2")
        self.kill("host-1")
        self.notifier.events.clear()
        self.assertEqual([router["id"]], self.failover().move_from_dead_agents())
        self.assertEqual(["host-2"], self.hosts_of(router["id"]))
        self.assertEqual({"host-2"}, {p["binding:host_id"]
                                      for p in self.router_ports(router["id"])})
        self.assertIn([router["id"]], self.updated_routers())
        self.assertEqual([], self.failover().move_from_dead_agents())

    def test_with_no_alive_agent_the_router_stays(self):
        self.report("host-1")
        router = self.router()
        self.kill("host-1")
        self.assertEqual([], self.failover().move_from_dead_agents())
        self.assertEqual(["host-1"], self.hosts_of(router["id"]))
