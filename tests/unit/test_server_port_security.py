"""Ports in security groups: port security, membership, what agents hear and ask.

As ML2 with its port_security extension driver answers (Neutron 29): which
ports get the default group, which errors refuse a port's groups, the
``security_groups_*_updated`` notifications, and the agents'
``security_group_info_for_devices`` RPC call.
"""

from __future__ import annotations

from tests.unit import test_server_support as support

UNKNOWN_ID = "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11"
OTHER_UNKNOWN_ID = "0b7d5c4a-9e1f-4a3b-8c2d-1e0f9a8b7c6d"


class TestPortGroups(support.SecurityGroupTestCase):
    def test_a_port_gets_the_default_group_unless_it_names_others(self):
        web, db = self.group(), self.group(name="db")
        default = self.port()
        named = self.port(security_groups=[web["id"], db["id"], web["id"]])
        none = self.port(security_groups=[])
        null = self.port(security_groups=None)
        self.assertEqual([[self.default_group()["id"]], sorted([web["id"], db["id"]]), [], []],
                         [sorted(p["security_groups"]) for p in (default, named, none, null)])
        self.assertEqual({True}, {p["port_security_enabled"]
                                  for p in (default, named, none, null)})

    def test_a_port_without_an_address_still_gets_the_default_group(self):
        # ML2 does not ask for an address (only the non-ML2 mixin did).
        bare = self.client.create("network", name="bare")
        port = self.port(network_id=bare["id"])
        self.assertEqual(([], [self.default_group()["id"]]),
                         (port["fixed_ips"], port["security_groups"]))
        self.assertEqual(200, self.update_port(port["id"], security_groups=[])[0])

    def test_unknown_groups_are_404_naming_them(self):
        status, body = self.client.request("POST", "/v2.0/ports", {"port": {
            "network_id": self.network["id"], "security_groups": [UNKNOWN_ID,
                                                                  OTHER_UNKNOWN_ID]}})
        self.assertError(404, "SecurityGroupNotFound", (status, body),
                         f"Security group {UNKNOWN_ID}, {OTHER_UNKNOWN_ID} does not exist")
        self.assertError(400, "HTTPBadRequest", self.client.request("POST", "/v2.0/ports", {
            "port": {"network_id": self.network["id"], "security_groups": ["nope"]}}))
        self.assertEqual([], self.ok("GET", "/v2.0/ports")["ports"])

    def test_without_port_security_a_port_has_no_groups(self):
        port = self.port(port_security_enabled=False)
        self.assertEqual((False, []), (port["port_security_enabled"], port["security_groups"]))
        group = self.group()
        status, body = self.client.request("POST", "/v2.0/ports", {"port": {
            "network_id": self.network["id"], "port_security_enabled": False,
            "security_groups": [group["id"]]}})
        self.assertError(400, "PortSecurityAndIPRequiredForSecurityGroups", (status, body),
                         "Port security must be enabled and port must have an IP address in "
                         "order to use security groups.")

    def test_disabling_port_security_needs_the_groups_gone(self):
        port = self.port()
        self.assertError(409, "PortSecurityPortHasSecurityGroup", self.update_port(
            port["id"], port_security_enabled=False),
            "Port has security group associated. Cannot disable port security or IP address "
            "until security group is removed.")
        status, body = self.update_port(port["id"], port_security_enabled=False,
                                        security_groups=[])
        self.assertEqual((200, False, []), (status, body["port"]["port_security_enabled"],
                                            body["port"]["security_groups"]))
        group = self.group()
        self.assertError(400, "PortSecurityAndIPRequiredForSecurityGroups", self.update_port(
            port["id"], security_groups=[group["id"]]))
        # Turning it back on adds no group by itself.
        status, body = self.update_port(port["id"], port_security_enabled=True)
        self.assertEqual((200, []), (status, body["port"]["security_groups"]))
        status, body = self.update_port(port["id"], security_groups=[group["id"]])
        self.assertEqual((200, [group["id"]]), (status, body["port"]["security_groups"]))

    def test_a_port_takes_its_networks_port_security(self):
        closed = self.client.create("network", name="open", port_security_enabled=False)
        self.assertEqual((True, False), (self.network["port_security_enabled"],
                                         closed["port_security_enabled"]))
        port = self.port(network_id=closed["id"])
        self.assertEqual((False, []), (port["port_security_enabled"], port["security_groups"]))
        asked = self.port(network_id=closed["id"], port_security_enabled=True)
        self.assertEqual((True, [self.default_group()["id"]]),
                         (asked["port_security_enabled"], asked["security_groups"]))
        # Groups alone do not turn port security on (ML2 has no such convenience).
        self.assertError(400, "PortSecurityAndIPRequiredForSecurityGroups", self.client.request(
            "POST", "/v2.0/ports", {"port": {"network_id": closed["id"],
                                             "security_groups": [self.group()["id"]]}}))
        self.ok("PUT", f"/v2.0/networks/{self.network['id']}",
                {"network": {"port_security_enabled": False}})
        self.assertFalse(self.port()["port_security_enabled"])

    def test_ports_of_the_network_itself_are_never_filtered(self):
        dhcp = self.port(device_owner="network:dhcp")
        router = self.port(device_owner="network:router_interface",
                           port_security_enabled=True)
        self.assertEqual([(False, []), (False, [])],
                         [(p["port_security_enabled"], p["security_groups"])
                          for p in (dhcp, router)])
        self.assertError(400, "PortSecurityAndIPRequiredForSecurityGroups", self.client.request(
            "POST", "/v2.0/ports", {"port": {"network_id": self.network["id"],
                                             "device_owner": "network:dhcp",
                                             "security_groups": [self.group()["id"]]}}))

    def test_stateful_and_stateless_groups_do_not_mix_on_a_port(self):
        stateful, stateless = self.group(), self.group(name="raw", stateful=False)
        conflict = ("Error Cannot apply both stateful and stateless security groups on the "
                    "same port at the same time while attempting the operation.")
        self.assertError(409, "SecurityGroupConflict", self.client.request(
            "POST", "/v2.0/ports", {"port": {"network_id": self.network["id"],
                                             "security_groups": [stateful["id"],
                                                                 stateless["id"]]}}),
            conflict)
        port = self.port(security_groups=[stateless["id"]])
        self.assertError(409, "SecurityGroupConflict", self.update_port(
            port["id"], security_groups=[stateless["id"], stateful["id"]]), conflict)
        self.assertEqual([stateless["id"]], self.ok("GET", f"/v2.0/ports/{port['id']}")[
            "port"]["security_groups"])

    def test_an_update_replaces_the_groups_and_keeps_them_otherwise(self):
        web, db = self.group(), self.group(name="db")
        port = self.port(security_groups=[web["id"]])
        self.assertEqual([db["id"]], self.update_port(port["id"], security_groups=[db["id"]])[
            1]["port"]["security_groups"])
        status, body = self.update_port(port["id"], name="renamed", fixed_ips=[])
        self.assertEqual((200, [db["id"]], []), (status, body["port"]["security_groups"],
                                                 body["port"]["fixed_ips"]))


class TestNotifications(support.SecurityGroupTestCase):
    def rule_updates(self) -> list[list[str]]:
        return [sent["security_groups"]
                for sent in self.notifier.sent("security_groups_rule_updated")]

    def member_updates(self) -> list[list[str]]:
        return [sent["security_groups"]
                for sent in self.notifier.sent("security_groups_member_updated")]

    def test_creating_and_deleting_a_rule_tells_its_group(self):
        group = self.group()
        self.assertEqual([], self.rule_updates())
        rule = self.rule(group["id"], protocol="tcp", port_range_min=22, port_range_max=22)
        self.ok("DELETE", f"/v2.0/security-group-rules/{rule['id']}")
        self.assertEqual([[group["id"]]] * 2, self.rule_updates())
        self.assertEqual([], self.member_updates())

    def test_a_refused_rule_tells_nobody(self):
        group = self.group()
        self.client.request("POST", "/v2.0/security-group-rules", {"security_group_rule": {
            "security_group_id": group["id"], "direction": "egress"}})
        self.assertEqual([], self.rule_updates())

    def test_a_port_joining_changing_and_leaving_tells_its_groups(self):
        web, db = self.group(), self.group(name="db")
        port = self.port(security_groups=[web["id"]])
        self.update_port(port["id"], security_groups=[db["id"]])
        self.update_port(port["id"], fixed_ips=[{"subnet_id": self.subnet["id"],
                                                 "ip_address": "10.0.0.50"}])
        self.ok("DELETE", f"/v2.0/ports/{port['id']}")
        self.assertEqual([[web["id"]], sorted([web["id"], db["id"]]), [db["id"]], [db["id"]]],
                         self.member_updates())

    def test_other_changes_tell_nobody(self):
        port = self.port()
        self.notifier.events.clear()
        self.update_port(port["id"], name="renamed")
        self.port(port_security_enabled=False)
        self.assertEqual([], self.member_updates())
        self.assertEqual([], self.rule_updates())


class TestSecurityGroupRpc(support.SecurityGroupTestCase):
    def info(self, *devices: str) -> dict:
        return self.server.rpc_endpoint.security_group_info_for_devices(devices=list(devices))

    def test_devices_their_groups_rules_and_remote_members(self):
        web = self.group()
        rule = self.rule(web["id"], protocol="tcp", port_range_min=80, port_range_max=80,
                         remote_ip_prefix="192.168.1.7/24")
        first = self.port(device_owner="compute:nova")
        second = self.port(security_groups=[web["id"]],
                           fixed_ips=[{"subnet_id": self.subnet["id"],
                                       "ip_address": "10.0.0.20"}])
        info = self.info(first["id"], second["id"], "unknown-device")
        default_id = self.default_group()["id"]
        self.assertEqual({first["id"], second["id"]}, set(info["devices"]))
        self.assertEqual({
            "id": first["id"], "network_id": self.network["id"],
            "mac_address": first["mac_address"], "device_owner": "compute:nova",
            "fixed_ips": [first["fixed_ips"][0]["ip_address"]], "port_security_enabled": True,
            "security_groups": [default_id]}, info["devices"][first["id"]])
        self.assertEqual({default_id, web["id"]}, set(info["security_groups"]))
        self.assertTrue(info["security_groups"][web["id"]]["stateful"])
        [agent_rule] = [r for r in info["security_groups"][web["id"]]["rules"]
                        if r["direction"] == "ingress"]
        # Agents get the prefix's network, as Neutron gives them normalized_cidr.
        self.assertEqual({"id": rule["id"], "direction": "ingress", "ethertype": "IPv4",
                          "protocol": "tcp", "port_range_min": 80, "port_range_max": 80,
                          "remote_ip_prefix": "192.168.1.0/24", "remote_group_id": None},
                         agent_rule)
        self.assertEqual(4, len(info["security_groups"][default_id]["rules"]))
        # The default group names itself as remote: its members' addresses come along.
        self.assertEqual({default_id: {"IPv4": [first["fixed_ips"][0]["ip_address"]],
                                       "IPv6": []}}, info["sg_member_ips"])

    def test_a_port_without_port_security_is_a_device_without_groups(self):
        port = self.port(port_security_enabled=False)
        info = self.info(port["id"])
        self.assertEqual((False, []), (info["devices"][port["id"]]["port_security_enabled"],
                                       info["devices"][port["id"]]["security_groups"]))
        self.assertEqual(({}, {}), (info["security_groups"], info["sg_member_ips"]))

    def test_a_stateless_group_says_so(self):
        raw = self.group(stateful=False)
        port = self.port(security_groups=[raw["id"]])
        self.assertFalse(self.info(port["id"])["security_groups"][raw["id"]]["stateful"])
