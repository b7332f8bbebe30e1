"""The URL map and the list filters of the resource controller."""

from __future__ import annotations

import testtools

from neutrino.server.api.controller import matches
from neutrino.server.api.urlmap import Request, Response, UrlMap
from neutrino.server.lib import errors


def _echo(name):
    return lambda request: Response(200, (name, request.params))


class TestUrlMap(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.urls = UrlMap()
        self.urls.add("GET", "/", _echo("root"))
        self.urls.add("GET", "/v2.0/networks", _echo("index"))
        self.urls.add("GET", "/v2.0/networks/{id}", _echo("show"))
        self.urls.add("DELETE", "/v2.0/networks/{id}", _echo("delete"))

    def _dispatch(self, method, path):
        return self.urls.dispatch(Request(method, path)).body

    def test_matches_templates_and_extracts_parameters(self):
        self.assertEqual(("root", {}), self._dispatch("GET", "/"))
        self.assertEqual(("index", {}), self._dispatch("GET", "/v2.0/networks"))
        self.assertEqual(("show", {"id": "abc"}), self._dispatch("GET", "/v2.0/networks/abc"))
        self.assertEqual(("delete", {"id": "abc"}),
                         self._dispatch("DELETE", "/v2.0/networks/abc"))

    def test_ignores_trailing_slash_and_json_suffix(self):
        self.assertEqual(("index", {}), self._dispatch("GET", "/v2.0/networks/"))
        self.assertEqual(("show", {"id": "abc"}),
                         self._dispatch("GET", "/v2.0/networks/abc.json"))

    def test_unknown_path_is_404(self):
        error = self.assertRaises(errors.NotFound, self._dispatch, "GET", "/v2.0/nets")
        self.assertIn("/v2.0/nets", error.message)
        self.assertRaises(errors.NotFound, self._dispatch, "GET", "/v2.0/networks/a/b")

    def test_known_path_with_another_method_is_405_listing_allowed(self):
        error = self.assertRaises(errors.MethodNotAllowed, self._dispatch,
                                  "PUT", "/v2.0/networks/abc")
        self.assertEqual(405, error.status)
        self.assertIn("allowed: DELETE, GET", error.message)

    def test_lists_its_routes(self):
        self.assertIn(("GET", "/v2.0/networks/{id}"), self.urls.routes())


class TestFilters(testtools.TestCase):
    port = {"network_id": "n1", "device_owner": "network:dhcp", "admin_state_up": True,
            "binding:host_id": "host-1", "gateway_ip": None,
            "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}],
            "subnets": ["s1", "s2"]}

    def test_every_filter_must_match(self):
        self.assertTrue(matches(self.port, {"network_id": ["n1"],
                                            "device_owner": ["network:dhcp"]}))
        self.assertFalse(matches(self.port, {"network_id": ["n1"], "device_owner": ["compute"]}))

    def test_repeated_values_are_any_of(self):
        self.assertTrue(matches(self.port, {"binding:host_id": ["host-2", "host-1"]}))
        self.assertFalse(matches(self.port, {"binding:host_id": ["host-2", "host-3"]}))

    def test_booleans_none_and_lists(self):
        self.assertTrue(matches(self.port, {"admin_state_up": ["true"]}))
        self.assertFalse(matches(self.port, {"admin_state_up": ["False"]}))
        self.assertTrue(matches(self.port, {"gateway_ip": [""]}))
        self.assertTrue(matches(self.port, {"subnets": ["s2"]}))
        self.assertFalse(matches(self.port, {"subnets": ["s3"]}))

    def test_list_of_dicts_matches_key_value(self):
        self.assertTrue(matches(self.port, {"fixed_ips": ["ip_address=10.0.0.5"]}))
        self.assertTrue(matches(self.port, {"fixed_ips": ["subnet_id=s1"]}))
        self.assertFalse(matches(self.port, {"fixed_ips": ["ip_address=10.0.0.6"]}))
