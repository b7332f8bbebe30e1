"""Floating IPs over HTTP: create, associate, move, disassociate, delete, and errors."""

from __future__ import annotations

from tests.unit import test_server_support as support

UNKNOWN_ID = "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11"


class FloatingIpTestCase(support.L3TestCase):
    def setUp(self):
        super().setUp()
        self.external, self.main_router, self.subnet, self.vm_port = self.routed_port()
        self.vm_ip = self.vm_port["fixed_ips"][0]["ip_address"]
        self.notifier.events.clear()

    def create(self, **attrs):
        attrs.setdefault("tenant_id", "project-1")
        return self.client.request("POST", "/v2.0/floatingips", {"floatingip": {
            "floating_network_id": self.external["id"], **attrs}})

    def created(self, **attrs):
        status, body = self.create(**attrs)
        self.assertEqual(201, status, body)
        return body["floatingip"]

    def update(self, fip_id, **attrs):
        return self.client.request("PUT", f"/v2.0/floatingips/{fip_id}", {"floatingip": attrs})

    def updated(self, fip_id, **attrs):
        status, body = self.update(fip_id, **attrs)
        self.assertEqual(200, status, body)
        return body["floatingip"]


class TestLifecycle(FloatingIpTestCase):
    def test_create_unassociated(self):
        fip = self.created()
        self.assertEqual(
            {"tenant_id": "project-1", "project_id": "project-1",
             "floating_network_id": self.external["id"], "floating_ip_address": "172.24.4.3",
             "fixed_ip_address": None, "port_id": None, "router_id": None, "status": "DOWN"},
            {key: fip[key] for key in (
                "tenant_id", "project_id", "floating_network_id", "floating_ip_address",
                "fixed_ip_address", "port_id", "router_id", "status")})
        self.assertEqual({"floatingip": fip}, self.ok("GET", f"/v2.0/floatingips/{fip['id']}"))
        self.assertEqual([fip], self.ok("GET", "/v2.0/floatingips?status=DOWN")["floatingips"])
        [port] = self.ok("GET", f"/v2.0/ports?device_id={fip['id']}")["ports"]
        self.assertEqual(("network:floatingip", "", [fip["floating_ip_address"]]),
                         (port["device_owner"], port["tenant_id"],
                          [ip["ip_address"] for ip in port["fixed_ips"]]))
        self.assertEqual([], self.updated_routers())

    def test_any_project_may_take_one_and_ask_for_an_address(self):
        fip = self.created(tenant_id="project-2", floating_ip_address="172.24.4.77")
        self.assertEqual(("project-2", "172.24.4.77"),
                         (fip["tenant_id"], fip["floating_ip_address"]))
        self.assertError(409, "IpAddressAlreadyAllocated",
                         self.create(floating_ip_address="172.24.4.77"))

    def test_create_associated(self):
        fip = self.created(port_id=self.vm_port["id"])
        self.assertEqual((self.vm_port["id"], self.vm_ip, self.main_router["id"], "ACTIVE"),
                         (fip["port_id"], fip["fixed_ip_address"], fip["router_id"],
                          fip["status"]))
        self.assertEqual([[self.main_router["id"]]], self.updated_routers())

    def test_disassociate_then_associate_again(self):
        fip = self.created(port_id=self.vm_port["id"])
        fip = self.updated(fip["id"], port_id=None)
        self.assertEqual((None, None, None, "DOWN"), (fip["port_id"], fip["fixed_ip_address"],
                                                      fip["router_id"], fip["status"]))
        fip = self.updated(fip["id"], port_id=self.vm_port["id"])
        self.assertEqual((self.vm_port["id"], "ACTIVE"), (fip["port_id"], fip["status"]))
        self.assertEqual([[self.main_router["id"]]] * 3, self.updated_routers())

    def test_move_to_another_port(self):
        other = self.client.create("port", network_id=self.vm_port["network_id"])
        fip = self.created(port_id=self.vm_port["id"])
        fip = self.updated(fip["id"], port_id=other["id"])
        self.assertEqual((other["id"], other["fixed_ips"][0]["ip_address"]),
                         (fip["port_id"], fip["fixed_ip_address"]))
        # The first port is free for another floating IP.
        self.created(port_id=self.vm_port["id"])

    def test_move_to_a_port_behind_another_router(self):
        network, subnet = self.tenant_subnet("10.0.2.0/24")
        second = self.router(self.external["id"])
        self.add_interface(second["id"], subnet_id=subnet["id"])
        port = self.client.create("port", network_id=network["id"])
        fip = self.created(port_id=self.vm_port["id"])
        self.notifier.events.clear()
        fip = self.updated(fip["id"], port_id=port["id"])
        self.assertEqual(second["id"], fip["router_id"])
        self.assertEqual([[self.main_router["id"], second["id"]]], self.updated_routers())

    def test_update_description_keeps_the_association(self):
        fip = self.created(port_id=self.vm_port["id"])
        fip = self.updated(fip["id"], description="web")
        self.assertEqual(("web", self.vm_port["id"]), (fip["description"], fip["port_id"]))

    def test_delete_takes_its_port_along(self):
        fip = self.created(port_id=self.vm_port["id"])
        [port] = self.ok("GET", f"/v2.0/ports?device_id={fip['id']}")["ports"]
        path = f"/v2.0/floatingips/{fip['id']}"
        self.assertEqual(204, self.client.request("DELETE", path)[0])
        self.assertError(404, "FloatingIPNotFound", self.client.request("GET", path),
                         f"Floating IP {fip['id']} could not be found")
        self.assertEqual(404, self.client.request("GET", f"/v2.0/ports/{port['id']}")[0])
        self.assertEqual([[self.main_router["id"]]] * 2, self.updated_routers())
        self.assertEqual([{"port_id": port["id"]}], self.notifier.sent("port_delete"))

    def test_deleting_the_fixed_port_disassociates(self):
        fip = self.created(port_id=self.vm_port["id"])
        self.assertEqual(204, self.client.request(
            "DELETE", f"/v2.0/ports/{self.vm_port['id']}")[0])
        fip = self.ok("GET", f"/v2.0/floatingips/{fip['id']}")["floatingip"]
        self.assertEqual((None, None, None, "DOWN"), (fip["port_id"], fip["fixed_ip_address"],
                                                      fip["router_id"], fip["status"]))
        self.assertEqual([[self.main_router["id"]]] * 2, self.updated_routers())


class TestErrors(FloatingIpTestCase):
    def test_a_network_that_is_not_external_is_400(self):
        self.assertError(400, "HTTPBadRequest", self.create(
            floating_network_id=self.vm_port["network_id"]),
            "Invalid input for floating_network_id")

    def test_an_unknown_network_is_404(self):
        self.assertError(404, "NetworkNotFound", self.create(floating_network_id=UNKNOWN_ID))

    def test_an_unknown_floating_ip_is_404(self):
        self.assertError(404, "FloatingIPNotFound", self.update(UNKNOWN_ID, port_id=None))
        self.assertError(404, "FloatingIPNotFound", self.client.request(
            "DELETE", f"/v2.0/floatingips/{UNKNOWN_ID}"))

    def test_an_unknown_port_is_404_and_creates_nothing(self):
        self.assertError(404, "PortNotFound", self.create(port_id=UNKNOWN_ID))
        self.assertEqual([], self.ok("GET", "/v2.0/floatingips")["floatingips"])
        self.assertEqual([], self.ok("GET", "/v2.0/ports?device_owner=network:floatingip")[
            "ports"])

    def test_a_subnet_no_router_reaches_is_404(self):
        network, subnet = self.tenant_subnet("10.0.2.0/24")
        port = self.client.create("port", network_id=network["id"])
        self.assertError(404, "ExternalGatewayForFloatingIPNotFound", self.create(
            port_id=port["id"]),
            f"External network {self.external['id']} is not reachable from subnet "
            f"{subnet['id']}")

    def test_a_router_without_the_gateway_does_not_reach(self):
        network, subnet = self.tenant_subnet("10.0.2.0/24")
        self.add_interface(self.router()["id"], subnet_id=subnet["id"])
        port = self.client.create("port", network_id=network["id"])
        fip = self.created()
        self.assertError(404, "ExternalGatewayForFloatingIPNotFound", self.update(
            fip["id"], port_id=port["id"]), "is not reachable from subnet")
        self.assertIsNone(self.ok("GET", f"/v2.0/floatingips/{fip['id']}")["floatingip"][
            "port_id"])

    def test_a_port_with_a_floating_ip_already_is_409(self):
        first = self.created(port_id=self.vm_port["id"])
        self.assertError(409, "FloatingIPPortAlreadyAssociated", self.create(
            port_id=self.vm_port["id"]), f"already has floating IP "
                                         f"{first['floating_ip_address']}")
        second = self.created()
        self.assertError(409, "FloatingIPPortAlreadyAssociated", self.update(
            second["id"], port_id=self.vm_port["id"]))

    def test_a_fixed_ip_the_port_lacks_is_400(self):
        self.assertError(400, "BadRequest", self.create(
            port_id=self.vm_port["id"], fixed_ip_address="10.0.1.99"),
            "does not have fixed ip 10.0.1.99")

    def test_a_fixed_ip_without_a_port_is_400(self):
        self.assertError(400, "HTTPBadRequest", self.create(fixed_ip_address=self.vm_ip),
                         "fixed_ip_address")

    def test_the_floating_port_cannot_be_deleted_through_ports(self):
        fip = self.created()
        [port] = self.ok("GET", f"/v2.0/ports?device_id={fip['id']}")["ports"]
        self.assertError(409, "ServicePortInUse", self.client.request(
            "DELETE", f"/v2.0/ports/{port['id']}"), "delete the floating IP")

    def test_the_interface_a_floating_ip_needs_cannot_be_removed(self):
        fip = self.created(port_id=self.vm_port["id"])
        self.assertError(409, "RouterInterfaceInUseByFloatingIP", self.interface(
            "remove", self.main_router["id"], subnet_id=self.subnet["id"]), self.subnet["id"])
        self.updated(fip["id"], port_id=None)
        self.assertEqual(200, self.interface("remove", self.main_router["id"],
                                             subnet_id=self.subnet["id"])[0])

    def test_the_gateway_a_floating_ip_needs_cannot_be_cleared(self):
        fip = self.created(port_id=self.vm_port["id"])
        path = f"/v2.0/routers/{self.main_router['id']}"
        self.assertError(409, "RouterExternalGatewayInUseByFloatingIp", self.client.request(
            "PUT", path, {"router": {"external_gateway_info": None}}), self.external["id"])
        self.client.request("DELETE", f"/v2.0/floatingips/{fip['id']}")
        self.assertEqual(200, self.client.request(
            "PUT", path, {"router": {"external_gateway_info": None}})[0])

    def test_an_external_network_without_ipv4_subnet_is_400(self):
        network = self.client.create("network", **{"router:external": True})
        self.assertError(400, "BadRequest", self.create(floating_network_id=network["id"]),
                         "does not contain any IPv4 subnet")
