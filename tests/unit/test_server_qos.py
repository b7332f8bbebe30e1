"""The QoS plugin over HTTP: policies, rules, rule types, policies of ports and networks.

What Neutron 29 answers is the reference (its ``qos_plugin`` and
``extensions/qos*`` with the noauth harness's admin context): status codes,
NeutronError types, which policy applies to which port, and what the OVS
agent is told.
"""

from __future__ import annotations

from typing import Any

from tests.unit import test_server_support as support

PROJECT = "project-1"
UNKNOWN_ID = "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11"
QOS = "/v2.0/qos"


class QosTestCase(support.ServerTestCase):
    def setUp(self) -> None:
        super().setUp()
        fixture = self.useFixture(support.ServerFixture(
            {"service_plugins": ["security_group", "qos"]}))
        self.server, self.notifier, self.client = fixture.server, fixture.notifier, fixture.client
        self.network = self.client.create("network", name="net", tenant_id=PROJECT)
        self.client.create("subnet", network_id=self.network["id"], cidr="10.0.0.0/24",
                           tenant_id=PROJECT)

    def policy(self, **attrs: Any) -> dict:
        return self.ok("POST", f"{QOS}/policies", {"policy": {
            "name": "gold", "tenant_id": PROJECT, **attrs}})["policy"]

    def post_rule(self, policy_id: str, kind: str, **values: Any) -> tuple[int, Any]:
        return self.client.request("POST", f"{QOS}/policies/{policy_id}/{kind}_rules",
                                   {f"{kind}_rule": values})

    def rule(self, policy_id: str, kind: str, **values: Any) -> dict:
        status, body = self.post_rule(policy_id, kind, **values)
        self.assertEqual(201, status, body)
        return body[f"{kind}_rule"]

    def port(self, **attrs: Any) -> dict:
        return self.client.create("port", network_id=self.network["id"], tenant_id=PROJECT,
                                  **attrs)

    def rules_for(self, *port_ids: str) -> dict:
        return self.server.plugins.service("qos").rpc.qos_rules_for_ports(list(port_ids))

    def told_ports(self) -> list[list[str]]:
        return [sent["ports"] for sent in self.notifier.sent("qos_ports_updated")]


class TestPoliciesAndRules(QosTestCase):
    def test_a_policy_with_a_rule_of_each_type(self):
        policy = self.policy(description="for video")
        self.assertEqual(("gold", "for video", False, False, PROJECT, []),
                         (policy["name"], policy["description"], policy["shared"],
                          policy["is_default"], policy["project_id"], policy["rules"]))
        limit = self.rule(policy["id"], "bandwidth_limit", max_kbps=1000)
        self.assertEqual({"id": limit["id"], "max_kbps": 1000, "max_burst_kbps": 0,
                          "direction": "egress"}, limit)
        self.rule(policy["id"], "bandwidth_limit", max_kbps=2000, direction="ingress")
        self.rule(policy["id"], "packet_rate_limit", max_kpps=3, max_burst_kpps=1)
        self.rule(policy["id"], "dscp_marking", dscp_mark=26)
        self.rule(policy["id"], "minimum_bandwidth", min_kbps=500)
        shown = self.ok("GET", f"{QOS}/policies/{policy['id']}")["policy"]
        self.assertEqual(
            [("bandwidth_limit", "egress"), ("bandwidth_limit", "ingress"),
             ("packet_rate_limit", "egress"), ("dscp_marking", None),
             ("minimum_bandwidth", "egress")],
            [(r["type"], r.get("direction")) for r in shown["rules"]])
        self.assertEqual({policy["id"]}, {r["qos_policy_id"] for r in shown["rules"]})
        listed = self.ok("GET", f"{QOS}/policies/{policy['id']}/bandwidth_limit_rules")
        self.assertEqual(2, len(listed["bandwidth_limit_rules"]))

    def test_bad_values_name_the_attribute(self):
        policy = self.policy()
        for kind, values, attribute in (
                ("bandwidth_limit", {}, "max_kbps"),
                ("bandwidth_limit", {"max_kbps": -1}, "max_kbps"),
                ("bandwidth_limit", {"max_kbps": 10, "direction": "sideways"}, "direction"),
                ("dscp_marking", {"dscp_mark": 9}, "dscp_mark"),
                ("packet_rate_limit", {"max_kpps": "many"}, "max_kpps")):
            status, body = self.post_rule(policy["id"], kind, **values)
            self.assertEqual(400, status, body)
            self.assertIn(attribute, body["NeutronError"]["message"])

    def test_one_rule_per_type_and_direction_and_a_minimum_not_above_the_limit(self):
        policy = self.policy()
        self.rule(policy["id"], "bandwidth_limit", max_kbps=1000)
        self.assertError(409, "QoSRulesConflict",
                         self.post_rule(policy["id"], "bandwidth_limit", max_kbps=5))
        self.assertError(409, "QoSRuleParameterConflict",
                         self.post_rule(policy["id"], "minimum_bandwidth", min_kbps=2000))
        # The other direction has no limit to be above.
        self.rule(policy["id"], "minimum_bandwidth", min_kbps=2000, direction="ingress")

    def test_a_rule_is_changed_and_deleted_under_its_own_policy_only(self):
        policy, other = self.policy(), self.policy(name="silver")
        rule = self.rule(policy["id"], "dscp_marking", dscp_mark=16)
        path = f"{QOS}/policies/{policy['id']}/dscp_marking_rules/{rule['id']}"
        changed = self.ok("PUT", path, {"dscp_marking_rule": {"dscp_mark": 26}})
        self.assertEqual(26, changed["dscp_marking_rule"]["dscp_mark"])
        self.assertError(404, "QosRuleNotFound", self.client.request(
            "GET", f"{QOS}/policies/{other['id']}/dscp_marking_rules/{rule['id']}"))
        self.assertError(404, "QosRuleNotFound", self.client.request(
            "GET", f"{QOS}/policies/{policy['id']}/bandwidth_limit_rules/{rule['id']}"))
        self.ok("DELETE", path)
        self.assertEqual([], self.ok("GET", f"{QOS}/policies/{policy['id']}")["policy"]["rules"])

    def test_unknown_policies_and_rule_types(self):
        self.assertError(404, "QosPolicyNotFound",
                         self.client.request("GET", f"{QOS}/policies/{UNKNOWN_ID}"))
        self.assertError(404, "QosPolicyNotFound",
                         self.post_rule(UNKNOWN_ID, "dscp_marking", dscp_mark=16))
        # A type no loaded driver enforces has no collection at all.
        status, _ = self.post_rule(self.policy()["id"], "minimum_packet_rate", min_kpps=1)
        self.assertEqual(404, status)
        self.assertError(404, "QosRuleTypeNotFound",
                         self.client.request("GET", f"{QOS}/rule-types/minimum_packet_rate"))

    def test_rule_types_and_their_details(self):
        listed = self.ok("GET", f"{QOS}/rule-types")["rule_types"]
        self.assertEqual({"bandwidth_limit", "packet_rate_limit", "dscp_marking",
                          "minimum_bandwidth"}, {t["type"] for t in listed})
        details = self.ok("GET", f"{QOS}/rule-types/bandwidth_limit")["rule_type"]
        [driver] = details["drivers"]
        self.assertEqual("openvswitch", driver["name"])
        self.assertEqual({"max_kbps", "max_burst_kbps", "direction"},
                         {p["parameter_name"] for p in driver["supported_parameters"]})

    def test_one_default_policy_per_project(self):
        default = self.policy(is_default=True)
        self.assertTrue(default["is_default"])
        status, body = self.client.request("POST", f"{QOS}/policies", {"policy": {
            "name": "other", "tenant_id": PROJECT, "is_default": True}})
        self.assertError(409, "QoSPolicyDefaultAlreadyExists", (status, body))
        self.policy(name="elsewhere", tenant_id="project-2", is_default=True)
        network = self.client.create("network", name="new", tenant_id=PROJECT)
        self.assertEqual(default["id"], network["qos_policy_id"])
        told = self.client.create("network", name="none", tenant_id=PROJECT, qos_policy_id=None)
        self.assertIsNone(told["qos_policy_id"])


class TestPoliciesOfPortsAndNetworks(QosTestCase):
    def test_a_ports_own_policy_wins_over_its_networks(self):
        of_network, of_port = self.policy(), self.policy(name="silver")
        self.rule(of_network["id"], "dscp_marking", dscp_mark=16)
        self.rule(of_port["id"], "dscp_marking", dscp_mark=26)
        self.ok("PUT", f"/v2.0/networks/{self.network['id']}",
                {"network": {"qos_policy_id": of_network["id"]}})
        plain, own = self.port(), self.port(qos_policy_id=of_port["id"])
        router_port = self.port(device_owner="network:router_interface")
        self.assertEqual((None, of_network["id"]),
                         (plain["qos_policy_id"], plain["qos_network_policy_id"]))
        found = self.rules_for(plain["id"], own["id"], router_port["id"], UNKNOWN_ID)
        self.assertEqual({plain["id"]: of_network["id"], own["id"]: of_port["id"],
                          router_port["id"]: None},
                         {port_id: answer["policy_id"] for port_id, answer in found.items()})
        self.assertEqual([16], [r["dscp_mark"] for r in found[plain["id"]]["rules"]])

    def test_agents_hear_of_the_ports_a_change_concerns(self):
        policy = self.policy()
        self.ok("PUT", f"/v2.0/networks/{self.network['id']}",
                {"network": {"qos_policy_id": policy["id"]}})
        plain = self.port()
        self.port(qos_policy_id=self.policy(name="silver")["id"])
        rule = self.rule(policy["id"], "bandwidth_limit", max_kbps=100)
        self.ok("PUT", f"{QOS}/policies/{policy['id']}/bandwidth_limit_rules/{rule['id']}",
                {"bandwidth_limit_rule": {"max_kbps": 200}})
        self.assertEqual([[plain["id"]], [plain["id"]]], self.told_ports())
        self.ok("PUT", f"/v2.0/networks/{self.network['id']}",
                {"network": {"qos_policy_id": None}})
        self.assertEqual([plain["id"]], self.told_ports()[-1])

    def test_a_policy_in_use_cannot_be_deleted(self):
        policy = self.policy()
        port = self.port(qos_policy_id=policy["id"])
        self.assertError(409, "QosPolicyInUse",
                         self.client.request("DELETE", f"{QOS}/policies/{policy['id']}"),
                         f"port {port['id']}")
        self.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"qos_policy_id": None}})
        self.ok("PUT", f"/v2.0/networks/{self.network['id']}",
                {"network": {"qos_policy_id": policy["id"]}})
        self.assertError(409, "QosPolicyInUse",
                         self.client.request("DELETE", f"{QOS}/policies/{policy['id']}"),
                         f"network {self.network['id']}")
        self.ok("PUT", f"/v2.0/networks/{self.network['id']}",
                {"network": {"qos_policy_id": None}})
        self.ok("DELETE", f"{QOS}/policies/{policy['id']}")

    def test_an_unknown_policy_is_refused(self):
        status, body = self.client.request("POST", "/v2.0/ports", {"port": {
            "network_id": self.network["id"], "qos_policy_id": UNKNOWN_ID}})
        self.assertError(404, "QosPolicyNotFound", (status, body))
        status, body = self.client.request("PUT", f"/v2.0/networks/{self.network['id']}", {
            "network": {"qos_policy_id": UNKNOWN_ID}})
        self.assertError(404, "QosPolicyNotFound", (status, body))
