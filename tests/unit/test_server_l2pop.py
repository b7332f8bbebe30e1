"""L2 population: the fdb entries the server builds and when it broadcasts them."""

from __future__ import annotations

import fixtures
import testtools

from neutrino.server.db import models
from neutrino.server.plugins.ml2 import l2pop
from tests.unit import test_server_support as support

FLOOD = list(l2pop.FLOODING_ENTRY)
ENDPOINTS = {"host-1": "240.0.0.1", "host-2": "240.0.0.2", "host-3": "240.0.0.3"}
TYPES = {
    "ml2.type_drivers": ["vxlan", "gre", "vlan", "flat"],
    "ml2_type_vlan.network_vlan_ranges": ["physnet1:100:101"],
    "ml2_type_flat.flat_networks": ["physnet2"],
}


def facts(host: str, mac: str, *ips: str, active: bool = True,
          network_id: str = "net-1") -> l2pop.PortFacts:
    return l2pop.PortFacts(network_id, host, mac, tuple(ips), active)


class TestEntryBuilders(testtools.TestCase):
    network = l2pop.TunnelNetwork("net-1", "vxlan", 7)

    def _entries(self, ports):
        return {"net-1": {"network_type": "vxlan", "segmentation_id": 7, "ports": ports}}

    def test_full_state_lists_active_ports_per_host_after_the_flooding_entry(self):
        ports = [facts("host-1", "fa:16:3e:00:00:01", "10.0.0.3", "10.0.0.2"),
                 facts("host-2", "fa:16:3e:00:00:02", "10.0.0.4"),
                 facts("host-2", "fa:16:3e:00:00:03", "10.0.0.5", active=False),
                 facts("host-3", "fa:16:3e:00:00:04", "10.0.0.6", active=False),
                 facts("host-9", "fa:16:3e:00:00:05", "10.0.0.7")]
        self.assertEqual(self._entries({
            "240.0.0.1": [FLOOD, ["fa:16:3e:00:00:01", "10.0.0.2"],
                          ["fa:16:3e:00:00:01", "10.0.0.3"]],
            "240.0.0.2": [FLOOD, ["fa:16:3e:00:00:02", "10.0.0.4"]],
        }), l2pop.network_fdb(self.network, ports, ENDPOINTS))

    def test_full_state_of_a_network_without_active_ports_is_empty(self):
        ports = [facts("host-1", "fa:16:3e:00:00:01", "10.0.0.2", active=False)]
        self.assertEqual({}, l2pop.network_fdb(self.network, ports, ENDPOINTS))

    def test_removal_with_and_without_the_flooding_entry(self):
        pairs = {("fa:16:3e:00:00:01", "10.0.0.2")}
        self.assertEqual(self._entries({"240.0.0.1": [FLOOD, ["fa:16:3e:00:00:01", "10.0.0.2"]]}),
                         l2pop.removal_fdb(self.network, "240.0.0.1", pairs, True))
        self.assertEqual(self._entries({"240.0.0.1": [["fa:16:3e:00:00:01", "10.0.0.2"]]}),
                         l2pop.removal_fdb(self.network, "240.0.0.1", pairs, False))

    def test_only_tunnel_segments_take_part(self):
        def network(network_type, physnet=None, segmentation_id=None):
            return models.Network(id="net-1", segments=[models.NetworkSegment(
                network_type=network_type, physical_network=physnet,
                segmentation_id=segmentation_id)])
        self.assertEqual(l2pop.TunnelNetwork("net-1", "gre", 9),
                         l2pop.TunnelNetwork.of(network("gre", segmentation_id=9)))
        self.assertIsNone(l2pop.TunnelNetwork.of(network("vlan", "physnet1", 100)))
        self.assertIsNone(l2pop.TunnelNetwork.of(network("flat", "physnet1")))
        self.assertIsNone(l2pop.TunnelNetwork.of(models.Network(id="net-1", segments=[])))

    def test_removal_for_a_host_without_tunnel_endpoint_is_empty(self):
        self.assertEqual({}, l2pop.removal_fdb(
            self.network, None, {("fa:16:3e:00:00:01", "10.0.0.2")}, True))


class L2popTestCase(testtools.TestCase):
    l2_population = True
    network_attrs: dict = {}

    def setUp(self):
        super().setUp()
        drivers = ["openvswitch", "l2population"] if self.l2_population else ["openvswitch"]
        fixture = self.useFixture(support.ServerFixture(
            dict(TYPES, **{"ml2.mechanism_drivers": drivers})))
        self.server = fixture.server
        self.notifier = fixture.notifier
        self.endpoint = self.server.rpc_endpoint
        for host, ip in ENDPOINTS.items():
            self.endpoint.report_state(agent_state=support.agent_state(
                host, configurations={
                    "tunnel_types": ["vxlan", "gre"],
                    "bridge_mappings": {"physnet1": "br-phys", "physnet2": "br-phys2"}}))
            for tunnel_type in ("vxlan", "gre"):
                self.endpoint.tunnel_sync(tunnel_ip=ip, tunnel_type=tunnel_type, host=host)
        self.network = support.create_network(self.server, **self.network_attrs)
        self.subnet = support.create_subnet(self.server, network_id=self.network["id"],
                                            cidr="10.0.0.0/24")

    def _port(self, host, *ips):
        fixed_ips = [{"subnet_id": self.subnet["id"], "ip_address": ip} for ip in ips]
        port = support.create_port(self.server, network_id=self.network["id"],
                                   device_owner="compute:test", fixed_ips=fixed_ips,
                                   **{"binding:host_id": host})
        self.assertEqual("ovs", port["binding:vif_type"])
        return port

    def _up(self, port, host=None):
        return self.endpoint.update_device_up(
            device=port["id"], agent_id="agent", host=host or port["binding:host_id"])

    def _down(self, port):
        return self.endpoint.update_device_down(
            device=port["id"], agent_id="agent", host=port["binding:host_id"])

    def _fdb(self):
        """(event, fdb_entries) of every fdb message so far, in order."""
        return [(event, kwargs["fdb_entries"]) for event, kwargs in self.notifier.events
                if event.startswith("fdb_")]

    def _entries(self, ports):
        return {self.network["id"]: {
            "network_type": self.network["provider:network_type"],
            "segmentation_id": self.network["provider:segmentation_id"], "ports": ports}}


class TestDeviceUp(L2popTestCase):
    def test_sends_the_full_state_of_the_network_with_two_hosts(self):
        first = self._port("host-1", "10.0.0.11")
        second = self._port("host-2", "10.0.0.21", "10.0.0.22")
        self._up(first)
        self._up(second)
        self.assertEqual([
            ("fdb_add", self._entries({"240.0.0.1": [FLOOD, [first["mac_address"], "10.0.0.11"]]})),
            ("fdb_add", self._entries({
                "240.0.0.1": [FLOOD, [first["mac_address"], "10.0.0.11"]],
                "240.0.0.2": [FLOOD, [second["mac_address"], "10.0.0.21"],
                              [second["mac_address"], "10.0.0.22"]]})),
        ], self._fdb())

    def test_only_hosts_with_active_ports_flood(self):
        active = self._port("host-1", "10.0.0.11")
        self._port("host-2", "10.0.0.21")  # bound, never up
        self._up(active)
        [(_, entries)] = self._fdb()
        self.assertEqual(["240.0.0.1"], list(entries[self.network["id"]]["ports"]))

    def test_an_already_active_port_sends_again_for_a_restarted_agent(self):
        port = self._port("host-1", "10.0.0.11")
        self._up(port)
        self._up(port)
        self.assertEqual(["fdb_add", "fdb_add"], [event for event, _ in self._fdb()])

    def test_another_hosts_report_sends_nothing(self):
        port = self._port("host-1", "10.0.0.11")
        self._up(port, host="host-2")
        self.assertEqual([], self._fdb())

    def test_a_failure_to_send_does_not_fail_the_call(self):
        port = self._port("host-1", "10.0.0.11")

        def broken(event, **kwargs):
            raise ConnectionError("broker gone")
        self.notifier.notify = broken
        self.assertEqual({"exists": True}, self._up(port))
        self.assertEqual("ACTIVE", self.server.core.ports.get(port["id"])["status"])

    def test_a_failure_to_read_the_entries_does_not_fail_the_call(self):
        port = self._port("host-1", "10.0.0.11")
        self.useFixture(fixtures.MockPatchObject(
            l2pop.TunnelNetwork, "of", side_effect=RuntimeError("database gone")))
        self.assertEqual({"exists": True}, self._up(port))
        self.server.core.ports.delete(port["id"])
        self.assertEqual([], self._fdb())


class TestDeviceDown(L2popTestCase):
    def test_last_port_of_a_host_stops_its_flooding(self):
        port = self._port("host-1", "10.0.0.11")
        self._up(port)
        self._down(port)
        self.assertEqual(("fdb_remove", self._entries(
            {"240.0.0.1": [FLOOD, [port["mac_address"], "10.0.0.11"]]})), self._fdb()[-1])

    def test_a_host_with_another_active_port_keeps_flooding(self):
        port, other = self._port("host-1", "10.0.0.11"), self._port("host-1", "10.0.0.12")
        self._up(port)
        self._up(other)
        self._down(port)
        self.assertEqual(("fdb_remove", self._entries(
            {"240.0.0.1": [[port["mac_address"], "10.0.0.11"]]})), self._fdb()[-1])

    def test_a_port_that_was_not_active_sends_nothing(self):
        self._down(self._port("host-1", "10.0.0.11"))
        self.assertEqual([], self._fdb())


class TestApiChanges(L2popTestCase):
    def test_deleting_an_active_port_removes_it(self):
        port = self._port("host-1", "10.0.0.11")
        self._up(port)
        self.server.core.ports.delete(port["id"])
        self.assertEqual(("fdb_remove", self._entries(
            {"240.0.0.1": [FLOOD, [port["mac_address"], "10.0.0.11"]]})), self._fdb()[-1])

    def test_deleting_a_down_port_sends_nothing(self):
        self.server.core.ports.delete(self._port("host-1", "10.0.0.11")["id"])
        self.assertEqual([], self._fdb())

    def test_fixed_ip_change_removes_the_old_pair_then_sends_the_full_state(self):
        port = self._port("host-1", "10.0.0.11", "10.0.0.12")
        self._up(port)
        self.server.core.ports.update(port["id"], {"fixed_ips": [
            {"subnet_id": self.subnet["id"], "ip_address": "10.0.0.12"},
            {"subnet_id": self.subnet["id"], "ip_address": "10.0.0.13"}]})
        mac = port["mac_address"]
        self.assertEqual([
            ("fdb_remove", self._entries({"240.0.0.1": [[mac, "10.0.0.11"]]})),
            ("fdb_add", self._entries({"240.0.0.1": [FLOOD, [mac, "10.0.0.12"],
                                                     [mac, "10.0.0.13"]]})),
        ], self._fdb()[1:])

    def test_an_update_that_keeps_the_addresses_sends_nothing(self):
        port = self._port("host-1", "10.0.0.11")
        self._up(port)
        self.server.core.ports.update(port["id"], {"name": "renamed"})
        self.assertEqual(["fdb_add"], [event for event, _ in self._fdb()])

    def test_moving_an_active_port_removes_it_from_the_old_host(self):
        port = self._port("host-1", "10.0.0.11")
        self._up(port)
        self.server.core.ports.update(port["id"], {"binding:host_id": "host-2"})
        self.assertEqual([("fdb_remove", self._entries(
            {"240.0.0.1": [FLOOD, [port["mac_address"], "10.0.0.11"]]}))], self._fdb()[1:])


class TestGre(L2popTestCase):
    network_attrs = {"provider:network_type": "gre"}

    def test_entries_carry_the_gre_segment(self):
        port = self._port("host-1", "10.0.0.11")
        self._up(port)
        [(_, entries)] = self._fdb()
        self.assertEqual(("gre", self.network["provider:segmentation_id"]),
                         (entries[self.network["id"]]["network_type"],
                          entries[self.network["id"]]["segmentation_id"]))


class SilentCases:
    """Up, down, address change and delete: none of them may send an fdb message."""

    def test_nothing_is_sent(self):
        port, other = self._port("host-1", "10.0.0.11"), self._port("host-2", "10.0.0.21")
        self.assertEqual({"exists": True}, self._up(port))
        self._up(other)
        self.server.core.ports.update(port["id"], {"fixed_ips": [
            {"subnet_id": self.subnet["id"], "ip_address": "10.0.0.12"}]})
        self._down(port)
        self._up(port)
        self.server.core.ports.delete(port["id"])
        self.assertEqual("ACTIVE", self.server.core.ports.get(other["id"])["status"])
        # The notifier works: the other notifications went out.
        self.assertEqual([{"port_id": port["id"]}], self.notifier.sent("port_delete"))
        self.assertEqual([], self._fdb())


class TestDisabled(SilentCases, L2popTestCase):
    l2_population = False


class TestVlan(SilentCases, L2popTestCase):
    network_attrs = {"provider:network_type": "vlan", "provider:physical_network": "physnet1"}


class TestFlat(SilentCases, L2popTestCase):
    network_attrs = {"provider:network_type": "flat", "provider:physical_network": "physnet2"}
