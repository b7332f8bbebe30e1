"""DHCP scheduling and DHCP ports against a real MySQL (MariaDB), where requests really race."""

from __future__ import annotations

from tests.functional.test_server_mysql import MySqlServerTestCase
from tests.unit import test_server_support as support

HOSTS = ("host-1", "host-2", "host-3")


class TestDhcpOnMySql(MySqlServerTestCase):
    def _request(self, method, path, body=None):
        status, result = self.client.request(method, path, body)
        self.assertIn(status, (200, 201, 204), result)
        return result

    def _dhcp_network(self, cidr="10.0.0.0/24"):
        network = self.client.create("network")
        self.client.create("subnet", network_id=network["id"], cidr=cidr)
        return network

    def _hosts_of(self, network_id):
        return [agent["host"] for agent in self._request(
            "GET", f"/v2.0/networks/{network_id}/dhcp-agents")["agents"]]

    def test_lifecycle_leaves_nothing_behind(self):
        endpoint = self.server.rpc_endpoint
        endpoint.report_state(agent_state=support.dhcp_agent_state("host-1"))
        network = self._dhcp_network()
        port = endpoint.get_dhcp_port(host="host-1", network_id=network["id"],
                                      device_id="dhcp-1")
        [info] = endpoint.get_active_networks_info(host="host-1")
        self.assertEqual([port["id"]], [p["id"] for p in info["ports"]])
        self._request("DELETE", f"/v2.0/networks/{network['id']}")
        self.assertEqual([], self._request("GET", "/v2.0/ports")["ports"])
        self.assertEqual([], endpoint.get_active_networks_info(host="host-1"))

    def test_racing_agents_give_each_network_its_one_agent(self):
        networks = [self._dhcp_network()["id"] for _ in range(20)]
        for host in HOSTS:
            self.server.rpc_endpoint.report_state(agent_state=support.dhcp_agent_state(host))
        served = support.run_in_threads(len(HOSTS), lambda index: [
            n["id"] for n in self.server.rpc_endpoint.get_active_networks_info(
                host=HOSTS[index])])
        self.assertEqual(sorted(networks), sorted(sum(served, [])))
        for network_id in networks:
            self.assertEqual(1, len(self._hosts_of(network_id)))

    def test_racing_subnets_fill_but_do_not_overfill_a_network(self):
        self.server.plugins.service("dhcp_agent_scheduler").scheduler.agents_per_network = 2
        for host in HOSTS:
            self.server.rpc_endpoint.report_state(agent_state=support.dhcp_agent_state(host))
        network = self.client.create("network")
        support.run_in_threads(4, lambda index: self.client.create(
            "subnet", network_id=network["id"], cidr=f"10.0.{index}.0/24"))
        self.assertEqual(2, len(self._hosts_of(network["id"])))

    def test_racing_calls_for_one_device_make_one_port(self):
        self.server.rpc_endpoint.report_state(agent_state=support.dhcp_agent_state("host-1"))
        network = self._dhcp_network()
        ports = support.run_in_threads(4, lambda index: self.server.rpc_endpoint.get_dhcp_port(
            host="host-1", network_id=network["id"], device_id="dhcp-1"))
        self.assertEqual(1, len({port["id"] for port in ports}))
        self.assertEqual(1, len(self._request(
            "GET", f"/v2.0/ports?network_id={network['id']}")["ports"]))
