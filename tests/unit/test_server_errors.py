"""Error bodies and request-body checks: what a client sees when it gets it wrong."""

from __future__ import annotations

import fixtures
import testtools

from neutrino.server.api import http_server
from neutrino.server.api.urlmap import Request, UrlMap
from neutrino.server.lib import errors, validators
from tests.unit import test_server_support as support

NETWORK_ID = "6f1f1b1e-1d0c-4c1e-8d3c-3c7a0c0e2a11"


class TestErrorBodies(testtools.TestCase):
    def test_not_found_is_neutron_style(self):
        error = errors.resource_not_found("network", "3f2a")
        self.assertEqual(404, error.status)
        self.assertEqual({"NeutronError": {"type": "NetworkNotFound",
                                           "message": "Network 3f2a could not be found.",
                                           "detail": ""}}, error.body())

    def test_invalid_input_names_the_attribute(self):
        error = errors.invalid_input("cidr", "'10.0.0.0/33' is not a valid CIDR")
        self.assertEqual((400, "Invalid input for cidr: '10.0.0.0/33' is not a valid CIDR"),
                         (error.status, error.message))

    def test_unexpected_exceptions_become_a_500_body(self):
        router = UrlMap()

        def broken(request):
            raise RuntimeError("boom")

        router.add("GET", "/broken", broken)
        log = self.useFixture(fixtures.FakeLogger())
        response = http_server.handle(router, Request("GET", "/broken"))
        self.assertEqual(500, response.status)
        self.assertEqual("InternalServerError", response.body["NeutronError"]["type"])
        # The client gets no internals; the operator gets the traceback.
        self.assertNotIn("boom", response.body["NeutronError"]["message"])
        self.assertIn("RuntimeError: boom", log.output)


class TestValidators(testtools.TestCase):
    def test_cidr(self):
        self.assertEqual("10.0.0.0/24", validators.cidr("10.0.0.0/24"))
        self.assertEqual("fd00::/64", validators.cidr("fd00:0::/64"))
        for bad in ("10.0.0.0/33", "10.0.0.0", "300.0.0.0/8", 5, None):
            self.assertRaises(ValueError, validators.cidr, bad)
        error = self.assertRaises(ValueError, validators.cidr, "10.0.0.5/24")
        self.assertIn("'10.0.0.0/24'", str(error))

    def test_scalars(self):
        self.assertTrue(validators.boolean("True"))
        self.assertFalse(validators.boolean(0))
        self.assertRaises(ValueError, validators.boolean, "maybe")
        self.assertEqual(5, validators.integer("5"))
        self.assertRaises(ValueError, validators.integer, True)
        self.assertEqual("fa:16:3e:aa:bb:cc", validators.mac_address("FA:16:3E:AA:BB:CC"))
        self.assertRaises(ValueError, validators.mac_address, "fa:16:3e:aa:bb")
        self.assertRaises(ValueError, validators.uuid_string, "not-a-uuid")
        self.assertRaises(ValueError, validators.string, "x" * 256)

    def test_dict_of_refuses_unknown_and_missing_keys(self):
        convert = validators.dict_of({"start": validators.ip_address,
                                      "end": validators.ip_address}, frozenset({"start", "end"}))
        self.assertIn("'stop'", str(self.assertRaises(
            ValueError, convert, {"start": "10.0.0.1", "stop": "10.0.0.2"})))
        self.assertIn("'end'", str(self.assertRaises(ValueError, convert, {"start": "10.0.0.1"})))


class TestRequestBodies(testtools.TestCase):
    def setUp(self):
        super().setUp()
        maps = support.default_attribute_maps()
        self.network, self.subnet, self.port = maps["network"], maps["subnet"], maps["port"]

    def test_defaults_are_filled_on_create(self):
        body = self.network.for_create({"name": "n"})
        self.assertEqual({"name": "n", "description": "", "project_id": "",
                          "admin_state_up": True, "shared": False, "router:external": False},
                         body)

    def test_unknown_attribute_is_named(self):
        error = self.assertRaises(errors.BadRequest, self.network.for_create, {"nmae": "x"})
        self.assertIn("'nmae'", error.message)

    def test_missing_required_attribute_is_named(self):
        error = self.assertRaises(errors.BadRequest, self.subnet.for_create,
                                  {"cidr": "10.0.0.0/24"})
        self.assertIn("'network_id'", error.message)

    def test_read_only_attribute_on_update_is_refused(self):
        error = self.assertRaises(errors.BadRequest, self.port.for_update,
                                  {"network_id": NETWORK_ID})
        self.assertIn("'network_id'", error.message)
        self.assertIn("update", error.message)

    def test_bad_value_names_the_attribute(self):
        error = self.assertRaises(errors.BadRequest, self.port.for_create,
                                  {"network_id": NETWORK_ID, "admin_state_up": "maybe"})
        self.assertEqual("Invalid input for admin_state_up: 'maybe' is not a valid boolean",
                         error.message)

    def test_tenant_id_and_project_id_are_one(self):
        self.assertEqual("p", self.network.for_create({"tenant_id": "p"})["project_id"])
        error = self.assertRaises(errors.BadRequest, self.network.for_create,
                                  {"tenant_id": "p", "project_id": "q"})
        self.assertIn("project_id", error.message)

    def test_defaults_are_not_shared_between_requests(self):
        first = self.subnet.for_create({"network_id": NETWORK_ID,
                                              "cidr": "10.0.0.0/24"})
        first["dns_nameservers"].append("10.0.0.53")
        second = self.subnet.for_create({"network_id": NETWORK_ID,
                                               "cidr": "10.0.0.0/24"})
        self.assertEqual([], second["dns_nameservers"])
