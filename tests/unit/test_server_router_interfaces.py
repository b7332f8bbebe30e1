"""add_router_interface and remove_router_interface over HTTP, and their errors."""

from __future__ import annotations

from tests.unit import test_server_support as support

UNKNOWN_ID = "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11"


class TestBySubnet(support.L3TestCase):
    def setUp(self):
        super().setUp()
        self.network, self.subnet = self.tenant_subnet("10.0.1.0/24")
        self.router_id = self.router()["id"]

    def test_add_makes_a_port_with_the_gateway_address(self):
        info = self.add_interface(self.router_id, subnet_id=self.subnet["id"])
        self.assertEqual({"id": self.router_id, "tenant_id": "project-1",
                          "port_id": info["port_id"], "subnet_id": self.subnet["id"],
                          "subnet_ids": [self.subnet["id"]], "network_id": self.network["id"]},
                         info)
        port = self.port(info["port_id"])
        self.assertEqual(
            ("network:router_interface", self.router_id, "project-1",
             [{"subnet_id": self.subnet["id"], "ip_address": "10.0.1.1"}]),
            (port["device_owner"], port["device_id"], port["tenant_id"], port["fixed_ips"]))
        self.assertEqual([[self.router_id], [self.router_id]], self.updated_routers())

    def test_remove_deletes_the_port(self):
        info = self.add_interface(self.router_id, subnet_id=self.subnet["id"])
        status, removed = self.interface("remove", self.router_id, subnet_id=self.subnet["id"])
        self.assertEqual((200, info), (status, removed))
        self.assertEqual(404, self.client.request("GET", f"/v2.0/ports/{info['port_id']}")[0])
        self.assertEqual([{"port_id": info["port_id"]}], self.notifier.sent("port_delete"))
        self.assertEqual([[self.router_id]] * 3, self.updated_routers())
        # The subnet's gateway address is free for the next interface.
        self.add_interface(self.router_id, subnet_id=self.subnet["id"])

    def test_remove_by_the_port_id_of_an_interface_made_by_subnet(self):
        info = self.add_interface(self.router_id, subnet_id=self.subnet["id"])
        status, _ = self.interface("remove", self.router_id, port_id=info["port_id"])
        self.assertEqual(200, status)
        self.assertEqual([], self.router_ports(self.router_id))

    def test_subnet_without_gateway_ip_is_400(self):
        _, subnet = self.tenant_subnet("10.0.2.0/24", gateway_ip=None)
        self.assertError(400, "BadRequest", self.interface(
            "add", self.router_id, subnet_id=subnet["id"]), "must have a gateway IP")

    def test_the_same_subnet_twice_is_400(self):
        self.add_interface(self.router_id, subnet_id=self.subnet["id"])
        self.assertError(400, "BadRequest", self.interface(
            "add", self.router_id, subnet_id=self.subnet["id"]),
            f"already has a port on subnet {self.subnet['id']}")
        self.assertEqual(1, len(self.router_ports(self.router_id)))

    def test_overlapping_subnet_of_another_network_is_400(self):
        self.add_interface(self.router_id, subnet_id=self.subnet["id"])
        _, overlapping = self.tenant_subnet("10.0.1.128/25")
        self.assertError(400, "BadRequest", self.interface(
            "add", self.router_id, subnet_id=overlapping["id"]), "overlaps with cidr 10.0.1.0/24")

    def test_gateway_address_taken_by_another_port_is_409(self):
        self.client.create("port", network_id=self.network["id"],
                           fixed_ips=[{"ip_address": "10.0.1.1"}])
        self.assertError(409, "IpAddressAlreadyAllocated", self.interface(
            "add", self.router_id, subnet_id=self.subnet["id"]), "10.0.1.1")

    def test_unknown_router_or_subnet_is_404(self):
        self.assertError(404, "RouterNotFound", self.interface(
            "add", UNKNOWN_ID, subnet_id=self.subnet["id"]))
        self.assertError(404, "SubnetNotFound", self.interface(
            "add", self.router_id, subnet_id=UNKNOWN_ID))
        self.assertError(404, "SubnetNotFound", self.interface(
            "remove", self.router_id, subnet_id=UNKNOWN_ID))

    def test_removing_a_subnet_the_router_is_not_on_is_404(self):
        self.assertError(404, "RouterInterfaceNotFoundForSubnet", self.interface(
            "remove", self.router_id, subnet_id=self.subnet["id"]),
            f"has no interface on subnet {self.subnet['id']}")

    def test_bodies_must_name_one_subnet_or_port(self):
        port = self.client.create("port", network_id=self.network["id"], tenant_id="project-1")
        self.assertError(400, "BadRequest", self.interface("add", self.router_id),
                         "Either subnet_id or port_id must be specified")
        self.assertError(400, "BadRequest", self.interface(
            "add", self.router_id, subnet_id=self.subnet["id"], port_id=port["id"]),
            "Cannot specify both")
        self.assertError(400, "HTTPBadRequest", self.interface(
            "add", self.router_id, subnet="x"), "'subnet'")
        self.assertError(400, "HTTPBadRequest", self.interface(
            "add", self.router_id, subnet_id="x"), "Invalid input for subnet_id")


class TestByPort(support.L3TestCase):
    def setUp(self):
        super().setUp()
        self.network, self.subnet = self.tenant_subnet("10.0.1.0/24")
        self.router_id = self.router()["id"]

    def _port(self, **attrs):
        attrs.setdefault("tenant_id", "project-1")
        return self.client.create("port", network_id=self.network["id"], **attrs)

    def test_add_takes_the_port_over(self):
        port = self._port()
        info = self.add_interface(self.router_id, port_id=port["id"])
        self.assertEqual({"id": self.router_id, "tenant_id": "project-1", "port_id": port["id"],
                          "subnet_id": self.subnet["id"], "subnet_ids": [self.subnet["id"]],
                          "network_id": self.network["id"]}, info)
        adopted = self.port(port["id"])
        self.assertEqual(("network:router_interface", self.router_id, port["fixed_ips"]),
                         (adopted["device_owner"], adopted["device_id"], adopted["fixed_ips"]))
        self.assertEqual([port["id"]], [sent["port"]["id"]
                                        for sent in self.notifier.sent("port_update")])

    def test_remove_deletes_the_port_as_neutron_does(self):
        port = self._port()
        self.add_interface(self.router_id, port_id=port["id"])
        status, info = self.interface("remove", self.router_id, port_id=port["id"])
        self.assertEqual((200, port["id"]), (status, info["port_id"]))
        self.assertEqual(404, self.client.request("GET", f"/v2.0/ports/{port['id']}")[0])

    def test_a_port_with_a_device_is_409(self):
        port = self._port(device_id="some-vm", device_owner="compute:nova")
        self.assertError(409, "PortInUse", self.interface(
            "add", self.router_id, port_id=port["id"]), "already has an attached device some-vm")

    def test_a_port_of_another_router_is_409(self):
        port = self._port()
        self.add_interface(self.router_id, port_id=port["id"])
        other = self.router()["id"]
        self.assertError(409, "PortInUse", self.interface("add", other, port_id=port["id"]),
                         "already has an attached device")

    def test_a_port_of_another_project_is_409_saying_so(self):
        port = self._port(tenant_id="project-2")
        self.assertError(409, "PortInUse", self.interface(
            "add", self.router_id, port_id=port["id"]), "belongs to project 'project-2'")
        self.assertEqual("", self.port(port["id"])["device_owner"])

    def test_a_port_without_address_is_400(self):
        port = self._port(fixed_ips=[])
        self.assertError(400, "BadRequest", self.interface(
            "add", self.router_id, port_id=port["id"]), "at least one fixed IP")

    def test_a_port_on_a_subnet_the_router_has_is_400(self):
        self.add_interface(self.router_id, subnet_id=self.subnet["id"])
        port = self._port()
        self.assertError(400, "BadRequest", self.interface(
            "add", self.router_id, port_id=port["id"]), "already has a port on subnet")

    def test_unknown_port_is_404(self):
        self.assertError(404, "PortNotFound", self.interface(
            "add", self.router_id, port_id=UNKNOWN_ID))

    def test_removing_a_port_that_is_not_an_interface_is_404(self):
        port = self._port()
        self.assertError(404, "RouterInterfaceNotFound", self.interface(
            "remove", self.router_id, port_id=port["id"]),
            f"does not have an interface with id {port['id']}")

    def test_removing_by_port_and_another_subnet_is_400(self):
        port = self._port()
        self.add_interface(self.router_id, port_id=port["id"])
        _, other = self.tenant_subnet("10.0.2.0/24")
        self.assertError(400, "SubnetMismatchForPort", self.interface(
            "remove", self.router_id, port_id=port["id"], subnet_id=other["id"]))

    def test_router_with_interfaces_cannot_be_deleted(self):
        port = self._port()
        self.add_interface(self.router_id, port_id=port["id"])
        path = f"/v2.0/routers/{self.router_id}"
        self.assertError(409, "RouterInUse", self.client.request("DELETE", path),
                         "still has ports")
        self.interface("remove", self.router_id, port_id=port["id"])
        self.assertEqual(204, self.client.request("DELETE", path)[0])
