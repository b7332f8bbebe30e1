"""openstacksdk, without authentication, against a server on 127.0.0.1.

The SDK first reads the version document at the endpoint it is given and
takes the v2.0 API's URL from its self link; then it calls the API there.
"""

from __future__ import annotations

import openstack.connection
import testtools

from tests.unit import test_server_support as support


class TestOpenStackSdk(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.server = self.useFixture(support.ServerFixture()).server
        # cloud=None: the SDK reads neither clouds.yaml nor OS_* variables.
        self.sdk = openstack.connection.Connection(
            auth_type="none", auth={"endpoint": self.server.url}, api_timeout=10)
        self.addCleanup(self.sdk.close)

    def test_discovery_finds_the_v2_api(self):
        self.assertEqual(f"{self.server.url}/v2.0/", self.sdk.network.get_endpoint())

    def test_network_subnet_and_port(self):
        network = self.sdk.network.create_network(name="sdk", provider_network_type="vxlan")
        self.assertEqual("vxlan", network.provider_network_type)
        subnet = self.sdk.network.create_subnet(
            network_id=network.id, cidr="10.0.0.0/24", ip_version=4)
        port = self.sdk.network.create_port(network_id=network.id, name="sdk-port")
        self.assertEqual([{"subnet_id": subnet.id, "ip_address": "10.0.0.2"}], port.fixed_ips)
        self.assertEqual(network.id, self.sdk.network.find_network("sdk").id)
        self.assertEqual([subnet.id], self.sdk.network.get_network(network.id).subnet_ids)
        self.sdk.network.delete_port(port)
        self.sdk.network.delete_network(network)
        self.assertEqual([], list(self.sdk.network.networks()))

    def test_fields_reach_the_server(self):
        self.sdk.network.create_network(name="sdk")
        networks = list(self.sdk.network.networks(fields=["id", "name"]))
        self.assertEqual([("sdk", None)], [(n.name, n.provider_network_type) for n in networks])

    def test_agents(self):
        self.server.core.agents.report_state(support.agent_state("host-1"))
        agents = list(self.sdk.network.agents())
        self.assertEqual([("neutrino-openvswitch-agent", "host-1", True)],
                         [(a.binary, a.host, a.is_alive) for a in agents])
