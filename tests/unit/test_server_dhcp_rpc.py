"""What DHCP agents ask over RPC: network info, DHCP ports, and the notifications they get."""

from __future__ import annotations

from neutrino.common import rpc
from neutrino.common.rpc import message
from neutrino.server.lib import errors
from tests.unit import test_server_support as support

UNKNOWN_ID = "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11"


class RpcTestCase(support.DhcpTestCase):
    def setUp(self):
        super().setUp()
        self.report("host-1")
        self.report_ovs("host-1")

    def dhcp_ports(self, network_id):
        return self.ok("GET", f"/v2.0/ports?network_id={network_id}"
                              "&device_owner=network:dhcp")["ports"]


class TestNetworkInfo(RpcTestCase):
    def test_the_whole_network(self):
        network, subnet = self.dhcp_network(
            "10.0.0.0/24", dns_nameservers=["10.0.0.53", "8.8.8.8"],
            host_routes=[{"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}],
            allocation_pools=[{"start": "10.0.0.10", "end": "10.0.0.99"}])
        other = self.client.create("subnet", network_id=network["id"], cidr="10.0.1.0/24",
                                   enable_dhcp=False, gateway_ip=None)
        vm = self.client.create("port", network_id=network["id"], device_owner="compute:nova",
                                device_id="vm-1", admin_state_up=False)
        dhcp = self.dhcp_port(network["id"])
        self.assertEqual({
            "id": network["id"], "name": "net", "mtu": 1450, "admin_state_up": True,
            "subnets": [
                {"id": subnet["id"], "cidr": "10.0.0.0/24", "ip_version": 4,
                 "gateway_ip": "10.0.0.1", "enable_dhcp": True,
                 "dns_nameservers": ["10.0.0.53", "8.8.8.8"],
                 "host_routes": [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}],
                 "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.99"}]},
                {"id": other["id"], "cidr": "10.0.1.0/24", "ip_version": 4,
                 "gateway_ip": None, "enable_dhcp": False, "dns_nameservers": [],
                 "host_routes": [], "allocation_pools": [{"start": "10.0.1.1",
                                                          "end": "10.0.1.254"}]}],
            "ports": [
                {"id": vm["id"], "mac_address": vm["mac_address"],
                 "device_owner": "compute:nova", "device_id": "vm-1", "admin_state_up": False,
                 "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.0.0.10"}]},
                {"id": dhcp["id"], "mac_address": dhcp["mac_address"],
                 "device_owner": "network:dhcp", "device_id": "dhcp-host-1",
                 "admin_state_up": True,
                 "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.0.0.11"}]}],
        }, self.endpoint.get_network_info(host="host-1", network_id=network["id"]))

    def test_active_networks_are_the_callers_own_in_creation_order(self):
        first, _ = self.dhcp_network()
        second, _ = self.dhcp_network()
        self.report("host-2")
        theirs, _ = self.dhcp_network()
        self.assertEqual(["host-2"], self.hosts_of(theirs["id"]))
        self.assertEqual([first["id"], second["id"]], [
            n["id"] for n in self.endpoint.get_active_networks_info(host="host-1")])
        self.assertEqual(
            self.endpoint.get_network_info(host="host-2", network_id=theirs["id"]),
            self.endpoint.get_active_networks_info(host="host-2")[0])

    def test_none_for_a_network_the_host_does_not_serve(self):
        network, _ = self.dhcp_network()
        self.report("host-2")
        self.assertIsNotNone(self.endpoint.get_network_info(host="host-1",
                                                            network_id=network["id"]))
        for host, network_id in (("host-2", network["id"]), ("host-9", network["id"]),
                                 ("host-1", UNKNOWN_ID)):
            self.assertIsNone(self.endpoint.get_network_info(host=host, network_id=network_id))


class TestDhcpPort(RpcTestCase):
    def test_a_new_port_bound_to_the_host_with_its_prefix_lengths(self):
        network, subnet = self.dhcp_network("10.0.0.0/24")
        reply = self.dhcp_port(network["id"])
        port = self.ok("GET", f"/v2.0/ports/{reply['id']}")["port"]
        self.assertEqual({
            "id": port["id"], "mac_address": port["mac_address"], "network_id": network["id"],
            "device_id": "dhcp-host-1",
            "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.0.0.2",
                           "prefixlen": 24}]}, reply)
        self.assertEqual(("network:dhcp", "host-1", "ovs"), (
            port["device_owner"], port["binding:host_id"], port["binding:vif_type"]))

    def test_asking_again_returns_the_same_port(self):
        network, _ = self.dhcp_network()
        first = self.dhcp_port(network["id"])
        self.notifier.events.clear()
        self.assertEqual(first, self.dhcp_port(network["id"]))
        self.assertEqual([first["id"]], [p["id"] for p in self.dhcp_ports(network["id"])])
        self.assertEqual([], self.notifier.events)
        other = self.dhcp_port(network["id"], device_id="dhcp-other")
        self.assertNotEqual(first["id"], other["id"])

    def test_one_address_on_every_dhcp_subnet(self):
        network, first = self.dhcp_network("10.0.0.0/24")
        second = self.client.create("subnet", network_id=network["id"], cidr="10.0.1.0/24",
                                    enable_dhcp=False)
        third = self.client.create("subnet", network_id=network["id"], cidr="fd00::/64")
        reply = self.dhcp_port(network["id"])
        self.assertEqual([(first["id"], 24), (third["id"], 64)],
                         [(f["subnet_id"], f["prefixlen"]) for f in reply["fixed_ips"]])
        self.notifier.events.clear()
        self.ok("PUT", f"/v2.0/subnets/{second['id']}", {"subnet": {"enable_dhcp": True}})
        self.ok("PUT", f"/v2.0/subnets/{third['id']}", {"subnet": {"enable_dhcp": False}})
        again = self.dhcp_port(network["id"])
        self.assertEqual(reply["id"], again["id"])
        self.assertEqual([(first["id"], "10.0.0.2"), (second["id"], "10.0.1.2")],
                         [(f["subnet_id"], f["ip_address"]) for f in again["fixed_ips"]])
        self.assertEqual([reply["id"]], [p["port"]["id"] for p in self.notifier.sent(
            "port_update")])
        # Two subnet updates, then the port's new addresses.
        self.assertEqual([[network["id"]]] * 3, self.changed_networks())

    def test_a_port_asked_for_from_another_host_moves_there(self):
        self.report_ovs("host-2")
        network, _ = self.dhcp_network()
        reply = self.dhcp_port(network["id"])
        self.assertEqual(reply, self.dhcp_port(network["id"], host="host-2"))
        self.assertEqual("host-2", self.ok(
            "GET", f"/v2.0/ports/{reply['id']}")["port"]["binding:host_id"])

    def test_an_unknown_network_is_a_not_found_error(self):
        error = self.assertRaises(errors.NotFound, self.dhcp_port, UNKNOWN_ID)
        # What the agent gets, once the RPC server has encoded the error.
        remote = self.assertRaises(rpc.RemoteError, message.decode_reply,
                                   message.encode_error(error))
        self.assertEqual(("NotFound", f"Network {UNKNOWN_ID} could not be found."),
                         (remote.exc_type, remote.message))

    def test_release(self):
        network, _ = self.dhcp_network()
        reply = self.dhcp_port(network["id"])
        self.notifier.events.clear()
        self.assertIsNone(self.endpoint.release_dhcp_port(
            host="host-1", network_id=network["id"], device_id="dhcp-host-1"))
        self.assertEqual([], self.dhcp_ports(network["id"]))
        self.assertEqual([{"port_id": reply["id"]}], self.notifier.sent("port_delete"))
        self.assertEqual([[network["id"]]], self.changed_networks())
        # Gone already: nothing to do, nothing to say.
        self.notifier.events.clear()
        self.endpoint.release_dhcp_port(host="host-1", network_id=network["id"],
                                        device_id="dhcp-host-1")
        self.assertEqual([], self.notifier.events)

    def test_dhcp_ports_block_neither_subnet_nor_network_delete(self):
        network, subnet = self.dhcp_network()
        reply = self.dhcp_port(network["id"])
        self.ok("DELETE", f"/v2.0/subnets/{subnet['id']}")
        self.assertEqual([], self.ok("GET", f"/v2.0/ports/{reply['id']}")["port"]["fixed_ips"])
        self.ok("DELETE", f"/v2.0/networks/{network['id']}")
        self.assertEqual(404, self.client.request("GET", f"/v2.0/ports/{reply['id']}")[0])


class TestNotifications(RpcTestCase):
    def setUp(self):
        super().setUp()
        self.network, self.subnet = self.dhcp_network()
        self.notifier.events.clear()

    def test_port_create_update_and_delete(self):
        port = self.client.create("port", network_id=self.network["id"])
        path = f"/v2.0/ports/{port['id']}"
        self.ok("PUT", path, {"port": {"admin_state_up": False}})
        self.ok("PUT", path, {"port": {"fixed_ips": [{"subnet_id": self.subnet["id"],
                                                      "ip_address": "10.0.0.50"}]}})
        self.ok("DELETE", path)
        self.assertEqual([[self.network["id"]]] * 4, self.changed_networks())

    def test_a_port_change_dhcp_does_not_serve_says_nothing(self):
        port = self.client.create("port", network_id=self.network["id"])
        self.notifier.events.clear()
        self.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"name": "renamed"}})
        self.assertEqual([], self.changed_networks())
        self.assertEqual(1, len(self.notifier.sent("port_update")))

    def test_subnet_create_update_and_delete(self):
        subnet = self.client.create("subnet", network_id=self.network["id"], cidr="10.0.1.0/24")
        self.ok("PUT", f"/v2.0/subnets/{subnet['id']}", {"subnet": {"dns_nameservers": [
            "10.0.1.53"]}})
        self.ok("DELETE", f"/v2.0/subnets/{subnet['id']}")
        self.assertEqual([[self.network["id"]]] * 3, self.changed_networks())

    def test_network_update_and_delete(self):
        self.ok("PUT", f"/v2.0/networks/{self.network['id']}",
                {"network": {"admin_state_up": False}})
        self.assertEqual([[self.network["id"]]], self.changed_networks())
        self.ok("DELETE", f"/v2.0/networks/{self.network['id']}")
        self.assertEqual([{"network_id": self.network["id"]}],
                         self.notifier.sent("dhcp_network_deleted"))

    def test_router_and_floating_ip_ports(self):
        self.ok("PUT", f"/v2.0/networks/{self.network['id']}",
                {"network": {"router:external": True}})
        self.notifier.events.clear()
        router = self.client.create("router", external_gateway_info={
            "network_id": self.network["id"]})
        self.client.create("floatingip", floating_network_id=self.network["id"])
        # The gateway port, the floating IP's port.
        self.assertEqual([[self.network["id"]]] * 2, self.changed_networks())
        tenant, subnet = self.dhcp_network("10.9.0.0/24")
        self.notifier.events.clear()
        self.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
                {"subnet_id": subnet["id"]})
        self.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface",
                {"subnet_id": subnet["id"]})
        self.assertEqual([[tenant["id"]]] * 2, self.changed_networks())

    def test_failed_changes_say_nothing(self):
        self.client.request("POST", "/v2.0/ports", {"port": {"network_id": UNKNOWN_ID}})
        self.client.request("PUT", f"/v2.0/subnets/{self.subnet['id']}",
                            {"subnet": {"gateway_ip": "192.0.2.1"}})
        self.client.request("POST", f"/v2.0/agents/{self.agent_id('host-1')}/dhcp-networks",
                            {"network_id": self.network["id"]})
        self.assertEqual([], self.notifier.events)
