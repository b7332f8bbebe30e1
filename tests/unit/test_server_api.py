"""The HTTP API end to end: a server on 127.0.0.1, SQLite, a fake notifier."""

from __future__ import annotations

import http.client
import json

import testtools

from tests.unit import test_server_support as support

TIME_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


class ApiTestCase(testtools.TestCase):
    overrides: dict = {}

    def setUp(self):
        super().setUp()
        fixture = self.useFixture(support.ServerFixture(self.overrides))
        self.server = fixture.server
        self.notifier = fixture.notifier
        self.client = fixture.client

    def assertError(self, expected_status, expected_type, response, message_part=None):
        status, body = response
        self.assertEqual(expected_status, status, body)
        self.assertEqual({"type", "message", "detail"}, set(body["NeutronError"]))
        self.assertEqual(expected_type, body["NeutronError"]["type"], body)
        if message_part is not None:
            self.assertIn(message_part, body["NeutronError"]["message"])

    def _network_with_subnet(self, cidr="10.0.0.0/24"):
        network = self.client.create("network", name="net")
        subnet = self.client.create("subnet", network_id=network["id"], cidr=cidr)
        return network, subnet


class TestDocuments(ApiTestCase):
    def test_version_document(self):
        status, body = self.client.request("GET", "/")
        self.assertEqual(200, status)
        self.assertEqual({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
            {"href": f"{self.server.url}/v2.0/", "rel": "self"}]}]}, body)

    def test_resource_index(self):
        status, body = self.client.request("GET", "/v2.0/")
        self.assertEqual(200, status)
        self.assertEqual(["networks", "subnets", "ports", "agents", "routers", "floatingips",
                          "security-groups", "security-group-rules"],
                         [r["collection"] for r in body["resources"]])
        self.assertEqual(f"{self.server.url}/v2.0/ports", body["resources"][2]["links"][0]["href"])

    def test_resource_index_without_the_trailing_slash(self):
        self.assertEqual(self.client.request("GET", "/v2.0/"),
                         self.client.request("GET", "/v2.0"))

    def test_links_name_the_address_the_client_used(self):
        # keystoneauth takes the API's base URL from the version document's
        # self link: it must be where the client reached the server, not the
        # bind address.
        for path, pointer in (("/", lambda body: body["versions"][0]["links"][0]),
                              ("/v2.0/", lambda body: body["resources"][0]["links"][0])):
            status, _, body = self.raw_get(path, {"Host": "neutrino.test:9696"})
            self.assertEqual(200, status)
            self.assertRegex(pointer(body)["href"], r"^http://neutrino\.test:9696/v2\.0/")

    def test_extensions(self):
        status, body = self.client.request("GET", "/v2.0/extensions")
        self.assertIn("binding", [e["alias"] for e in body["extensions"]])

    def test_show_extension(self):
        status, body = self.client.request("GET", "/v2.0/extensions/provider")
        self.assertEqual(200, status)
        self.assertEqual("Provider Network", body["extension"]["name"])

    def test_unknown_extension_is_404(self):
        self.assertError(404, "ExtensionNotFound",
                         self.client.request("GET", "/v2.0/extensions/qos"), "qos")

    def test_every_response_carries_a_request_id(self):
        ids = set()
        for path in ("/", "/v2.0/networks", "/v2.0/nowhere"):
            _, headers, _ = self.raw_get(path)
            self.assertRegex(headers["X-OpenStack-Request-Id"], r"^req-[0-9a-f-]{36}$")
            ids.add(headers["X-OpenStack-Request-Id"])
        self.assertEqual(3, len(ids))

    def raw_get(self, path, headers=None):
        """(status, headers, JSON body) of a GET with exactly these ``headers``."""
        connection = http.client.HTTPConnection(self.client.host, self.client.port, timeout=10)
        self.addCleanup(connection.close)
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, json.loads(response.read())


class TestHttpServer(ApiTestCase):
    def test_keep_alive_serves_several_requests_on_one_connection(self):
        connection = http.client.HTTPConnection(self.client.host, self.client.port, timeout=10)
        self.addCleanup(connection.close)
        for path in ("/", "/v2.0/networks", "/v2.0/nowhere"):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
        self.assertEqual(404, response.status)

    def test_a_burst_of_parallel_clients_is_served(self):
        # With socketserver's default listen backlog of 5, some of these were reset.
        statuses = support.run_in_threads(
            32, lambda index: self.client.request("POST", "/v2.0/networks", {"network": {}})[0])
        self.assertEqual([201] * 32, statuses)


class TestNetworks(ApiTestCase):
    def test_create_show_list_update_delete(self):
        network = self.client.create("network", name="net", tenant_id="project-1")
        self.assertEqual(
            {"name": "net", "tenant_id": "project-1", "project_id": "project-1",
             "admin_state_up": True, "status": "ACTIVE", "shared": False, "mtu": 1450,
             "subnets": [], "router:external": False, "provider:network_type": "vxlan",
             "provider:physical_network": None, "provider:segmentation_id": 1},
            {key: network[key] for key in (
                "name", "tenant_id", "project_id", "admin_state_up", "status", "shared", "mtu",
                "subnets", "router:external", "provider:network_type",
                "provider:physical_network", "provider:segmentation_id")})
        self.assertRegex(network["created_at"], TIME_PATTERN)
        path = f"/v2.0/networks/{network['id']}"
        self.assertEqual((200, {"network": network}), self.client.request("GET", path))
        self.assertEqual((200, {"networks": [network]}),
                         self.client.request("GET", "/v2.0/networks"))
        status, body = self.client.request("PUT", path, {"network": {"name": "renamed"}})
        self.assertEqual((200, "renamed"), (status, body["network"]["name"]))
        self.assertEqual((204, None), self.client.request("DELETE", path))
        self.assertError(404, "NetworkNotFound", self.client.request("GET", path),
                         f"Network {network['id']} could not be found.")
        self.assertEqual([{"network_id": network["id"]}], self.notifier.sent("network_delete"))

    def test_fields_pick_the_attributes_shown(self):
        network = self.client.create("network", name="net")
        wanted = "fields=id&fields=name&fields=no_such_attribute"
        self.assertEqual((200, {"networks": [{"id": network["id"], "name": "net"}]}),
                         self.client.request("GET", "/v2.0/networks?" + wanted))
        self.assertEqual((200, {"network": {"id": network["id"], "name": "net"}}),
                         self.client.request("GET", f"/v2.0/networks/{network['id']}?" + wanted))

    def test_provider_segmentation_id(self):
        network = self.client.create("network", **{"provider:network_type": "vxlan",
                                                   "provider:segmentation_id": 42})
        self.assertEqual(42, network["provider:segmentation_id"])
        body = {"network": {"provider:network_type": "vxlan", "provider:segmentation_id": 42}}
        self.assertError(409, "TunnelIdInUse", self.client.request("POST", "/v2.0/networks", body))
        # Outside the configured 1:1000: an administrator's choice, accepted.
        outside = self.client.create("network", **{"provider:network_type": "vxlan",
                                                   "provider:segmentation_id": 50000})
        self.assertEqual(50000, outside["provider:segmentation_id"])

    def test_unknown_network_type_is_400_naming_the_attribute(self):
        body = {"network": {"provider:network_type": "vxln"}}
        self.assertError(400, "HTTPBadRequest", self.client.request("POST", "/v2.0/networks", body),
                         "provider:network_type")

    def test_network_type_and_physical_network_cannot_change(self):
        network = self.client.create("network")
        for attribute, value in (("provider:network_type", "gre"),
                                 ("provider:physical_network", "physnet1")):
            self.assertError(400, "HTTPBadRequest", self.client.request(
                "PUT", f"/v2.0/networks/{network['id']}", {"network": {attribute: value}}),
                attribute)

    def test_only_a_vlan_network_may_change_its_segmentation_id(self):
        network = self.client.create("network")
        self.assertError(400, "HTTPBadRequest", self.client.request(
            "PUT", f"/v2.0/networks/{network['id']}",
            {"network": {"provider:segmentation_id": 7}}), "Only VLAN type networks")


    def test_mtu_is_given_on_create_and_changed_on_update(self):
        network = self.client.create("network", mtu=1400)
        self.assertEqual(1400, network["mtu"])
        status, body = self.client.request("PUT", f"/v2.0/networks/{network['id']}",
                                           {"network": {"mtu": 1300}})
        self.assertEqual((200, 1300), (status, body["network"]["mtu"]))
        self.assertEqual(1300, self.client.request(
            "GET", f"/v2.0/networks/{network['id']}")[1]["network"]["mtu"])

    def test_mtu_beyond_the_type_overhead_or_below_ipv4_is_400(self):
        # VXLAN over a 1500-byte physical MTU leaves 1450.
        self.assertError(400, "HTTPBadRequest", self.client.request(
            "POST", "/v2.0/networks", {"network": {"mtu": 1451}}), "maximum is 1450")
        network = self.client.create("network")
        for mtu, reason in ((1451, "maximum is 1450"), (67, "mtu"), ("big", "mtu")):
            self.assertError(400, "HTTPBadRequest", self.client.request(
                "PUT", f"/v2.0/networks/{network['id']}", {"network": {"mtu": mtu}}), reason)
        self.assertEqual(1450, self.client.request(
            "GET", f"/v2.0/networks/{network['id']}")[1]["network"]["mtu"])

    def test_delete_with_ports_is_409_but_dhcp_ports_go_with_the_network(self):
        network, _ = self._network_with_subnet()
        port = self.client.create("port", network_id=network["id"])
        dhcp = self.client.create("port", network_id=network["id"], device_owner="network:dhcp")
        path = f"/v2.0/networks/{network['id']}"
        self.assertError(409, "NetworkInUse", self.client.request("DELETE", path))
        self.client.request("DELETE", f"/v2.0/ports/{port['id']}")
        self.assertEqual(204, self.client.request("DELETE", path)[0])
        self.assertEqual(404, self.client.request("GET", f"/v2.0/ports/{dhcp['id']}")[0])


class TestVlanSegmentationIdUpdate(ApiTestCase):
    overrides = {"ml2.type_drivers": ["vxlan", "vlan"],
                 "ml2_type_vlan.network_vlan_ranges": ["physnet1:100:102"]}

    def vlan_network(self, vlan):
        return self.client.create("network", **{
            "provider:network_type": "vlan", "provider:physical_network": "physnet1",
            "provider:segmentation_id": vlan})

    def update(self, network, vlan):
        return self.client.request("PUT", f"/v2.0/networks/{network['id']}",
                                   {"network": {"provider:segmentation_id": vlan}})

    def test_new_vlan_is_taken_old_one_freed_and_agents_told(self):
        network = self.vlan_network(100)
        status, body = self.update(network, 2000)
        self.assertEqual((200, 2000), (status, body["network"]["provider:segmentation_id"]))
        told = self.notifier.sent("network_update")
        self.assertEqual([2000], [n["network"]["provider:segmentation_id"] for n in told])
        # 100 is free again, 2000 is not.
        self.assertEqual(100, self.vlan_network(100)["provider:segmentation_id"])
        self.assertError(409, "VlanIdInUse", self.client.request("POST", "/v2.0/networks", {
            "network": {"provider:network_type": "vlan",
                        "provider:physical_network": "physnet1",
                        "provider:segmentation_id": 2000}}))

    def test_a_vlan_in_use_is_409_and_nothing_changes(self):
        first, second = self.vlan_network(100), self.vlan_network(101)
        self.assertError(409, "VlanIdInUse", self.update(second, 100))
        self.assertEqual(101, self.client.request(
            "GET", f"/v2.0/networks/{second['id']}")[1]["network"]["provider:segmentation_id"])
        self.assertEqual([], self.notifier.sent("network_update"))
        self.assertEqual(100, self.client.request(
            "GET", f"/v2.0/networks/{first['id']}")[1]["network"]["provider:segmentation_id"])

    def test_an_invalid_vlan_is_400_naming_the_attribute(self):
        network = self.vlan_network(100)
        for vlan in (0, 4095, None):
            self.assertError(400, "HTTPBadRequest", self.update(network, vlan),
                             "provider:segmentation_id")

    def test_the_same_id_again_changes_nothing(self):
        network = self.vlan_network(100)
        self.assertEqual(200, self.update(network, 100)[0])
        self.assertEqual([], self.notifier.sent("network_update"))


class TestSubnets(ApiTestCase):
    def test_defaults(self):
        network, subnet = self._network_with_subnet()
        self.assertEqual(
            {"network_id": network["id"], "cidr": "10.0.0.0/24", "ip_version": 4,
             "gateway_ip": "10.0.0.1", "enable_dhcp": True, "dns_nameservers": [],
             "host_routes": [],
             "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.254"}]},
            {key: subnet[key] for key in (
                "network_id", "cidr", "ip_version", "gateway_ip", "enable_dhcp",
                "dns_nameservers", "host_routes", "allocation_pools")})
        status, body = self.client.request("GET", f"/v2.0/networks/{network['id']}")
        self.assertEqual([subnet["id"]], body["network"]["subnets"])

    def test_ipv6_and_no_gateway(self):
        network = self.client.create("network")
        subnet = self.client.create("subnet", network_id=network["id"], cidr="fd00:1::/64",
                                    gateway_ip=None)
        self.assertEqual((6, None), (subnet["ip_version"], subnet["gateway_ip"]))
        self.assertEqual("fd00:1::1", subnet["allocation_pools"][0]["start"])

    def test_bad_cidr_is_400_naming_it(self):
        network = self.client.create("network")
        body = {"subnet": {"network_id": network["id"], "cidr": "10.0.0.0/33"}}
        self.assertError(400, "HTTPBadRequest", self.client.request("POST", "/v2.0/subnets", body),
                         "Invalid input for cidr: '10.0.0.0/33' is not a valid CIDR")

    def test_bad_gateway_is_400_naming_it(self):
        network = self.client.create("network")
        body = {"subnet": {"network_id": network["id"], "cidr": "10.0.0.0/24",
                           "gateway_ip": "10.0.1.1"}}
        self.assertError(400, "HTTPBadRequest", self.client.request("POST", "/v2.0/subnets", body),
                         "gateway_ip")

    def test_unknown_network_is_404(self):
        body = {"subnet": {"network_id": "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11",
                           "cidr": "10.0.0.0/24"}}
        self.assertError(404, "NetworkNotFound", self.client.request("POST", "/v2.0/subnets", body))

    def test_overlapping_subnet_on_the_network_is_400(self):
        network, _ = self._network_with_subnet()
        body = {"subnet": {"network_id": network["id"], "cidr": "10.0.0.128/25"}}
        self.assertError(400, "HTTPBadRequest", self.client.request("POST", "/v2.0/subnets", body),
                         "overlaps")

    def test_delete_with_an_address_in_use_is_409(self):
        network, subnet = self._network_with_subnet()
        port = self.client.create("port", network_id=network["id"])
        path = f"/v2.0/subnets/{subnet['id']}"
        self.assertError(409, "SubnetInUse", self.client.request("DELETE", path))
        self.client.request("DELETE", f"/v2.0/ports/{port['id']}")
        self.assertEqual(204, self.client.request("DELETE", path)[0])

    def test_delete_takes_the_address_of_a_dhcp_port(self):
        network, subnet = self._network_with_subnet()
        dhcp = self.client.create("port", network_id=network["id"], device_owner="network:dhcp")
        self.assertEqual(204, self.client.request("DELETE", f"/v2.0/subnets/{subnet['id']}")[0])
        self.assertEqual([], self.client.request("GET", f"/v2.0/ports/{dhcp['id']}")[1]
                         ["port"]["fixed_ips"])
        self.assertEqual([dhcp["id"]], [n["port"]["id"] for n in self.notifier.sent("port_update")])

    def test_update_pools(self):
        _, subnet = self._network_with_subnet()
        status, body = self.client.request("PUT", f"/v2.0/subnets/{subnet['id']}", {"subnet": {
            "allocation_pools": [{"start": "10.0.0.100", "end": "10.0.0.110"}]}})
        self.assertEqual(200, status, body)
        self.assertEqual([{"start": "10.0.0.100", "end": "10.0.0.110"}],
                         body["subnet"]["allocation_pools"])


class TestPorts(ApiTestCase):
    def test_create_defaults(self):
        network, subnet = self._network_with_subnet()
        port = self.client.create("port", network_id=network["id"])
        self.assertEqual(
            {"network_id": network["id"], "status": "DOWN", "admin_state_up": True,
             "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.0.0.2"}],
             "device_id": "", "device_owner": "", "binding:host_id": "",
             "binding:vif_type": "unbound", "binding:vif_details": {}, "binding:profile": {},
             "binding:vnic_type": "normal"},
            {key: port[key] for key in (
                "network_id", "status", "admin_state_up", "fixed_ips", "device_id",
                "device_owner", "binding:host_id", "binding:vif_type", "binding:vif_details",
                "binding:profile", "binding:vnic_type")})
        self.assertRegex(port["mac_address"], r"^fa:16:3e(:[0-9a-f]{2}){3}$")

    def test_same_address_twice_is_409(self):
        network, _ = self._network_with_subnet()
        body = {"port": {"network_id": network["id"], "fixed_ips": [{"ip_address": "10.0.0.7"}]}}
        self.assertEqual(201, self.client.request("POST", "/v2.0/ports", body)[0])
        self.assertError(409, "IpAddressAlreadyAllocated",
                         self.client.request("POST", "/v2.0/ports", body), "10.0.0.7")

    def test_list_filters(self):
        network, _ = self._network_with_subnet()
        other = self.client.create("network")
        one = self.client.create("port", network_id=network["id"], device_owner="compute:a",
                                 **{"binding:host_id": "host-1"})
        two = self.client.create("port", network_id=network["id"], device_owner="network:dhcp",
                                 **{"binding:host_id": "host-2"})
        self.client.create("port", network_id=other["id"], **{"binding:host_id": "host-1"})

        def ids(query):
            status, body = self.client.request("GET", "/v2.0/ports?" + query)
            self.assertEqual(200, status, body)
            return sorted(port["id"] for port in body["ports"])

        self.assertEqual(sorted([one["id"], two["id"]]), ids(f"network_id={network['id']}"))
        self.assertEqual([two["id"]],
                         ids(f"network_id={network['id']}&device_owner=network:dhcp"))
        self.assertEqual(sorted([one["id"], two["id"]]), ids(
            f"network_id={network['id']}&binding:host_id=host-1&binding:host_id=host-2"))
        self.assertEqual([one["id"]], ids("fixed_ips=ip_address%3D10.0.0.2&fields=id"))

    def test_unknown_filter_is_400(self):
        self.assertError(400, "HTTPBadRequest",
                         self.client.request("GET", "/v2.0/ports?device_ower=x"), "device_ower")

    def test_update_notifies_the_full_port(self):
        network, _ = self._network_with_subnet()
        port = self.client.create("port", network_id=network["id"])
        status, body = self.client.request("PUT", f"/v2.0/ports/{port['id']}",
                                           {"port": {"admin_state_up": False}})
        self.assertEqual(200, status, body)
        self.assertEqual([{"port": body["port"]}], self.notifier.sent("port_update"))
        self.assertFalse(body["port"]["admin_state_up"])

    def test_delete_notifies(self):
        network, _ = self._network_with_subnet()
        port = self.client.create("port", network_id=network["id"])
        self.assertEqual(204, self.client.request("DELETE", f"/v2.0/ports/{port['id']}")[0])
        self.assertEqual([{"port_id": port["id"]}], self.notifier.sent("port_delete"))
        self.assertError(404, "PortNotFound",
                         self.client.request("DELETE", f"/v2.0/ports/{port['id']}"))

    def test_bound_port_and_status_from_the_agent(self):
        network, _ = self._network_with_subnet()
        self.server.rpc_endpoint.report_state(agent_state=support.agent_state("host-1"))
        port = self.client.create("port", network_id=network["id"],
                                  **{"binding:host_id": "host-1"})
        self.assertEqual(("ovs", {"port_filter": False}),
                         (port["binding:vif_type"], port["binding:vif_details"]))
        self.server.rpc_endpoint.update_device_up(device=port["id"], agent_id="a", host="host-1")
        status, body = self.client.request("GET", f"/v2.0/ports/{port['id']}")
        self.assertEqual("ACTIVE", body["port"]["status"])

    def test_concurrent_creates_over_http(self):
        network, _ = self._network_with_subnet()
        results = support.run_in_threads(8, lambda index: self.client.request(
            "POST", "/v2.0/ports", {"port": {"network_id": network["id"]}}))
        self.assertEqual([201] * 8, [status for status, _ in results])
        self.assertEqual(8, len({body["port"]["fixed_ips"][0]["ip_address"]
                                 for _, body in results}))


class TestAgents(ApiTestCase):
    def test_list_show_update_delete(self):
        self.server.rpc_endpoint.report_state(
            agent_state=support.agent_state("host-1", start_flag=True))
        status, body = self.client.request("GET", "/v2.0/agents?host=host-1&alive=true")
        self.assertEqual(200, status)
        [agent] = body["agents"]
        self.assertEqual(("Open vSwitch agent", "host-1", True, {"tunnel_types": ["vxlan"]}),
                         (agent["agent_type"], agent["host"], agent["alive"],
                          agent["configurations"]))
        for key in ("heartbeat_timestamp", "started_at", "created_at"):
            self.assertRegex(agent[key], TIME_PATTERN)
        path = f"/v2.0/agents/{agent['id']}"
        self.assertEqual((200, {"agent": agent}), self.client.request("GET", path))
        status, body = self.client.request("PUT", path, {"agent": {"admin_state_up": False}})
        self.assertFalse(body["agent"]["admin_state_up"])
        self.assertEqual(204, self.client.request("DELETE", path)[0])
        self.assertError(404, "AgentNotFound", self.client.request("GET", path))

    def test_agents_cannot_be_created(self):
        status, _ = self.client.request("POST", "/v2.0/agents", {"agent": {}})
        self.assertEqual(405, status)


class TestBadRequests(ApiTestCase):
    def test_malformed_json(self):
        self.assertError(400, "HTTPBadRequest",
                         self.client.request("POST", "/v2.0/networks", raw=b"{bad"),
                         "Malformed request body")

    def test_unknown_attribute(self):
        self.assertError(400, "HTTPBadRequest", self.client.request(
            "POST", "/v2.0/networks", {"network": {"nmae": "x"}}), "'nmae'")

    def test_body_without_the_resource_key(self):
        self.assertError(400, "HTTPBadRequest", self.client.request(
            "POST", "/v2.0/networks", {"name": "x"}), "'network'")

    def test_unknown_path_and_method(self):
        self.assertError(404, "HTTPNotFound", self.client.request("GET", "/v2.0/routerz"))
        self.assertError(405, "HTTPMethodNotAllowed",
                         self.client.request("DELETE", "/v2.0/networks"))
