"""Security groups and their rules over HTTP: the default group, rule checks, duplicates.

What Neutron 29 answers is the reference (its ``securitygroups_db`` and
``extensions/securitygroup``, with the noauth harness's admin context):
status codes, NeutronError types and messages.  Ports, notifications and
the agents' RPC are in test_server_port_security.
"""

from __future__ import annotations

from typing import Any

from tests.unit import test_server_support as support

PROJECT = support.SecurityGroupTestCase.PROJECT
UNKNOWN_ID = "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11"
# What a rule is made of, for comparing rules whatever their ids.
RULE_KEYS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
             "remote_ip_prefix", "remote_group_id")


def shape(rule: dict[str, Any], group_id: str | None = None) -> tuple:
    """The rule's fields; its remote group as 'self' when it is ``group_id``."""
    values = tuple(rule[key] for key in RULE_KEYS)
    return values[:-1] + (("self",) if group_id and values[-1] == group_id else values[-1:])


OPEN_EGRESS = {("egress", "IPv4", None, None, None, None, None),
               ("egress", "IPv6", None, None, None, None, None)}
FROM_MEMBERS = {("ingress", "IPv4", None, None, None, None, "self"),
                ("ingress", "IPv6", None, None, None, None, "self")}


class TestDefaultGroup(support.SecurityGroupTestCase):
    def test_a_projects_first_port_makes_its_default_group_with_neutrons_rules(self):
        self.assertEqual([], self.groups_of(PROJECT))
        port = self.port()
        group = self.default_group()
        self.assertEqual([group["id"]], port["security_groups"])
        self.assertEqual(("Default security group", True, PROJECT, PROJECT, False),
                         (group["description"], group["stateful"], group["project_id"],
                          group["tenant_id"], group["shared"]))
        rules = group["security_group_rules"]
        self.assertEqual(4, len(rules))
        self.assertEqual(OPEN_EGRESS | FROM_MEMBERS, {shape(r, group["id"]) for r in rules})
        self.assertEqual({(True, None, PROJECT)}, {
            (r["belongs_to_default_sg"], r["normalized_cidr"], r["project_id"]) for r in rules})
        # As in Neutron: a rule shows project_id only.
        self.assertNotIn("tenant_id", rules[0])

    def test_a_projects_first_group_makes_the_default_one_too(self):
        group = self.group(description="front")
        self.assertEqual(["default", "web"], sorted(g["name"] for g in self.groups_of(PROJECT)))
        self.assertEqual(("front", True, PROJECT), (group["description"], group["stateful"],
                                                    group["project_id"]))
        self.assertEqual(OPEN_EGRESS, {shape(r) for r in group["security_group_rules"]})
        self.assertEqual({False}, {r["belongs_to_default_sg"]
                                   for r in group["security_group_rules"]})

    def test_a_projects_first_network_makes_it_as_in_neutron(self):
        self.client.create("network", tenant_id="project-2")
        self.assertEqual(["default"], [g["name"] for g in self.groups_of("project-2")])

    def test_one_default_group_per_project(self):
        first, second = self.port(), self.port()
        other = self.port(project="project-2")
        self.assertEqual(first["security_groups"], second["security_groups"])
        self.assertNotEqual(first["security_groups"], other["security_groups"])
        self.assertEqual(1, len(self.groups_of(PROJECT)))

    def test_two_first_ports_at_once_share_one_default_group(self):
        ports = support.run_in_threads(2, lambda index: self.port(project="project-race"))
        [group] = self.groups_of("project-race")
        self.assertEqual([[group["id"]]] * 2, [port["security_groups"] for port in ports])

    def test_the_name_default_is_reserved_in_any_case(self):
        for name in ("default", "Default"):
            self.assertError(409, "SecurityGroupDefaultAlreadyExists", self.client.request(
                "POST", "/v2.0/security-groups",
                {"security_group": {"name": name, "tenant_id": PROJECT}}),
                "Default security group already exists.")
        group = self.group()
        self.assertError(409, "SecurityGroupDefaultAlreadyExists", self.client.request(
            "PUT", f"/v2.0/security-groups/{group['id']}",
            {"security_group": {"name": "DEFAULT"}}))

    def test_the_default_group_keeps_its_name_but_not_its_description(self):
        self.port()
        path = f"/v2.0/security-groups/{self.default_group()['id']}"
        self.assertError(409, "SecurityGroupCannotUpdateDefault", self.client.request(
            "PUT", path, {"security_group": {"name": "mine"}}),
            "Updating default security group not allowed.")
        self.assertEqual("ours", self.ok("PUT", path, {"security_group": {
            "description": "ours"}})["security_group"]["description"])

    def test_the_default_group_goes_only_when_unused_and_comes_back(self):
        # Neutron lets an admin delete it, and noauth makes every client one.
        port = self.port()
        [group_id] = port["security_groups"]
        self.assertError(409, "SecurityGroupInUse", self.client.request(
            "DELETE", f"/v2.0/security-groups/{group_id}"),
            f"Security Group {group_id} in use.")
        self.ok("DELETE", f"/v2.0/ports/{port['id']}")
        self.ok("DELETE", f"/v2.0/security-groups/{group_id}")
        self.assertEqual([], self.groups_of(PROJECT))
        [new_id] = self.port()["security_groups"]
        self.assertNotEqual(group_id, new_id)
        self.assertEqual(new_id, self.default_group()["id"])


class TestGroups(support.SecurityGroupTestCase):
    def test_update_then_delete(self):
        group = self.group()
        path = f"/v2.0/security-groups/{group['id']}"
        updated = self.ok("PUT", path, {"security_group": {"name": "db", "description": "x"}})
        self.assertEqual(("db", "x"), (updated["security_group"]["name"],
                                       updated["security_group"]["description"]))
        self.assertEqual(updated["security_group"], self.get_group(group["id"]))
        self.ok("DELETE", path)
        self.assertError(404, "SecurityGroupNotFound", self.client.request("GET", path),
                         f"Security group {group['id']} does not exist")
        self.assertError(404, "SecurityGroupNotFound", self.client.request("DELETE", path))

    def test_a_group_in_use_cannot_be_deleted(self):
        group = self.group()
        port = self.port(security_groups=[group["id"]])
        path = f"/v2.0/security-groups/{group['id']}"
        self.assertError(409, "SecurityGroupInUse", self.client.request("DELETE", path))
        self.assertEqual(200, self.update_port(port["id"], security_groups=[])[0])
        self.ok("DELETE", path)

    def test_deleting_a_remote_group_takes_the_rules_naming_it(self):
        web, db = self.group(), self.group(name="db")
        naming = self.rule(db["id"], protocol="tcp", port_range_min=5432,
                           port_range_max=5432, remote_group_id=web["id"])
        self.notifier.events.clear()
        self.ok("DELETE", f"/v2.0/security-groups/{web['id']}")
        self.assertError(404, "SecurityGroupRuleNotFound", self.client.request(
            "GET", f"/v2.0/security-group-rules/{naming['id']}"),
            f"Security group rule {naming['id']} does not exist")
        self.assertEqual(OPEN_EGRESS, {shape(r) for r in self.get_group(db["id"])[
            "security_group_rules"]})
        self.assertEqual([{"security_groups": [db["id"]]}],
                         self.notifier.sent("security_groups_rule_updated"))

    def test_stateful_changes_only_while_no_port_uses_the_group(self):
        group = self.group()
        path = f"/v2.0/security-groups/{group['id']}"
        self.assertFalse(self.ok("PUT", path, {"security_group": {"stateful": False}})[
            "security_group"]["stateful"])
        self.port(security_groups=[group["id"]])
        self.assertError(409, "SecurityGroupInUse", self.client.request(
            "PUT", path, {"security_group": {"stateful": True}}),
            f"Security Group {group['id']} in use.")
        # Not a change: allowed.
        self.ok("PUT", path, {"security_group": {"stateful": False, "name": "same"}})

    def test_a_list_body_is_keyed_as_in_neutron(self):
        # Neutron (and the harness's client) read {"security_groups": [...]}.
        body = self.ok("GET", "/v2.0/security-groups")
        self.assertIn("security_groups", body)
        self.assertIn("security_group_rules", self.ok("GET", "/v2.0/security-group-rules"))

    def test_a_stateless_group_is_created_as_asked(self):
        self.assertFalse(self.group(stateful=False)["stateful"])


# (rule attributes, status, NeutronError type or None for a 201, message part)
INVALID_RULES: list[tuple[dict[str, Any], int, str, str]] = [
    ({"protocol": "foo"}, 400, "SecurityGroupRuleInvalidProtocol",
     "Security group rule protocol foo not supported. Only protocol values (None, 'any', "),
    ({"protocol": "256"}, 400, "SecurityGroupRuleInvalidProtocol", "[0 to 255]"),
    ({"protocol": "-1"}, 400, "SecurityGroupRuleInvalidProtocol", "protocol -1"),
    ({"ethertype": "IPv5"}, 400, "SecurityGroupRuleInvalidEtherType",
     "Security group rule for ethertype 'IPv5' not supported. Allowed values are "
     "['IPv4', 'IPv6']."),
    ({"protocol": "tcp", "port_range_min": 70000, "port_range_max": 70000}, 400,
     "SecurityGroupInvalidPortValue", "Invalid value for port 70000"),
    ({"protocol": "tcp", "port_range_min": -1}, 400, "SecurityGroupInvalidPortValue",
     "Invalid value for port -1"),
    ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 80}, 400,
     "SecurityGroupInvalidPortValue", "Invalid value for port 0"),
    ({"protocol": "udp", "port_range_min": 90, "port_range_max": 80}, 400,
     "SecurityGroupInvalidPortRange",
     "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ({"protocol": "tcp", "port_range_min": 80}, 400, "SecurityGroupInvalidPortRange", ""),
    ({"port_range_min": 80, "port_range_max": 80}, 400,
     "SecurityGroupProtocolRequiredWithPorts",
     "Must also specify protocol if port range is given."),
    ({"protocol": "gre", "port_range_min": 80, "port_range_max": 80}, 400,
     "SecurityGroupInvalidProtocolForPort", "Ports cannot be specified for protocol 47. "
     "Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE."),
    ({"protocol": "icmp", "port_range_min": 256}, 400, "SecurityGroupInvalidIcmpValue",
     "Invalid value for ICMP type (port_range_min) 256. It must be 0 to 255."),
    ({"protocol": "icmp", "port_range_min": 8, "port_range_max": 256}, 400,
     "SecurityGroupInvalidIcmpValue", "ICMP code (port_range_max) 256"),
    ({"protocol": "icmp", "port_range_max": 0}, 400, "SecurityGroupMissingIcmpType",
     "ICMP code (port-range-max) 0 is provided but ICMP type (port-range-min) is missing."),
    ({"protocol": "ipv6-icmp"}, 400, "SecurityGroupEthertypeConflictWithProtocol",
     "Invalid ethertype IPv4 for protocol ipv6-icmp."),
    ({"protocol": "58"}, 400, "SecurityGroupEthertypeConflictWithProtocol", "protocol 58."),
    ({"protocol": "ipv6-frag"}, 400, "SecurityGroupEthertypeConflictWithProtocol", ""),
    ({"remote_ip_prefix": "2001:db8::/64"}, 400, "SecurityGroupRuleParameterConflict",
     "Conflicting value ethertype IPv4 for CIDR 2001:db8::/64"),
    ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/24"}, 400,
     "SecurityGroupRuleParameterConflict", "ethertype IPv6 for CIDR 10.0.0.0/24"),
    ({"remote_ip_prefix": "10.0.0.0/33"}, 400, "InvalidCIDR",
     "Invalid CIDR 10.0.0.0/33 given as IP prefix."),
    ({"direction": "sideways"}, 400, "HTTPBadRequest", "direction"),
]


class TestRuleChecks(support.SecurityGroupTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.group_id = self.group()["id"]

    def test_each_invalid_rule_gets_neutrons_error(self):
        got, wanted = [], []
        for attrs, status, error_type, message in INVALID_RULES:
            code, body = self.post_rule(self.group_id, **attrs)
            error = body.get("NeutronError", {}) if isinstance(body, dict) else {}
            got.append((attrs, code, error.get("type"),
                        message in error.get("message", "")))
            wanted.append((attrs, status, error_type, True))
        self.assertEqual(wanted, got)
        self.assertEqual(OPEN_EGRESS, {shape(r) for r in self.get_group(self.group_id)[
            "security_group_rules"]})

    def test_protocols_are_stored_as_neutron_stores_them(self):
        cases = [({"protocol": "TCP"}, "tcp"), ({"protocol": 6, "direction": "egress",
                                                 "port_range_min": 22,
                                                 "port_range_max": 22}, "6"),
                 ({"protocol": "any", "remote_ip_prefix": "10.9.0.0/16"}, None),
                 ({"protocol": "132"}, "132"),
                 ({"protocol": "icmp", "ethertype": "IPv6"}, "ipv6-icmp"),
                 ({"protocol": "icmpv6", "ethertype": "ipv6", "port_range_min": 128},
                  "ipv6-icmp"),
                 ({"protocol": "1", "ethertype": "IPv6", "port_range_min": 1}, "58")]
        self.assertEqual([protocol for _, protocol in cases],
                         [self.rule(self.group_id, **attrs)["protocol"] for attrs, _ in cases])

    def test_the_whole_port_range_is_no_range(self):
        rule = self.rule(self.group_id, protocol="tcp", port_range_min=1,
                         port_range_max=65535)
        self.assertEqual((None, None), (rule["port_range_min"], rule["port_range_max"]))

    def test_icmp_type_and_code_and_ports_as_text(self):
        icmp = self.rule(self.group_id, protocol="icmp", port_range_min=8, port_range_max=0)
        tcp = self.rule(self.group_id, protocol="tcp", port_range_min="22",
                        port_range_max="22")
        self.assertEqual([(8, 0), (22, 22)], [(r["port_range_min"], r["port_range_max"])
                                              for r in (icmp, tcp)])

    def test_a_prefix_keeps_its_host_bits_and_shows_its_network(self):
        prefixes = [self.rule(self.group_id, remote_ip_prefix="10.0.0.5/24"),
                    self.rule(self.group_id, remote_ip_prefix="10.0.0.5"),
                    self.rule(self.group_id, ethertype="IPv6",
                              remote_ip_prefix="2001:DB8::1/64")]
        self.assertEqual([("10.0.0.5/24", "10.0.0.0/24"), ("10.0.0.5/32", "10.0.0.5/32"),
                          ("2001:db8::1/64", "2001:db8::/64")],
                         [(r["remote_ip_prefix"], r["normalized_cidr"]) for r in prefixes])

    def test_one_remote_at_most(self):
        self.assertError(400, "SecurityGroupMultipleRemoteEntites", self.post_rule(
            self.group_id, remote_ip_prefix="10.0.0.0/24", remote_group_id=self.group_id),
            "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may "
            "be provided.")

    def test_unknown_groups_are_404(self):
        for group_id in (UNKNOWN_ID, "not-a-uuid"):
            self.assertError(404, "SecurityGroupNotFound", self.post_rule(group_id),
                             f"Security group {group_id} does not exist")
        self.assertError(404, "SecurityGroupNotFound", self.post_rule(
            self.group_id, remote_group_id=UNKNOWN_ID), UNKNOWN_ID)
        self.assertError(404, "AddressGroupNotFound", self.post_rule(
            self.group_id, remote_address_group_id=UNKNOWN_ID),
            f"Address group {UNKNOWN_ID} could not be found.")

    def test_a_rule_naming_another_group_as_remote(self):
        other = self.group(name="db")
        rule = self.rule(self.group_id, remote_group_id=other["id"], protocol="tcp",
                         port_range_min=5432, port_range_max=5432)
        self.assertEqual((other["id"], None, PROJECT), (
            rule["remote_group_id"], rule["remote_ip_prefix"], rule["project_id"]))

    def test_description_is_the_only_thing_a_rule_update_changes(self):
        rule = self.rule(self.group_id, protocol="tcp", port_range_min=22, port_range_max=22)
        path = f"/v2.0/security-group-rules/{rule['id']}"
        self.assertEqual("ssh", self.ok("PUT", path, {"security_group_rule": {
            "description": "ssh"}})["security_group_rule"]["description"])
        self.assertEqual(400, self.client.request("PUT", path, {"security_group_rule": {
            "protocol": "udp"}})[0])

    def test_delete_a_rule(self):
        rule = self.rule(self.group_id, protocol="tcp")
        path = f"/v2.0/security-group-rules/{rule['id']}"
        self.ok("DELETE", path)
        self.assertError(404, "SecurityGroupRuleNotFound", self.client.request("GET", path))
        self.assertError(404, "SecurityGroupRuleNotFound", self.client.request(
            "DELETE", path))


class TestDuplicateRules(support.SecurityGroupTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.group_id = self.group()["id"]

    def assertDuplicate(self, first: dict[str, Any], second: dict[str, Any]) -> None:
        existing = self.rule(self.group_id, **first)
        self.assertError(409, "SecurityGroupRuleExists", self.post_rule(self.group_id, **second),
                         f"Security group rule already exists. Rule id is {existing['id']}.")

    def test_the_same_rule_twice(self):
        ssh = {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22}
        self.assertDuplicate(ssh, dict(ssh, description="another description"))

    def test_a_protocol_by_name_and_by_number(self):
        self.assertDuplicate({"protocol": "tcp"}, {"protocol": "6"})

    def test_the_whole_family_and_no_prefix(self):
        self.assertDuplicate({"remote_ip_prefix": "0.0.0.0/0"}, {})
        self.assertDuplicate({"ethertype": "IPv6"},
                             {"ethertype": "IPv6", "remote_ip_prefix": "::/0"})

    def test_icmp_of_ipv6_by_any_name(self):
        self.assertDuplicate({"ethertype": "IPv6", "protocol": "icmp"},
                             {"ethertype": "IPv6", "protocol": "ipv6-icmp"})

    def test_the_whole_port_range_and_none(self):
        self.assertDuplicate({"protocol": "udp"}, {"protocol": "udp", "port_range_min": 1,
                                                   "port_range_max": 65535})

    def test_a_new_groups_own_egress_rule(self):
        self.assertError(409, "SecurityGroupRuleExists", self.post_rule(
            self.group_id, direction="egress"))

    def test_two_racing_copies_make_one_rule(self):
        results = support.run_in_threads(2, lambda index: self.post_rule(
            self.group_id, protocol="tcp", port_range_min=443, port_range_max=443))
        self.assertEqual([201, 409], sorted(status for status, _ in results))

    def test_rules_that_differ_are_not_duplicates(self):
        # Neutron compares prefixes as written: host bits make another rule.
        self.rule(self.group_id, remote_ip_prefix="10.0.0.0/24")
        self.rule(self.group_id, remote_ip_prefix="10.0.0.5/24")
        self.rule(self.group_id, protocol="tcp", remote_ip_prefix="10.0.0.0/24")
        self.rule(self.group(name="other")["id"], remote_ip_prefix="10.0.0.0/24")
