"""The vxlan type driver and the type manager: ranges, allocation, release."""

from __future__ import annotations

import fixtures
import testtools

from neutrino.server.lib import errors
from neutrino.server.plugins.ml2.type_drivers import tunnel
from neutrino.server.plugins.ml2.type_drivers.base import Segment, Underlay
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager
from neutrino.server.plugins.ml2.type_drivers.vxlan import VxlanTypeDriver
from tests.unit import test_server_support as support


class TestVniRanges(testtools.TestCase):
    def test_parses_and_sorts(self):
        self.assertEqual([(1, 5), (100, 200)],
                         tunnel.parse_ranges(["100:200", "1:5"], "opt", 1000))

    def test_refuses_bad_entries_naming_the_option(self):
        for entry in ("5", "10:1", "0:5", "1:16777216", "a:b"):
            error = self.assertRaises(ValueError, tunnel.parse_ranges, [entry],
                                      "[ml2_type_vxlan] vni_ranges", 2 ** 24 - 1)
            self.assertIn("[ml2_type_vxlan] vni_ranges", str(error))
            self.assertIn(repr(entry), str(error))

    def test_lowest_free_skips_taken_and_crosses_ranges(self):
        self.assertEqual(3, tunnel.lowest_free([(1, 3)], {1, 2}))
        self.assertEqual(10, tunnel.lowest_free([(1, 2), (10, 11)], {1, 2}))
        self.assertIsNone(tunnel.lowest_free([(1, 2)], {1, 2}))


class TestVxlanAllocation(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.db = self.useFixture(support.SqliteDatabase()).db
        self.driver = VxlanTypeDriver([(1, 3)])

    def _allocate(self, network_id="net"):
        return self.db.run(lambda s: self.driver.allocate_tenant_segment(s, network_id))

    def _reserve(self, segmentation_id):
        segment = Segment("vxlan", None, segmentation_id)
        return self.db.run(lambda s: self.driver.reserve_provider_segment(s, segment, "net"))

    def test_allocates_lowest_free_and_reuses_released(self):
        self.assertEqual([1, 2, 3], [self._allocate().segmentation_id for _ in range(3)])
        self.assertIsNone(self._allocate())
        self.db.run(lambda s: self.driver.release_segment(s, Segment("vxlan", None, 2)))
        self.assertEqual(2, self._allocate().segmentation_id)

    def test_explicit_request_of_a_taken_vni_is_a_conflict(self):
        self._allocate()
        error = self.assertRaises(errors.Conflict, self._reserve, 1)
        self.assertEqual("TunnelIdInUse", error.error_type)
        self.assertIn("1", error.message)

    def test_explicit_request_outside_the_ranges_is_accepted_once(self):
        self.assertEqual(5000, self._reserve(5000).segmentation_id)
        self.assertRaises(errors.Conflict, self._reserve, 5000)
        # The ranges still start at their lowest VNI.
        self.assertEqual(1, self._allocate().segmentation_id)

    def test_explicit_request_takes_the_vni_from_tenant_allocation(self):
        self._reserve(1)
        self.assertEqual(2, self._allocate().segmentation_id)

    def test_validation_names_the_provider_attribute(self):
        error = self.assertRaises(errors.BadRequest, self.driver.validate_provider_segment,
                                  Segment("vxlan", None, 2 ** 24))
        self.assertIn("provider:segmentation_id", error.message)
        error = self.assertRaises(errors.BadRequest, self.driver.validate_provider_segment,
                                  Segment("vxlan", "physnet1", 5))
        self.assertIn("provider:physical_network", error.message)

    def test_mtu_leaves_room_for_the_vxlan_headers(self):
        self.assertEqual(1450, self.driver.mtu(Underlay()))
        self.assertEqual(1350, self.driver.mtu(Underlay(physnet_mtu=1400)))
        self.assertEqual(1400, self.driver.mtu(Underlay(physnet_mtu=1500, path_mtu=1450)))


class TestTypeManager(testtools.TestCase):
    def _conf(self, **overrides):
        return support.make_conf("sqlite:////nonexistent", overrides)

    def test_unknown_type_driver_is_refused_at_start(self):
        error = self.assertRaises(ValueError, TypeManager.from_conf,
                                  self._conf(**{"ml2.type_drivers": ["vxlan", "vxln"]}))
        self.assertIn("'vxln'", str(error))

    def test_tenant_type_must_be_a_type_driver(self):
        conf = self._conf(**{"ml2.tenant_network_types": ["gre"]})
        error = self.assertRaises(ValueError, TypeManager.from_conf, conf)
        self.assertIn("tenant_network_types", str(error))

    def test_unknown_network_type_names_the_attribute(self):
        manager = TypeManager.from_conf(self._conf())
        error = self.assertRaises(errors.BadRequest, manager.driver, "vxln")
        self.assertEqual("Invalid input for provider:network_type: network_type 'vxln' "
                         "is not one of vxlan", error.message)

    def test_exhausted_ranges_are_unavailable(self):
        db = self.useFixture(support.SqliteDatabase()).db
        manager = TypeManager.from_conf(self._conf(**{"ml2_type_vxlan.vni_ranges": ["7:7"]}))
        self.assertEqual(7, db.run(lambda s: manager.create_segment(s, "a", None)).segmentation_id)
        error = self.assertRaises(errors.ServiceUnavailable, db.run,
                                  lambda s: manager.create_segment(s, "b", None))
        self.assertEqual("NoNetworkAvailable", error.error_type)


class TestNetworkSegments(testtools.TestCase):
    """Through the network service, as the API uses it."""

    def setUp(self):
        super().setUp()
        self.server = self.useFixture(support.ServerFixture()).server

    def test_eight_concurrent_creates_get_distinct_vnis(self):
        networks = support.run_in_threads(
            8, lambda index: support.create_network(self.server, name=f"net-{index}"))
        vnis = sorted(n["provider:segmentation_id"] for n in networks)
        self.assertEqual(list(range(1, 9)), vnis)

    def test_delete_releases_the_vni(self):
        first = support.create_network(self.server)
        support.create_network(self.server)
        self.server.core.networks.delete(first["id"])
        third = support.create_network(self.server)
        self.assertEqual(first["provider:segmentation_id"], third["provider:segmentation_id"])


class TestLostRace(testtools.TestCase):
    def test_a_vni_taken_by_a_concurrent_transaction_is_retried(self):
        db = self.useFixture(support.SqliteDatabase()).db
        driver = VxlanTypeDriver([(1, 10)])
        db.run(lambda s: driver.reserve_provider_segment(s, Segment("vxlan", None, 1), "x"))
        real_lowest_free = tunnel.lowest_free
        calls = []

        def stale_lowest_free(ranges, taken, attempt=1):
            # The first attempt acts as if it had read before VNI 1 was taken.
            calls.append(attempt)
            return 1 if len(calls) == 1 else real_lowest_free(ranges, taken)

        self.useFixture(fixtures.MonkeyPatch(
            "neutrino.server.plugins.ml2.type_drivers.tunnel.lowest_free", stale_lowest_free))
        segment = db.run(lambda s: driver.allocate_tenant_segment(s, "y"))
        self.assertEqual(2, segment.segmentation_id)
        self.assertEqual([1, 2], calls, "the retry knows it is the second attempt")
