"""Routers and floating IPs against a real MySQL (MariaDB), where requests really race."""

from __future__ import annotations

from tests.functional.test_server_mysql import MySqlServerTestCase
from tests.unit import test_server_support as support


class TestL3OnMySql(MySqlServerTestCase):
    def _request(self, method, path, body=None):
        status, result = self.client.request(method, path, body)
        self.assertIn(status, (200, 201, 204), result)
        return result

    def _external_network(self):
        network = self.client.create("network", **{"router:external": True})
        self.client.create("subnet", network_id=network["id"], cidr="172.24.4.0/24")
        return network

    def _tenant_subnet(self, cidr):
        network = self.client.create("network")
        return network, self.client.create("subnet", network_id=network["id"], cidr=cidr)

    def test_lifecycle_leaves_nothing_behind(self):
        self.server.rpc_endpoint.report_state(agent_state=support.l3_agent_state("host-1"))
        external = self._external_network()
        network, subnet = self._tenant_subnet("10.0.1.0/24")
        router = self.client.create("router", external_gateway_info={
            "network_id": external["id"]})
        base = f"/v2.0/routers/{router['id']}"
        self._request("PUT", base + "/add_router_interface", {"subnet_id": subnet["id"]})
        port = self.client.create("port", network_id=network["id"])
        fip = self.client.create("floatingip", floating_network_id=external["id"],
                                 port_id=port["id"])
        [synced] = self.server.rpc_endpoint.sync_routers(host="host-1")
        self.assertEqual(([fip["id"]], 1), ([f["id"] for f in synced["floating_ips"]],
                                            len(synced["interfaces"])))
        self._request("DELETE", f"/v2.0/floatingips/{fip['id']}")
        self._request("PUT", base + "/remove_router_interface", {"subnet_id": subnet["id"]})
        self._request("DELETE", base)
        self._request("DELETE", f"/v2.0/ports/{port['id']}")
        for network_id in (network["id"], external["id"]):
            self._request("DELETE", f"/v2.0/networks/{network_id}")
        self.assertEqual([], self._request("GET", "/v2.0/ports")["ports"])

    def test_racing_interfaces_on_one_router_are_checked_one_after_another(self):
        router = self.client.create("router")
        subnets = [self._tenant_subnet(f"10.0.{n}.0/24")[1] for n in range(6)]
        # Two networks, one CIDR: only one of them may join the router.
        subnets += [self._tenant_subnet("10.9.0.0/24")[1] for _ in range(2)]
        results = support.run_in_threads(len(subnets), lambda index: self.client.request(
            "PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
            {"subnet_id": subnets[index]["id"]}))
        self.assertEqual([200] * 6, [status for status, _ in results[:6]])
        self.assertEqual([200, 400], sorted(status for status, _ in results[6:]))
        self.assertEqual(7, len(self._request(
            "GET", f"/v2.0/ports?device_id={router['id']}")["ports"]))

    def test_racing_floating_ips_for_one_port_give_one(self):
        external = self._external_network()
        network, subnet = self._tenant_subnet("10.0.1.0/24")
        router = self.client.create("router", external_gateway_info={
            "network_id": external["id"]})
        self._request("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
                      {"subnet_id": subnet["id"]})
        port = self.client.create("port", network_id=network["id"])
        results = support.run_in_threads(4, lambda index: self.client.request(
            "POST", "/v2.0/floatingips", {"floatingip": {
                "floating_network_id": external["id"], "port_id": port["id"]}}))
        self.assertEqual([201, 409, 409, 409], sorted(status for status, _ in results))

    def test_racing_syncs_schedule_each_router_once(self):
        routers = [self.client.create("router")["id"] for _ in range(6)]
        for host in ("host-1", "host-2"):
            self.server.rpc_endpoint.report_state(agent_state=support.l3_agent_state(host))
        synced = support.run_in_threads(2, lambda index: [
            r["id"] for r in self.server.rpc_endpoint.sync_routers(host=f"host-{index + 1}")])
        self.assertEqual(sorted(routers), sorted(synced[0] + synced[1]))
        for router_id in routers:
            self.assertEqual(1, len(self._request(
                "GET", f"/v2.0/routers/{router_id}/l3-agents")["agents"]))
