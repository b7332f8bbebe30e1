"""The q-plugin RPC endpoint, its methods called directly as the RPC server would."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
import testtools

from neutrino.server.db import models
from neutrino.server.lib import clock, errors
from tests.unit import test_server_support as support

RPC_METHODS = ["get_active_networks_info", "get_device_details", "get_devices_details_list",
               "get_dhcp_port", "get_network_info", "release_dhcp_port", "report_state",
               "security_group_info_for_devices", "sync_routers", "tunnel_sync",
               "update_device_down", "update_device_up", "update_floatingip_statuses"]


class RpcEndpointTestCase(testtools.TestCase):
    def setUp(self):
        super().setUp()
        fixture = self.useFixture(support.ServerFixture())
        self.server = fixture.server
        self.notifier = fixture.notifier
        self.endpoint = self.server.rpc_endpoint

    def _agents(self):
        return self.server.db.run(lambda s: [
            (a.agent_type, a.host, a.started_at, a.heartbeat_timestamp, a.configurations)
            for a in s.scalars(sa.select(models.Agent))])


class TestSurface(RpcEndpointTestCase):
    def test_exposes_exactly_the_rpc_methods(self):
        public = sorted(name for name in dir(self.endpoint)
                        if not name.startswith("_") and callable(getattr(self.endpoint, name)))
        self.assertEqual(RPC_METHODS, public)


class TestReportState(RpcEndpointTestCase):
    def test_first_report_creates_the_agent(self):
        self.assertEqual("alive", self.endpoint.report_state(
            agent_state=support.agent_state("host-1", start_flag=True),
            time=clock.utcnow().isoformat()))
        [(agent_type, host, _, _, configurations)] = self._agents()
        self.assertEqual(("Open vSwitch agent", "host-1", {"tunnel_types": ["vxlan"]}),
                         (agent_type, host, configurations))
        self.assertTrue(self.server.core.agents.list()[0]["alive"])

    def test_later_reports_update_the_same_agent(self):
        self.endpoint.report_state(agent_state=support.agent_state("host-1"))
        [(_, _, started, beat, _)] = self._agents()
        self.endpoint.report_state(agent_state=support.agent_state("host-1", ("vxlan", "gre")))
        [(_, _, started_again, beat_again, configurations)] = self._agents()
        self.assertEqual(started, started_again)
        self.assertGreater(beat_again, beat)
        self.assertEqual({"tunnel_types": ["vxlan", "gre"]}, configurations)

    def test_start_flag_resets_started_at(self):
        self.endpoint.report_state(agent_state=support.agent_state("host-1"))
        [(_, _, started, _, _)] = self._agents()
        self.endpoint.report_state(agent_state=support.agent_state("host-1", start_flag=True))
        [(_, _, restarted, _, _)] = self._agents()
        self.assertGreater(restarted, started)

    def test_one_agent_per_type_and_host(self):
        self.endpoint.report_state(agent_state=support.agent_state("host-1"))
        self.endpoint.report_state(agent_state=support.agent_state("host-2"))
        self.endpoint.report_state(
            agent_state=support.agent_state("host-1", agent_type="DHCP agent"))
        self.assertEqual(3, len(self._agents()))

    def test_incomplete_state_is_refused(self):
        error = self.assertRaises(ValueError, self.endpoint.report_state,
                                  agent_state={"host": "host-1"})
        self.assertIn("agent_type", str(error))


class TestDevices(RpcEndpointTestCase):
    def setUp(self):
        super().setUp()
        self.network = support.create_network(self.server)
        self.subnet = support.create_subnet(self.server, network_id=self.network["id"],
                                            cidr="10.0.0.0/24")

    def _port(self, host="host-1"):
        return support.create_port(self.server, network_id=self.network["id"],
                                   device_owner="compute:test", **{"binding:host_id": host})

    def _details(self, port_id, host="host-1"):
        return self.endpoint.get_device_details(device=port_id, agent_id="agent", host=host)

    def test_details_of_a_bound_port(self):
        self.endpoint.report_state(agent_state=support.agent_state("host-1"))
        port = self._port()
        self.assertEqual({
            "device": port["id"], "port_id": port["id"], "network_id": self.network["id"],
            "mac_address": port["mac_address"],
            "fixed_ips": [{"subnet_id": self.subnet["id"], "ip_address": "10.0.0.2"}],
            "admin_state_up": True, "network_type": "vxlan", "physical_network": None,
            "segmentation_id": self.network["provider:segmentation_id"],
            "device_owner": "compute:test"}, self._details(port["id"]))

    def test_asking_binds_a_port_whose_agent_came_up_later(self):
        port = self._port()
        self.assertEqual("binding_failed", port["binding:vif_type"])
        self.endpoint.report_state(agent_state=support.agent_state("host-1"))
        self.assertEqual("vxlan", self._details(port["id"])["network_type"])
        self.assertEqual("ovs", self.server.core.ports.get(port["id"])["binding:vif_type"])

    def test_unknown_unbindable_or_foreign_ports_give_only_the_device(self):
        self.endpoint.report_state(agent_state=support.agent_state("host-1"))
        unbindable = self._port(host="host-9")
        port = self._port()
        self.assertEqual({"device": "nope"}, self._details("nope"))
        self.assertEqual({"device": unbindable["id"]}, self._details(unbindable["id"], "host-9"))
        self.assertEqual({"device": port["id"]}, self._details(port["id"], host="host-2"))

    def test_details_list(self):
        self.endpoint.report_state(agent_state=support.agent_state("host-1"))
        port = self._port()
        details = self.endpoint.get_devices_details_list(
            devices=[port["id"], "nope"], agent_id="agent", host="host-1")
        self.assertEqual([port["id"], "nope"], [d["device"] for d in details])
        self.assertIn("mac_address", details[0])
        self.assertNotIn("mac_address", details[1])

    def test_up_and_down(self):
        port = self._port()
        self.assertEqual({"exists": True}, self.endpoint.update_device_up(
            device=port["id"], agent_id="agent", host="host-1"))
        self.assertEqual("ACTIVE", self.server.core.ports.get(port["id"])["status"])
        self.assertEqual({"exists": True, "device": port["id"]}, self.endpoint.update_device_down(
            device=port["id"], agent_id="agent", host="host-1"))
        self.assertEqual("DOWN", self.server.core.ports.get(port["id"])["status"])
        self.assertEqual({"exists": False}, self.endpoint.update_device_up(
            device="nope", agent_id="agent", host="host-1"))
        self.assertEqual({"exists": False, "device": "nope"}, self.endpoint.update_device_down(
            device="nope", agent_id="agent", host="host-1"))

    def test_another_host_cannot_bring_a_port_up(self):
        port = self._port()
        self.endpoint.update_device_up(device=port["id"], agent_id="agent", host="host-2")
        self.assertEqual("DOWN", self.server.core.ports.get(port["id"])["status"])


class TestTunnelSync(RpcEndpointTestCase):
    def _sync(self, ip, host, tunnel_type="vxlan"):
        return self.endpoint.tunnel_sync(tunnel_ip=ip, tunnel_type=tunnel_type, host=host)

    def test_returns_every_endpoint_including_the_callers(self):
        self._sync("240.0.0.1", "host-1")
        self.assertEqual({"tunnels": [{"ip_address": "240.0.0.1", "host": "host-1"},
                                      {"ip_address": "240.0.0.2", "host": "host-2"}]},
                         self._sync("240.0.0.2", "host-2"))

    def test_notifies_the_other_agents(self):
        self._sync("240.0.0.1", "host-1")
        self.assertEqual([{"tunnel_ip": "240.0.0.1", "tunnel_type": "vxlan", "host": "host-1"}],
                         self.notifier.sent("tunnel_update"))

    def test_a_new_address_replaces_the_hosts_old_one(self):
        self._sync("240.0.0.1", "host-1")
        self.assertEqual({"tunnels": [{"ip_address": "240.0.0.9", "host": "host-1"}]},
                         self._sync("240.0.0.9", "host-1"))

    def test_resync_is_idempotent(self):
        self._sync("240.0.0.1", "host-1")
        self.assertEqual(1, len(self._sync("240.0.0.1", "host-1")["tunnels"]))

    def test_an_address_of_another_host_is_a_conflict(self):
        self._sync("240.0.0.1", "host-1")
        error = self.assertRaises(errors.Conflict, self._sync, "240.0.0.1", "host-2")
        self.assertIn("host-1", error.message)

    def test_unknown_tunnel_type_is_refused(self):
        error = self.assertRaises(errors.BadRequest, self._sync, "240.0.0.1", "host-1", "gre")
        self.assertIn("'gre'", error.message)
        self.assertEqual([], self.notifier.sent("tunnel_update"))


class TestAgentsApiView(RpcEndpointTestCase):
    def test_dead_agent_is_listed_not_alive(self):
        self.endpoint.report_state(agent_state=support.agent_state("host-1"))

        def age(session):
            for agent in session.scalars(sa.select(models.Agent)):
                agent.heartbeat_timestamp -= datetime.timedelta(seconds=16)
        self.server.db.run(age)
        self.assertFalse(self.server.core.agents.list()[0]["alive"])
