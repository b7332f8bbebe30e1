"""IP address management: default pools, pool checks, allocation on ports."""

from __future__ import annotations

import ipaddress

import testtools

from neutrino.server.lib import errors, free_values
from neutrino.server.plugins.ml2 import allocation_pools as pools
from tests.unit import test_server_support as support

ip = ipaddress.ip_address
net = ipaddress.ip_network


class TestDefaultPools(testtools.TestCase):
    def test_ipv4_skips_network_gateway_and_broadcast(self):
        cidr = net("10.0.0.0/24")
        gateway = pools.default_gateway(cidr)
        self.assertEqual(ip("10.0.0.1"), gateway)
        self.assertEqual([(ip("10.0.0.2"), ip("10.0.0.254"))],
                         pools.default_pools(cidr, gateway))

    def test_gateway_in_the_middle_splits_the_range(self):
        self.assertEqual([(ip("10.0.0.1"), ip("10.0.0.99")), (ip("10.0.0.101"), ip("10.0.0.254"))],
                         pools.default_pools(net("10.0.0.0/24"), ip("10.0.0.100")))

    def test_no_gateway_leaves_the_whole_usable_range(self):
        self.assertEqual([(ip("10.0.0.1"), ip("10.0.0.6"))],
                         pools.default_pools(net("10.0.0.0/29"), None))

    def test_ipv6_has_no_broadcast_to_skip(self):
        cidr = net("fd00::/64")
        self.assertEqual([(ip("fd00::2"), ip("fd00::ffff:ffff:ffff:ffff"))],
                         pools.default_pools(cidr, pools.default_gateway(cidr)))

    def test_tiny_subnets(self):
        self.assertEqual([(ip("10.0.0.2"), ip("10.0.0.2"))],
                         pools.default_pools(net("10.0.0.0/30"), ip("10.0.0.1")))
        self.assertIsNone(pools.default_gateway(net("10.0.0.1/32")))
        self.assertEqual([], pools.default_pools(net("10.0.0.1/32"), None))


class TestCheckPools(testtools.TestCase):
    cidr = net("10.0.0.0/24")

    def _check(self, *ranges, gateway=None):
        return pools.check_pools(self.cidr, [(ip(a), ip(b)) for a, b in ranges],
                                 None if gateway is None else ip(gateway))

    def test_sorted(self):
        self.assertEqual([(ip("10.0.0.5"), ip("10.0.0.6")), (ip("10.0.0.10"), ip("10.0.0.20"))],
                         self._check(("10.0.0.10", "10.0.0.20"), ("10.0.0.5", "10.0.0.6")))

    def test_bad_pools_are_400_naming_allocation_pools(self):
        for ranges in ([("10.0.0.9", "10.0.0.5")],
                       [("10.0.0.5", "10.0.1.5")],
                       [("10.0.0.0", "10.0.0.5")],
                       [("10.0.0.5", "10.0.0.255")],
                       [("10.0.0.5", "10.0.0.9"), ("10.0.0.9", "10.0.0.12")],
                       [("fd00::1", "fd00::5")]):
            error = self.assertRaises(errors.BadRequest, self._check, *ranges)
            self.assertIn("allocation_pools", error.message)

    def test_gateway_inside_a_pool_is_a_conflict(self):
        error = self.assertRaises(errors.Conflict, self._check, ("10.0.0.1", "10.0.0.9"),
                                  gateway="10.0.0.1")
        self.assertEqual("GatewayConflictWithAllocationPools", error.error_type)

    def test_gateway_must_be_a_usable_address_of_the_same_version(self):
        for gateway in ("10.0.1.1", "10.0.0.0", "10.0.0.255", "fd00::1"):
            error = self.assertRaises(errors.BadRequest, pools.check_gateway,
                                      self.cidr, ip(gateway))
            self.assertIn("gateway_ip", error.message)


class TestPortAddresses(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.server = self.useFixture(support.ServerFixture()).server
        self.network = support.create_network(self.server)

    def _subnet(self, cidr="10.0.0.0/24", **attrs):
        return support.create_subnet(self.server, network_id=self.network["id"], cidr=cidr,
                                     **attrs)

    def _port(self, **attrs):
        return support.create_port(self.server, network_id=self.network["id"], **attrs)

    def test_default_is_lowest_free_of_the_first_subnet(self):
        first = self._subnet()
        self._subnet("10.0.1.0/24")
        self.assertEqual([{"subnet_id": first["id"], "ip_address": "10.0.0.2"}],
                         self._port()["fixed_ips"])
        self.assertEqual("10.0.0.3", self._port()["fixed_ips"][0]["ip_address"])

    def test_pools_are_respected_and_exhaustion_is_409(self):
        self._subnet(allocation_pools=[{"start": "10.0.0.20", "end": "10.0.0.21"}])
        self.assertEqual(["10.0.0.20", "10.0.0.21"],
                         [self._port()["fixed_ips"][0]["ip_address"] for _ in range(2)])
        error = self.assertRaises(errors.Conflict, self._port)
        self.assertEqual("IpAddressGenerationFailure", error.error_type)
        self.assertIn(self.network["id"], error.message)

    def test_deleting_a_port_frees_its_address(self):
        self._subnet("10.0.0.0/30")
        port = self._port()
        self.assertRaises(errors.Conflict, self._port)
        self.server.core.ports.delete(port["id"])
        self.assertEqual("10.0.0.2", self._port()["fixed_ips"][0]["ip_address"])

    def test_network_without_subnets_gives_no_address(self):
        self.assertEqual([], self._port()["fixed_ips"])

    def test_requested_address(self):
        subnet = self._subnet()
        port = self._port(fixed_ips=[{"ip_address": "10.0.0.50"}])
        self.assertEqual([{"subnet_id": subnet["id"], "ip_address": "10.0.0.50"}],
                         port["fixed_ips"])
        # Outside the pools but inside the subnet is fine: routers take the gateway.
        gateway = self._port(fixed_ips=[{"subnet_id": subnet["id"], "ip_address": "10.0.0.1"}])
        self.assertEqual("10.0.0.1", gateway["fixed_ips"][0]["ip_address"])

    def test_requested_address_in_use_is_409(self):
        self._subnet()
        self._port(fixed_ips=[{"ip_address": "10.0.0.50"}])
        error = self.assertRaises(errors.Conflict, self._port,
                                  fixed_ips=[{"ip_address": "10.0.0.50"}])
        self.assertEqual("IpAddressAlreadyAllocated", error.error_type)

    def test_requested_address_off_the_subnet_is_400(self):
        subnet = self._subnet()
        error = self.assertRaises(errors.BadRequest, self._port,
                                  fixed_ips=[{"subnet_id": subnet["id"],
                                              "ip_address": "10.9.0.5"}])
        self.assertEqual("InvalidIpForSubnet", error.error_type)
        error = self.assertRaises(errors.BadRequest, self._port,
                                  fixed_ips=[{"ip_address": "10.9.0.5"}])
        self.assertEqual("InvalidIpForNetwork", error.error_type)
        error = self.assertRaises(errors.BadRequest, self._port,
                                  fixed_ips=[{"ip_address": "10.0.0.255"}])
        self.assertIn("fixed_ips", error.message)

    def test_two_requests_on_one_subnet_get_two_addresses(self):
        subnet = self._subnet()
        port = self._port(fixed_ips=[{"subnet_id": subnet["id"]}, {"subnet_id": subnet["id"]}])
        self.assertEqual(["10.0.0.2", "10.0.0.3"], [f["ip_address"] for f in port["fixed_ips"]])

    def test_update_keeps_moves_and_releases(self):
        subnet = self._subnet()
        port = self._port()
        kept = self.server.core.ports.update(port["id"], {"fixed_ips": [
            {"subnet_id": subnet["id"]}, {"subnet_id": subnet["id"]}]})
        self.assertEqual(["10.0.0.2", "10.0.0.3"], [f["ip_address"] for f in kept["fixed_ips"]])
        moved = self.server.core.ports.update(port["id"], {"fixed_ips": [{"ip_address": "10.0.0.3"},
                                                                    {"ip_address": "10.0.0.9"}]})
        self.assertEqual(["10.0.0.3", "10.0.0.9"], [f["ip_address"] for f in moved["fixed_ips"]])
        # 10.0.0.2 was released by the move and is the lowest free again.
        self.assertEqual("10.0.0.2", self._port()["fixed_ips"][0]["ip_address"])

    def test_concurrent_ports_get_distinct_addresses_and_macs(self):
        self._subnet()
        ports = support.run_in_threads(8, lambda index: self._port(name=f"p{index}"))
        addresses = {p["fixed_ips"][0]["ip_address"] for p in ports}
        self.assertEqual({f"10.0.0.{n}" for n in range(2, 10)}, addresses)
        self.assertEqual(8, len({p["mac_address"] for p in ports}))


class TestFreeValues(testtools.TestCase):
    """After a lost race a request chooses among more free values, so racers spread."""

    def test_a_first_attempt_takes_the_lowest_free(self):
        self.assertEqual(3, free_values.first_free(range(1, 100), {1, 2}))
        self.assertIsNone(free_values.first_free(range(1, 3), {1, 2}))

    def test_retries_choose_in_a_window_that_doubles(self):
        self.assertEqual([1, 2, 4, 8, 64], [free_values.window_for(n) for n in (1, 2, 3, 4, 99)])
        chosen = {free_values.first_free(range(1, 100), {1, 2}, attempt=3) for _ in range(200)}
        self.assertEqual({3, 4, 5, 6}, chosen)

    def test_a_window_larger_than_what_is_free_takes_what_there_is(self):
        self.assertEqual(9, free_values.first_free(range(1, 10), set(range(1, 9)), attempt=5))
