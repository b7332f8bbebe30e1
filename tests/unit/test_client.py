"""The API client's URLs and bodies, and what SafeClient deletes at cleanup, in which order."""

from __future__ import annotations

import itertools

import testtools

from fullstack.resources import client


class RecordingClient(client.ApiClient):
    """Answers every request as a Neutron server would, and records it."""

    def __init__(self, missing: tuple[str, ...] = ()):
        super().__init__("http://api.invalid:9696")
        self.calls: list[tuple[str, str, object]] = []
        self.missing = missing   # paths answered 404 on DELETE
        self.ids = (f"id-{n}" for n in itertools.count(1))

    def request(self, method, path, body=None):
        self.calls.append((method, path, body))
        if method == "DELETE" and path in self.missing:
            raise client.ApiError(method, path, 404, b"{}")
        if method == "POST":
            ((key, attrs),) = body.items()
            return {key: dict(attrs, id=next(self.ids))}
        if method == "PUT":
            ((key, attrs),) = body.items()
            return {key: dict(attrs, id=path.rsplit("/", 1)[1])}
        if method == "GET":
            return {"security_group_rules": []}
        return None

    def deletes(self) -> list[str]:
        return [path for method, path, _ in self.calls if method == "DELETE"]


class TestCollections(testtools.TestCase):
    def test_security_group_urls_have_dashes_and_bodies_underscores(self):
        api = RecordingClient()
        api.create("security_group", name="web")
        api.list_of("security_group_rule", security_group_id="sg-1")
        api.delete("security_group", "sg-1")
        self.assertEqual([
            ("POST", "/v2.0/security-groups", {"security_group": {"name": "web"}}),
            ("GET", "/v2.0/security-group-rules?security_group_id=sg-1", None),
            ("DELETE", "/v2.0/security-groups/sg-1", None)], api.calls)

    def test_other_resources_are_unchanged(self):
        self.assertEqual("networks", client.collection("network"))
        self.assertEqual("floatingips", client.collection("floatingip"))
        self.assertEqual("security-group-rules", client.collection("security_group_rule"))


class TestSafeClientSecurityGroups(testtools.TestCase):
    def safe_client(self, api: RecordingClient) -> client.SafeClient:
        safe = client.SafeClient(api)
        safe.setUp()
        return safe

    def test_rule_sends_only_what_is_set(self):
        api = RecordingClient()
        safe = self.safe_client(api)
        safe.create_security_group_rule("tenant", "sg-1", protocol="tcp", port_range_min=22,
                                        port_range_max=22)
        self.assertEqual(("POST", "/v2.0/security-group-rules", {"security_group_rule": {
            "tenant_id": "tenant", "security_group_id": "sg-1", "direction": "ingress",
            "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22,
            "port_range_max": 22}}), api.calls[0])
        safe.cleanUp()

    def test_group_gets_a_default_name(self):
        api = RecordingClient()
        safe = self.safe_client(api)
        self.assertEqual("sg", safe.create_security_group("tenant")["name"])
        self.assertEqual("web", safe.create_security_group("tenant", name="web")["name"])
        safe.cleanUp()

    def test_cleanup_deletes_rules_then_ports_then_groups(self):
        api = RecordingClient()
        safe = self.safe_client(api)
        early = safe.create_security_group("tenant")            # id-1
        port = safe.create_port("tenant", "net-1")              # id-2
        late = safe.create_security_group("tenant")             # id-3, given to the port later
        safe.create_security_group_rule("tenant", early["id"])  # id-4
        safe.update_port(port["id"], security_groups=[late["id"]])
        safe.cleanUp()
        self.assertEqual(["/v2.0/security-group-rules/id-4", "/v2.0/ports/id-2",
                          "/v2.0/security-groups/id-3", "/v2.0/security-groups/id-1"],
                         api.deletes())

    def test_what_the_test_deleted_is_quietly_gone_at_cleanup(self):
        gone = ("/v2.0/security-group-rules/id-2", "/v2.0/security-groups/id-1")
        api = RecordingClient(missing=gone)
        safe = self.safe_client(api)
        group = safe.create_security_group("tenant")
        safe.create_security_group_rule("tenant", group["id"])
        safe.cleanUp()   # both 404: no error
        self.assertEqual(list(gone), api.deletes())

    def test_explicit_deletes(self):
        api = RecordingClient(missing=("/v2.0/security-groups/sg-9",))
        safe = self.safe_client(api)
        safe.delete_security_group_rule("rule-1")
        self.assertEqual(["/v2.0/security-group-rules/rule-1"], api.deletes())
        exc = self.assertRaises(client.ApiError, safe.delete_security_group, "sg-9")
        self.assertEqual(404, exc.status)
        safe.cleanUp()


class TestSafeClientPorts(testtools.TestCase):
    def test_port_security_is_sent_only_when_given(self):
        api = RecordingClient()
        safe = client.SafeClient(api)
        safe.setUp()
        safe.create_port("tenant", "net-1")
        safe.create_port("tenant", "net-1", security_groups=["sg-1"],
                         port_security_enabled=False)
        bodies = [body["port"] for method, _, body in api.calls if method == "POST"]
        self.assertNotIn("security_groups", bodies[0])
        self.assertNotIn("port_security_enabled", bodies[0])
        self.assertEqual((["sg-1"], False), (bodies[1]["security_groups"],
                                             bodies[1]["port_security_enabled"]))
        safe.cleanUp()
