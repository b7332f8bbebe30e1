"""openstacksdk, the standard OpenStack client library, against the live server.

The SDK gets everything in code (no authentication, the server's URL) and
must not read clouds.yaml, OS_* variables or proxy settings: a test sends
traffic nowhere but to its own deployment.
"""

from __future__ import annotations

import ipaddress
import json
import os

import fixtures
import openstack.config
import openstack.connection
import openstack.exceptions
import requests
from keystoneauth1 import session as ks_session

from fullstack import base, environment, wait

# Where a client that took its settings from the environment would go: a
# loopback port nothing listens on, so such a request fails at once, locally.
NOWHERE = "http://127.0.0.9:9"


def _session_ignoring_environment(**kwargs) -> ks_session.Session:
    http = requests.Session()
    # No proxy, .netrc or CA bundle from the environment.
    http.trust_env = False
    return ks_session.Session(session=http, **kwargs)


def connect(url: str) -> openstack.connection.Connection:
    """An SDK connection to the server at ``url`` without authentication."""
    config = openstack.config.OpenStackConfig(
        load_yaml_config=False, load_envvars=False,
        session_constructor=_session_ignoring_environment)
    region = config.get_one(auth_type="none", auth={"endpoint": url}, api_timeout=30)
    return openstack.connection.Connection(config=region)


class MisleadingEnvironment(fixtures.Fixture):
    """A clouds.yaml, OS_* variables and a proxy that all point NOWHERE."""

    def _setUp(self) -> None:
        clouds_yaml = os.path.join(self.useFixture(fixtures.TempDir()).path, "clouds.yaml")
        with open(clouds_yaml, "w") as stream:
            # JSON is YAML.
            json.dump({"clouds": {"elsewhere": {
                "auth_type": "none", "auth": {"endpoint": NOWHERE},
                "network_endpoint_override": NOWHERE}}}, stream)
        variables = {
            "OS_CLIENT_CONFIG_FILE": clouds_yaml, "OS_CLOUD": "elsewhere",
            "OS_AUTH_TYPE": "password", "OS_AUTH_URL": NOWHERE + "/v3",
            "OS_ENDPOINT": NOWHERE, "OS_NETWORK_ENDPOINT_OVERRIDE": NOWHERE,
            "http_proxy": NOWHERE, "HTTP_PROXY": NOWHERE, "no_proxy": None, "NO_PROXY": None,
        }
        for name, value in variables.items():
            self.useFixture(fixtures.EnvironmentVariable(name, value))


class TestOpenStackSdk(base.BaseFullStackTestCase):
    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type="vxlan"),
            [environment.HostDescription(dhcp_agent=True)]))
        self.host = self.environment.hosts[0]

    def connect(self) -> openstack.connection.Connection:
        sdk = connect(self.environment.server.url)
        # Registered before anything the test creates, so it closes last.
        self.addCleanup(sdk.close)
        return sdk

    def test_network_subnet_and_port(self):
        sdk = self.connect()
        network = sdk.network.create_network(name="sdk-net", provider_network_type="vxlan")
        self.addCleanup(sdk.network.delete_network, network, ignore_missing=True)
        subnet = sdk.network.create_subnet(
            network_id=network.id, cidr="10.20.0.0/24", ip_version=4, enable_dhcp=True)
        self.addCleanup(sdk.network.delete_subnet, subnet, ignore_missing=True)
        port = sdk.network.create_port(
            network_id=network.id, name="sdk-port", binding_host_id=self.host.hostname)
        self.addCleanup(sdk.network.delete_port, port, ignore_missing=True)

        shown = self.client.show("network", network.id)
        self.assertEqual(("sdk-net", "vxlan", network.provider_segmentation_id, [subnet.id]),
                         (shown["name"], shown["provider:network_type"],
                          shown["provider:segmentation_id"], shown["subnets"]))
        self.assertIsInstance(shown["provider:segmentation_id"], int)
        shown = self.client.show("port", port.id)
        self.assertEqual(
            (network.id, "sdk-port", port.mac_address, self.host.hostname, "ovs"),
            (shown["network_id"], shown["name"], shown["mac_address"],
             shown["binding:host_id"], shown["binding:vif_type"]))
        [fixed_ip] = shown["fixed_ips"]
        self.assertEqual(subnet.id, fixed_ip["subnet_id"])
        self.assertIn(ipaddress.ip_address(fixed_ip["ip_address"]),
                      ipaddress.ip_network(subnet.cidr))

        self.assertEqual([network.id], [n.id for n in sdk.network.networks(name="sdk-net")])
        self.assertEqual([subnet.id], sdk.network.get_network(network.id).subnet_ids)
        self.assertEqual(shown["fixed_ips"], sdk.network.get_port(port.id).fixed_ips)
        self.wait_for_dhcp_port(sdk, network)

        sdk.network.delete_port(port)
        sdk.network.delete_network(network)
        self.assertEqual([], self.client.list_ports(network_id=network.id))
        self.assertEqual([], self.client.list_subnets(network_id=network.id))
        self.assertNotIn(network.id, [n["id"] for n in self.client.list_networks()])

    def wait_for_dhcp_port(self, sdk: openstack.connection.Connection, network) -> None:
        """The host's DHCP agent serves the network, as the SDK sees it."""
        def served() -> bool:
            hosts = [a.host for a in sdk.network.network_hosting_dhcp_agents(network)]
            owners = [p.device_owner for p in sdk.network.ports(
                network_id=network.id, fields=["id", "device_owner"])]
            return hosts == [self.host.hostname] and "network:dhcp" in owners

        wait.wait_until_true(
            served, timeout=60, sleep=0.2,
            exception=f"network {network.id} has no DHCP port from {self.host.hostname}'s "
                      f"DHCP agent after 60 s")

    def test_agents_are_listed_alive_whatever_the_environment_says(self):
        with MisleadingEnvironment():
            sdk = self.connect()
            agents = list(sdk.network.agents())
        expected = {(host.hostname, agent.binary)
                    for host in self.environment.hosts for agent in host.agents.values()}
        self.assertEqual(expected, {(a.host, a.binary) for a in agents})
        self.assertEqual([True] * len(expected), [a.is_alive for a in agents])
        self.assertEqual(
            sorted((a["id"], a["agent_type"], a["alive"]) for a in self.client.list_agents()),
            sorted((a.id, a.agent_type, a.is_alive) for a in agents))

    def test_security_groups_as_the_openstack_cli_makes_them(self):
        """The calls behind ``openstack security group create / rule create / list``
        and ``openstack port set --security-group``."""
        sdk = self.connect()
        group = sdk.network.create_security_group(name="sdk-sg", description="web")
        self.addCleanup(sdk.network.delete_security_group, group, ignore_missing=True)
        rule = sdk.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", ethertype="IPv4",
            protocol="tcp", port_range_min=22, port_range_max=22,
            remote_ip_prefix="0.0.0.0/0")
        self.assertEqual(("tcp", 22, 22, "0.0.0.0/0"),
                         (rule.protocol, rule.port_range_min, rule.port_range_max,
                          rule.remote_ip_prefix))
        listed = {g.name: g for g in sdk.network.security_groups()}
        self.assertIn("sdk-sg", listed)
        # Two egress rules every new group has, and the one just made.
        self.assertEqual(3, len(listed["sdk-sg"].security_group_rules))
        self.assertIn(rule.id, [r.id for r in sdk.network.security_group_rules(
            security_group_id=group.id)])
        network = sdk.network.create_network(name="sdk-sg-net")
        self.addCleanup(sdk.network.delete_network, network, ignore_missing=True)
        sdk.network.create_subnet(network_id=network.id, cidr="10.21.0.0/24", ip_version=4)
        port = sdk.network.create_port(network_id=network.id)
        self.addCleanup(sdk.network.delete_port, port, ignore_missing=True)
        sdk.network.update_port(port, security_group_ids=[group.id])
        self.assertEqual([group.id], self.client.show("port", port.id)["security_groups"])
        with self.assertRaises(openstack.exceptions.ConflictException):
            sdk.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", ethertype="IPv4",
                protocol="6", port_range_min=22, port_range_max=22)
        sdk.network.delete_security_group_rule(rule)
        sdk.network.delete_port(port)
        sdk.network.delete_security_group(group)
        self.assertNotIn(group.id, [g.id for g in sdk.network.security_groups()])
