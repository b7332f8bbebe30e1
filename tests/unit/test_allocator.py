from __future__ import annotations

import fixtures
import testtools

from fullstack.resources import allocator


class TestRegistry(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.registry = allocator.Registry(self.useFixture(fixtures.TempDir()).path)

    def test_prefix_is_short_and_released(self):
        fixture = allocator.PrefixAllocation(self.registry)
        with fixture:
            self.assertRegex(fixture.value, r"^fs[a-z0-9]{4}$")
            self.assertIn(fixture.value, self.registry.held("prefix"))
        self.assertEqual({}, self.registry.held("prefix"))

    def test_taken_values_are_skipped(self):
        values = iter(["a", "a", "b"])
        self.assertEqual("a", self.registry.allocate("k", "o1", lambda: next(values)))
        self.assertEqual("b", self.registry.allocate("k", "o2", lambda: next(values)))

    def test_exhaustion_is_reported(self):
        self.registry.allocate("k", "o", lambda: "only")
        self.assertRaises(allocator.AllocationExhausted,
                          self.registry.allocate, "k", "o", lambda: "only")

    def test_release_owner_frees_only_that_owner(self):
        self.registry.allocate("net", "run1", lambda: "x")
        self.registry.allocate("port", "run1", lambda: "1")
        self.registry.allocate("net", "run2", lambda: "y")
        freed = self.registry.release_owner("run1")
        self.assertEqual(sorted([("net", "x"), ("port", "1")]), sorted(freed))
        self.assertEqual({"y": "run2"}, self.registry.held("net"))

    def test_network_is_a_24_in_240(self):
        with allocator.NetworkAllocation(self.registry, "run") as fixture:
            self.assertEqual(24, fixture.network.prefixlen)
            self.assertEqual(240, fixture.network.ip.words[0])

    def test_port_in_range(self):
        with allocator.PortAllocation(self.registry, "run") as fixture:
            self.assertTrue(allocator.PORT_RANGE[0] <= fixture.port <= allocator.PORT_RANGE[1])

    def test_owner_alive(self):
        with allocator.PrefixAllocation(self.registry) as fixture:
            self.assertTrue(allocator.owner_alive(fixture.owner))
        self.assertFalse(allocator.owner_alive("pid:1:0.00"))
        self.assertFalse(allocator.owner_alive("garbage"))
