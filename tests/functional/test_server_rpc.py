"""The server's RPC side over a real RabbitMQ vhost: what L2 and L3 agents see."""

from __future__ import annotations

import secrets
import threading

import fixtures
import testtools

from fullstack import prerequisites, wait
from fullstack.resources import rabbitmq
from neutrino.common import rpc, wire
from tests.unit import test_server_support as support


class Recorder:
    """A notification endpoint that keeps what arrives."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []
        self._lock = threading.Lock()

    def _add(self, event, kwargs):
        with self._lock:
            self.events.append((event, kwargs))

    def tunnel_update(self, **kwargs):
        self._add("tunnel_update", kwargs)

    def port_update(self, **kwargs):
        self._add("port_update", kwargs)

    def fdb_add(self, **kwargs):
        self._add("fdb_add", kwargs)

    def fdb_remove(self, **kwargs):
        self._add("fdb_remove", kwargs)

    def routers_updated(self, **kwargs):
        self._add("routers_updated", kwargs)

    def router_deleted(self, **kwargs):
        self._add("router_deleted", kwargs)

    def sent(self, event):
        with self._lock:
            return [kwargs for name, kwargs in self.events if name == event]


class TestServerRpc(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        settings = prerequisites.Settings.from_environment()
        try:
            vhost = self.useFixture(rabbitmq.RabbitmqVhost(
                settings.rabbit_admin_url, "srvt" + secrets.token_hex(4)))
        except prerequisites.MissingPrerequisite as error:
            self.skipTest(str(error))
        url = vhost.transport_url()
        self.recorder = Recorder()
        listener = rpc.NotificationListener(url, self.recorder)
        listener.start()
        self.addCleanup(listener.stop)
        fixture = self.useFixture(support.ServerFixture(
            {"transport_url": url, "ml2.mechanism_drivers": ["openvswitch", "l2population"]},
            fake_notifier=False))
        self.server = fixture.server
        self.api = fixture.client
        wait.wait_until_true(lambda: self.server.rpc_started, timeout=30,
                             exception="the server's RPC server did not start")
        self.client = rpc.RpcClient(url, wire.PLUGIN_TOPIC)
        self.addCleanup(self.client.close)

    def test_agent_heartbeat_tunnels_and_port_lifecycle(self):
        self.assertEqual("alive", self.client.call(
            "report_state", agent_state=support.agent_state("host-1", start_flag=True)))
        [agent] = self.api.request("GET", "/v2.0/agents")[1]["agents"]
        self.assertEqual(("host-1", True), (agent["host"], agent["alive"]))

        reply = self.client.call("tunnel_sync", tunnel_ip="240.0.0.1", tunnel_type="vxlan",
                                 host="host-1")
        self.assertEqual({"tunnels": [{"ip_address": "240.0.0.1", "host": "host-1"}]}, reply)
        wait.wait_until_true(lambda: self.recorder.sent("tunnel_update"), timeout=30,
                             exception="no tunnel_update notification arrived")
        self.assertEqual([{"tunnel_ip": "240.0.0.1", "tunnel_type": "vxlan", "host": "host-1"}],
                         self.recorder.sent("tunnel_update"))

        network = self.api.create("network")
        port = self.api.create("port", network_id=network["id"],
                               **{"binding:host_id": "host-1"})
        details = self.client.call("get_devices_details_list", devices=[port["id"]],
                                   agent_id=agent["id"], host="host-1")
        self.assertEqual(network["provider:segmentation_id"], details[0]["segmentation_id"])
        self.assertEqual({"exists": True}, self.client.call(
            "update_device_up", device=port["id"], agent_id=agent["id"], host="host-1"))
        self.assertEqual("ACTIVE", self.api.request("GET", f"/v2.0/ports/{port['id']}")[1]
                         ["port"]["status"])

        self.api.request("PUT", f"/v2.0/ports/{port['id']}", {"port": {"name": "renamed"}})
        wait.wait_until_true(lambda: self.recorder.sent("port_update"), timeout=30,
                             exception="no port_update notification arrived")
        self.assertEqual("renamed", self.recorder.sent("port_update")[0]["port"]["name"])

    def test_l2_population_entries_reach_the_agents(self):
        network = self.api.create("network")
        self.api.create("subnet", network_id=network["id"], cidr="10.0.0.0/24", ip_version=4)
        ports = {}
        for index, host in enumerate(("host-1", "host-2"), start=1):
            self.client.call("report_state", agent_state=support.agent_state(host))
            self.client.call("tunnel_sync", tunnel_ip=f"240.0.0.{index}", tunnel_type="vxlan",
                             host=host)
            ports[host] = self.api.create("port", network_id=network["id"],
                                          **{"binding:host_id": host})
            self.client.call("update_device_up", device=ports[host]["id"], agent_id="agent",
                             host=host)
        wait.wait_until_true(lambda: len(self.recorder.sent("fdb_add")) == 2, timeout=30,
                             exception="the two fdb_add notifications did not arrive")
        flood = ["00:00:00:00:00:00", "0.0.0.0"]

        def pair(host):
            return [ports[host]["mac_address"], ports[host]["fixed_ips"][0]["ip_address"]]
        segment = {"network_type": "vxlan",
                   "segmentation_id": network["provider:segmentation_id"]}
        self.assertEqual({network["id"]: dict(segment, ports={
            "240.0.0.1": [flood, pair("host-1")], "240.0.0.2": [flood, pair("host-2")]})},
            self.recorder.sent("fdb_add")[1]["fdb_entries"])

        self.client.call("update_device_down", device=ports["host-2"]["id"], agent_id="agent",
                         host="host-2")
        wait.wait_until_true(lambda: self.recorder.sent("fdb_remove"), timeout=30,
                             exception="no fdb_remove notification arrived")
        self.assertEqual([{"fdb_entries": {network["id"]: dict(segment, ports={
            "240.0.0.2": [flood, pair("host-2")]})}}], self.recorder.sent("fdb_remove"))

    def test_l3_agent_hears_of_its_routers_and_syncs_them(self):
        self.client.call("report_state", agent_state=support.l3_agent_state("host-1"))
        external = self.api.create("network", **{"router:external": True})
        self.api.create("subnet", network_id=external["id"], cidr="172.24.4.0/24")
        router = self.api.create("router", external_gateway_info={"network_id": external["id"]})
        wait.wait_until_true(lambda: self.recorder.sent("routers_updated"), timeout=30,
                             exception="no routers_updated notification arrived")
        self.assertEqual([{"router_ids": [router["id"]]}], self.recorder.sent("routers_updated"))
        [synced] = self.client.call("sync_routers", host="host-1", router_ids=[router["id"]])
        self.assertEqual((router["id"], [{
            "subnet_id": router["external_gateway_info"]["external_fixed_ips"][0]["subnet_id"],
            "ip_address": "172.24.4.2", "prefixlen": 24}]),
            (synced["id"], synced["gw_port"]["fixed_ips"]))
        self.assertIsNone(self.client.call("update_floatingip_statuses",
                                           router_id=router["id"], fip_statuses={}))
        self.api.request("DELETE", f"/v2.0/routers/{router['id']}")
        wait.wait_until_true(lambda: self.recorder.sent("router_deleted"), timeout=30,
                             exception="no router_deleted notification arrived")
        self.assertEqual([{"router_id": router["id"]}], self.recorder.sent("router_deleted"))

    def test_errors_come_back_as_remote_errors(self):
        error = self.assertRaises(rpc.RemoteError, self.client.call, "tunnel_sync",
                                  tunnel_ip="240.0.0.1", tunnel_type="gre", host="host-1")
        self.assertIn("'gre'", str(error))
