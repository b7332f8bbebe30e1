"""Routers over HTTP: CRUD, the external gateway, and the ports they guard."""

from __future__ import annotations

from tests.unit import test_server_support as support

TIME_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
UNKNOWN_ID = "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11"


class TestRouterCrud(support.L3TestCase):
    def test_create_show_list_update_delete(self):
        router = self.router(name="r1")
        self.assertEqual(
            {"name": "r1", "description": "", "tenant_id": "project-1",
             "project_id": "project-1", "admin_state_up": True, "status": "ACTIVE",
             "external_gateway_info": None},
            {key: router[key] for key in (
                "name", "description", "tenant_id", "project_id", "admin_state_up", "status",
                "external_gateway_info")})
        self.assertRegex(router["created_at"], TIME_PATTERN)
        path = f"/v2.0/routers/{router['id']}"
        self.assertEqual({"router": router}, self.ok("GET", path))
        self.assertEqual({"routers": [router]}, self.ok("GET", "/v2.0/routers"))
        updated = self.ok("PUT", path, {"router": {"name": "r2", "admin_state_up": False}})
        self.assertEqual(("r2", False), (updated["router"]["name"],
                                         updated["router"]["admin_state_up"]))
        self.assertEqual((204, None), self.client.request("DELETE", path))
        self.assertError(404, "RouterNotFound", self.client.request("GET", path),
                         f"Router {router['id']} could not be found.")
        self.assertEqual([[router["id"]], [router["id"]]], self.updated_routers())
        self.assertEqual([{"router_id": router["id"]}], self.notifier.sent("router_deleted"))

    def test_list_filters(self):
        one = self.router(name="one")
        self.router(name="two")
        self.assertEqual([one["id"]], [r["id"] for r in self.ok(
            "GET", "/v2.0/routers?name=one")["routers"]])

    def test_unknown_attribute_is_400(self):
        self.assertError(400, "HTTPBadRequest", self.client.request(
            "POST", "/v2.0/routers", {"router": {"distributed": True}}), "'distributed'")

    def test_update_and_delete_of_an_unknown_router_are_404(self):
        path = f"/v2.0/routers/{UNKNOWN_ID}"
        self.assertError(404, "RouterNotFound",
                         self.client.request("PUT", path, {"router": {"name": "x"}}))
        self.assertError(404, "RouterNotFound", self.client.request("DELETE", path))

    def test_router_external_is_set_on_create_and_update(self):
        network = self.client.create("network", **{"router:external": True})
        self.assertTrue(network["router:external"])
        path = f"/v2.0/networks/{network['id']}"
        self.assertFalse(self.ok("PUT", path, {"network": {"router:external": False}})
                         ["network"]["router:external"])


class TestGateway(support.L3TestCase):
    def test_create_with_a_gateway_makes_the_gateway_port(self):
        external, subnet = self.external_network()
        router = self.router(external["id"])
        [port] = self.router_ports(router["id"])
        self.assertEqual(
            {"network_id": external["id"], "enable_snat": True,
             "external_fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "172.24.4.2"}]},
            router["external_gateway_info"])
        self.assertEqual(("network:router_gateway", router["id"], "", external["id"]),
                         (port["device_owner"], port["device_id"], port["tenant_id"],
                          port["network_id"]))
        self.assertEqual(router["external_gateway_info"]["external_fixed_ips"],
                         port["fixed_ips"])

    def test_gateway_on_a_network_that_is_not_external_is_400(self):
        network, _ = self.tenant_subnet("10.0.1.0/24")
        body = {"router": {"external_gateway_info": {"network_id": network["id"]}}}
        self.assertError(400, "HTTPBadRequest", self.client.request("POST", "/v2.0/routers", body),
                         "external_gateway_info")
        self.assertEqual([], self.ok("GET", "/v2.0/routers")["routers"])
        self.assertEqual([], self.ok("GET", f"/v2.0/ports?network_id={network['id']}")["ports"])

    def test_gateway_on_an_unknown_network_is_404(self):
        body = {"router": {"external_gateway_info": {"network_id": UNKNOWN_ID}}}
        self.assertError(404, "NetworkNotFound",
                         self.client.request("POST", "/v2.0/routers", body))

    def test_gateway_on_an_external_network_without_subnet_is_400(self):
        network = self.client.create("network", **{"router:external": True})
        body = {"router": {"external_gateway_info": {"network_id": network["id"]}}}
        self.assertError(400, "HTTPBadRequest", self.client.request("POST", "/v2.0/routers", body),
                         "has no subnet")

    def test_malformed_gateway_info_is_400(self):
        body = {"router": {"external_gateway_info": {"enable_snat": False}}}
        self.assertError(400, "HTTPBadRequest", self.client.request("POST", "/v2.0/routers", body),
                         "'network_id'")

    def test_set_on_update_then_clear_with_null_or_empty(self):
        external, _ = self.external_network()
        router = self.router()
        path = f"/v2.0/routers/{router['id']}"
        info = self.ok("PUT", path, {"router": {"external_gateway_info": {
            "network_id": external["id"], "enable_snat": False}}})["router"][
            "external_gateway_info"]
        self.assertEqual((external["id"], False), (info["network_id"], info["enable_snat"]))
        [port] = self.router_ports(router["id"])
        for cleared in (None, {}):
            self.assertIsNone(self.ok("PUT", path, {"router": {
                "external_gateway_info": cleared}})["router"]["external_gateway_info"])
            self.assertEqual([], self.router_ports(router["id"]))
            self.ok("PUT", path, {"router": {"external_gateway_info": {
                "network_id": external["id"]}}})
        self.assertError(404, "PortNotFound",
                         self.client.request("GET", f"/v2.0/ports/{port['id']}"))
        self.assertIn({"port_id": port["id"]}, self.notifier.sent("port_delete"))
        self.assertEqual([[router["id"]]] * 6, self.updated_routers())

    def test_enable_snat_changes_on_the_same_network_keep_the_port(self):
        external, _ = self.external_network()
        router = self.router(external["id"])
        [port] = self.router_ports(router["id"])
        info = self.ok("PUT", f"/v2.0/routers/{router['id']}", {"router": {
            "external_gateway_info": {"network_id": external["id"], "enable_snat": False}}})[
            "router"]["external_gateway_info"]
        self.assertFalse(info["enable_snat"])
        self.assertEqual([port["id"]], [p["id"] for p in self.router_ports(router["id"])])

    def test_requested_gateway_address(self):
        external, subnet = self.external_network()
        router = self.router(external_gateway_info={
            "network_id": external["id"],
            "external_fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "172.24.4.50"}]})
        self.assertEqual("172.24.4.50", router["external_gateway_info"]["external_fixed_ips"][0][
            "ip_address"])
        info = self.ok("PUT", f"/v2.0/routers/{router['id']}", {"router": {
            "external_gateway_info": {"network_id": external["id"], "external_fixed_ips": [
                {"ip_address": "172.24.4.60"}]}}})["router"]["external_gateway_info"]
        self.assertEqual(["172.24.4.60"], [ip["ip_address"]
                                           for ip in info["external_fixed_ips"]])

    def test_moving_to_another_external_network_replaces_the_port(self):
        first, _ = self.external_network()
        second, _ = self.external_network("172.24.5.0/24")
        router = self.router(first["id"])
        [old] = self.router_ports(router["id"])
        self.ok("PUT", f"/v2.0/routers/{router['id']}", {"router": {
            "external_gateway_info": {"network_id": second["id"]}}})
        [new] = self.router_ports(router["id"])
        self.assertEqual(second["id"], new["network_id"])
        self.assertEqual(404, self.client.request("GET", f"/v2.0/ports/{old['id']}")[0])

    def test_gateway_subnet_overlapping_an_interface_is_400(self):
        _, subnet = self.tenant_subnet("172.24.4.0/25")
        external, _ = self.external_network()
        router = self.router()
        self.add_interface(router["id"], subnet_id=subnet["id"])
        self.assertError(400, "BadRequest", self.client.request(
            "PUT", f"/v2.0/routers/{router['id']}",
            {"router": {"external_gateway_info": {"network_id": external["id"]}}}), "overlaps")

    def test_delete_takes_the_gateway_port_along(self):
        external, _ = self.external_network()
        router = self.router(external["id"])
        [port] = self.router_ports(router["id"])
        self.assertEqual(204, self.client.request("DELETE", f"/v2.0/routers/{router['id']}")[0])
        self.assertEqual(404, self.client.request("GET", f"/v2.0/ports/{port['id']}")[0])
        self.assertEqual([{"port_id": port["id"]}], self.notifier.sent("port_delete"))
        # The external network is free again.
        self.assertEqual(204, self.client.request("DELETE",
                                                  f"/v2.0/networks/{external['id']}")[0])


class TestGuardedPorts(support.L3TestCase):
    def test_gateway_port_cannot_be_deleted_through_ports(self):
        external, _ = self.external_network()
        router = self.router(external["id"])
        [port] = self.router_ports(router["id"])
        self.assertError(409, "ServicePortInUse", self.client.request(
            "DELETE", f"/v2.0/ports/{port['id']}"), "external_gateway_info")

    def test_interface_port_cannot_be_deleted_through_ports(self):
        _, subnet = self.tenant_subnet("10.0.1.0/24")
        router = self.router()
        info = self.add_interface(router["id"], subnet_id=subnet["id"])
        self.assertError(409, "ServicePortInUse", self.client.request(
            "DELETE", f"/v2.0/ports/{info['port_id']}"), "remove_router_interface")
        self.assertEqual(200, self.client.request("GET", f"/v2.0/ports/{info['port_id']}")[0])

    def test_a_port_that_only_looks_like_a_router_port_can_be_deleted(self):
        network, _ = self.tenant_subnet("10.0.1.0/24")
        port = self.client.create("port", network_id=network["id"],
                                  device_owner="network:router_interface", device_id="gone")
        self.assertEqual(204, self.client.request("DELETE", f"/v2.0/ports/{port['id']}")[0])

    def test_network_with_router_ports_cannot_be_deleted(self):
        network, subnet = self.tenant_subnet("10.0.1.0/24")
        self.add_interface(self.router()["id"], subnet_id=subnet["id"])
        self.assertError(409, "NetworkInUse", self.client.request(
            "DELETE", f"/v2.0/networks/{network['id']}"))
        self.assertError(409, "SubnetInUse", self.client.request(
            "DELETE", f"/v2.0/subnets/{subnet['id']}"))

    def test_external_network_with_a_gateway_cannot_stop_being_external(self):
        external, _ = self.external_network()
        self.router(external["id"])
        path = f"/v2.0/networks/{external['id']}"
        self.assertError(409, "ExternalNetworkInUse", self.client.request(
            "PUT", path, {"network": {"router:external": False}}), external["id"])
        self.assertError(409, "NetworkInUse", self.client.request("DELETE", path))
