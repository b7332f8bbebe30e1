"""The Neutron v2.0 API of a live server, through the harness's client."""

from __future__ import annotations

import urllib.request

from fullstack import base, environment
from fullstack.resources import client


class TestApi(base.BaseFullStackTestCase):
    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type="vxlan"),
            [environment.HostDescription()]))

    def assert_api_error(self, status: int, func, *args, **kwargs) -> client.ApiError:
        exc = self.assertRaises(client.ApiError, func, *args, **kwargs)
        self.assertEqual(status, exc.status, str(exc))
        return exc

    def test_version_document(self):
        with urllib.request.urlopen(self.environment.server.url + "/") as resp:
            body = resp.read().decode()
        self.assertIn('"v2.0"', body)

    def test_network_lifecycle(self):
        net = self.safe_client.create_network(self.tenant_id, name="blue")
        self.assertEqual("vxlan", net["provider:network_type"])
        self.assertIsInstance(net["provider:segmentation_id"], int)
        self.assertEqual("blue", self.client.show("network", net["id"])["name"])
        self.assertIn(net["id"], [n["id"] for n in self.client.list_networks()])
        updated = self.client.update("network", net["id"], name="green")
        self.assertEqual("green", updated["name"])
        self.client.delete("network", net["id"])
        self.assert_api_error(404, self.client.show, "network", net["id"])

    def test_explicit_segmentation_id_and_conflict(self):
        net = self.safe_client.create_network(
            self.tenant_id, **{"provider:network_type": "vxlan",
                               "provider:segmentation_id": 4242})
        self.assertEqual(4242, net["provider:segmentation_id"])
        self.assert_api_error(409, self.safe_client.create_network, self.tenant_id,
                              **{"provider:network_type": "vxlan",
                                 "provider:segmentation_id": 4242})

    def bad_requests(self) -> list[client.ApiError]:
        """Three bad requests, each a 400 (a bad CIDR, network type, attribute)."""
        net = self.safe_client.create_network(self.tenant_id)
        return [
            self.assert_api_error(400, self.safe_client.create_subnet, self.tenant_id,
                                  net["id"], "10.0.0.0/33"),
            self.assert_api_error(400, self.safe_client.create_network, self.tenant_id,
                                  **{"provider:network_type": "vxln"}),
            self.assert_api_error(400, self.safe_client.create_network, self.tenant_id,
                                  colour="red"),
        ]

    def test_bad_input_is_a_400_naming_what_is_wrong(self):
        cidr, network_type, unknown = self.bad_requests()
        self.assertIn("10.0.0.0/33", cidr.message)
        self.assertIn("vxln", network_type.message)
        self.assertIn("colour", unknown.message)

    def test_bad_input_names_the_attribute(self):
        self.require_feature("errors-name-the-attribute",
                             "its 400s name the bad value, not always the attribute")
        cidr, network_type, _ = self.bad_requests()
        self.assertIn("cidr", cidr.message)
        self.assertIn("provider:network_type", network_type.message)

    def test_missing_network_is_404(self):
        exc = self.assert_api_error(404, self.safe_client.create_subnet, self.tenant_id,
                                    "00000000-0000-0000-0000-000000000000", "10.0.0.0/24")
        self.assertEqual("NetworkNotFound", exc.type)

    def test_ports_addresses_and_conflicts(self):
        net = self.safe_client.create_network(self.tenant_id)
        subnet = self.safe_client.create_subnet(self.tenant_id, net["id"], "10.1.0.0/24")
        self.assertEqual("10.1.0.1", subnet["gateway_ip"])
        port = self.safe_client.create_port(self.tenant_id, net["id"])
        self.assertEqual("DOWN", port["status"])
        address = port["fixed_ips"][0]["ip_address"]
        self.assertNotEqual("10.1.0.1", address)
        self.assertRegex(port["mac_address"], r"^fa:16:3e(:[0-9a-f]{2}){3}$")
        exc = self.assert_api_error(
            409, self.safe_client.create_port, self.tenant_id, net["id"],
            fixed_ips=[{"subnet_id": subnet["id"], "ip_address": address}])
        self.assertIn(address, exc.message)
        self.assert_api_error(409, self.client.delete, "subnet", subnet["id"])
        self.client.update("port", port["id"], name="renamed")
        self.assertEqual("renamed", self.client.show("port", port["id"])["name"])
        self.assertEqual([port["id"]], [p["id"] for p in self.client.list_ports(
            network_id=net["id"])])

    def test_binding_follows_live_agents(self):
        net = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, net["id"], "10.2.0.0/24")
        host = self.environment.hosts[0].hostname
        bound = self.safe_client.create_port(self.tenant_id, net["id"], hostname=host)
        self.assertEqual("ovs", bound["binding:vif_type"])
        nowhere = self.safe_client.create_port(self.tenant_id, net["id"],
                                               hostname="no-such-host")
        self.assertEqual("binding_failed", nowhere["binding:vif_type"])

    def test_agents_are_listed_alive(self):
        agents = self.client.list_agents()
        self.assertEqual(1, len(agents))
        agent = agents[0]
        self.assertTrue(agent["alive"])
        self.assertEqual("Open vSwitch agent", agent["agent_type"])
        self.assertEqual(self.environment.hosts[0].hostname, agent["host"])
        self.assertEqual(["vxlan", "gre"], agent["configurations"]["tunnel_types"])
