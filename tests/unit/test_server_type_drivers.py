"""The gre, vlan and flat type drivers, and binding on physical networks."""

from __future__ import annotations

import testtools

from neutrino.server.lib import errors
from neutrino.server.plugins.ml2 import binding
from neutrino.server.plugins.ml2.type_drivers import vlan
from neutrino.server.plugins.ml2.type_drivers.base import Segment
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager
from tests.unit import test_server_support as support

ALL_TYPES = {
    "ml2.type_drivers": ["vxlan", "gre", "vlan", "flat"],
    "ml2_type_gre.tunnel_id_ranges": ["10:11"],
    "ml2_type_vlan.network_vlan_ranges": ["physnet1:100:101", "physnet2"],
    "ml2_type_flat.flat_networks": ["physnet1", "physnet2"],
}


class TestNetworkVlanRanges(testtools.TestCase):
    def test_parses_ranges_by_physical_network(self):
        self.assertEqual({"physnet1": [(10, 20), (100, 200)], "physnet2": []},
                         vlan.parse_network_vlan_ranges(
                             ["physnet1:100:200", "physnet2", "physnet1:10:20"]))

    def test_refuses_bad_entries_naming_the_option(self):
        for entry in (":1:2", "physnet1:0:10", "physnet1:1:4095", "physnet1:5"):
            error = self.assertRaises(ValueError, vlan.parse_network_vlan_ranges, [entry])
            self.assertIn("network_vlan_ranges", str(error))


class TypeDriverTestCase(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.server = self.useFixture(support.ServerFixture(ALL_TYPES)).server

    def _network(self, network_type, physnet=None, seg_id=None):
        attrs = {"provider:network_type": network_type}
        if physnet is not None:
            attrs["provider:physical_network"] = physnet
        if seg_id is not None:
            attrs["provider:segmentation_id"] = seg_id
        return support.create_network(self.server, **attrs)

    @staticmethod
    def _segment(network):
        return (network["provider:network_type"], network["provider:physical_network"],
                network["provider:segmentation_id"], network["mtu"])


class TestGre(TypeDriverTestCase):
    def test_allocates_keys_from_its_ranges(self):
        self.assertEqual([("gre", None, 10, 1458), ("gre", None, 11, 1458)],
                         [self._segment(self._network("gre")) for _ in range(2)])
        self.assertRaises(errors.ServiceUnavailable, self._network, "gre")

    def test_keys_beyond_32_bit_signed(self):
        self.assertEqual(2 ** 32 - 1, self._network("gre", seg_id=2 ** 32 - 1)
                         ["provider:segmentation_id"])


class TestVlan(TypeDriverTestCase):
    def test_allocates_lowest_free_vlan_of_the_physical_network(self):
        self.assertEqual([("vlan", "physnet1", 100, 1500), ("vlan", "physnet1", 101, 1500)],
                         [self._segment(self._network("vlan", "physnet1")) for _ in range(2)])
        self.assertRaises(errors.ServiceUnavailable, self._network, "vlan", "physnet1")
        # physnet2 has no ranges: provider networks with an explicit VLAN only.
        self.assertRaises(errors.ServiceUnavailable, self._network, "vlan", "physnet2")
        self.assertEqual(7, self._network("vlan", "physnet2", 7)["provider:segmentation_id"])

    def test_same_vlan_on_two_physical_networks_but_not_twice_on_one(self):
        self._network("vlan", "physnet1", 300)
        self._network("vlan", "physnet2", 300)
        error = self.assertRaises(errors.Conflict, self._network, "vlan", "physnet1", 300)
        self.assertEqual("VlanIdInUse", error.error_type)

    def test_bad_provider_attributes_are_named(self):
        for physnet, seg_id, attribute in ((None, 5, "provider:physical_network"),
                                           ("physnet9", 5, "provider:physical_network"),
                                           ("physnet1", 4095, "provider:segmentation_id")):
            error = self.assertRaises(errors.BadRequest, self._network, "vlan", physnet, seg_id)
            self.assertIn(attribute, error.message)

    def test_delete_releases_the_vlan(self):
        network = self._network("vlan", "physnet1")
        self.server.core.networks.delete(network["id"])
        self.assertEqual(100, self._network("vlan", "physnet1")["provider:segmentation_id"])


class TestFlat(TypeDriverTestCase):
    def test_one_flat_network_per_physical_network(self):
        self.assertEqual(("flat", "physnet1", None, 1500),
                         self._segment(self._network("flat", "physnet1")))
        error = self.assertRaises(errors.Conflict, self._network, "flat", "physnet1")
        self.assertEqual("FlatNetworkInUse", error.error_type)

    def test_tenant_flat_networks_take_the_next_free_physical_network(self):
        manager = self.server.core.type_manager
        db = self.server.db
        names = [db.run(lambda s, n=n: manager.drivers["flat"].allocate_tenant_segment(s, n))
                 for n in ("a", "b", "c")]
        self.assertEqual(["physnet1", "physnet2"], [s.physical_network for s in names[:2]])
        self.assertIsNone(names[2])

    def test_segmentation_id_is_refused(self):
        error = self.assertRaises(errors.BadRequest, self._network, "flat", "physnet1", 5)
        self.assertIn("provider:segmentation_id", error.message)

    def test_wildcard_allows_any_physical_network(self):
        manager = TypeManager.from_conf(support.make_conf("sqlite:////unused", {
            "ml2.type_drivers": ["flat"], "ml2.tenant_network_types": ["flat"]}))
        manager.validate_provider_segment(Segment("flat", "anything"))


class TestPhysicalBinding(TypeDriverTestCase):
    def test_binds_where_bridge_mappings_name_the_physical_network(self):
        types = self.server.core.type_manager
        segment = Segment("vlan", "physnet1", 100)
        mapped = {"bridge_mappings": {"physnet1": "br-phys"}, "tunnel_types": []}
        other = {"bridge_mappings": {"physnet2": "br-phys"}, "tunnel_types": ["vxlan"]}
        self.assertEqual("ovs", binding.choose("h", [segment], [mapped], types).vif_type)
        self.assertEqual("binding_failed",
                         binding.choose("h", [segment], [other], types).vif_type)

    def test_rpc_details_carry_the_physical_network(self):
        self.server.rpc_endpoint.report_state(agent_state=support.agent_state(
            "host-1", tunnel_types=(), configurations={"bridge_mappings": {"physnet1": "br"}}))
        network = self._network("vlan", "physnet1", 42)
        port = support.create_port(self.server, network_id=network["id"],
                                   **{"binding:host_id": "host-1"})
        details = self.server.rpc_endpoint.get_device_details(
            device=port["id"], agent_id="a", host="host-1")
        self.assertEqual(("vlan", "physnet1", 42), (details["network_type"],
                                                    details["physical_network"],
                                                    details["segmentation_id"]))

    def test_tunnel_sync_refuses_physical_types(self):
        error = self.assertRaises(errors.BadRequest, self.server.rpc_endpoint.tunnel_sync,
                                  tunnel_ip="240.0.0.1", tunnel_type="vlan", host="host-1")
        self.assertIn("vxlan, gre", error.message)
