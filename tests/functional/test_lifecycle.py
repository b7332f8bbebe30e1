"""A whole lifecycle of the low-level fixtures leaves the machine as it was."""

from __future__ import annotations

import os
import sys
from concurrent.futures import Future

import fixtures

from fullstack import base, environment
from fullstack import host as host_module
from fullstack.resources import (
    cable,
    daemon,
    database,
    inventory,
    namespace,
    ovs,
    rabbitmq,
    records,
)


class Deployment(fixtures.Fixture):
    """One of everything: namespace, veth, OVS instance, vhost, database, process."""

    def __init__(self, test: base.HarnessTestCase, fail_at_end: bool = False):
        super().__init__()
        self.test = test
        self.fail_at_end = fail_at_end

    def _setUp(self) -> None:
        t = self.test
        ns = self.useFixture(namespace.Namespace(f"{t.prefix}-life"))
        instance = self.useFixture(ovs.OvsInstance(
            "life", ns.name, os.path.join(t.run_dir, "ovs", "life"), t.ctx.owner))
        bridge = self.useFixture(instance.bridge("br-life"))
        self.useFixture(cable.Cable(bridge, "v-in", f"{t.prefix}-v"))
        self.useFixture(rabbitmq.RabbitmqVhost(t.settings.rabbit_admin_url, t.prefix))
        self.useFixture(database.Database(t.settings.db_admin_url, t.prefix,
                                          os.path.join(t.run_dir, "db")))
        self.useFixture(daemon.ProcessFixture(
            "sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], t.ctx.owner,
            namespace=ns.name))
        if self.fail_at_end:
            raise RuntimeError("set-up failed half-way on purpose")


class TestLifecycle(base.HarnessTestCase):
    def assert_nothing_added(self, before: inventory.Inventory) -> None:
        after = inventory.Inventory.take(self.settings, self.prefix)
        self.assertEqual({}, after.added_since(before))
        self.assertEqual([], records.recorded_processes(self.settings.state_dir, self.prefix))

    def test_full_lifecycle_leaves_nothing(self):
        before = inventory.Inventory.take(self.settings, self.prefix)
        with Deployment(self):
            during = inventory.Inventory.take(self.settings, self.prefix).added_since(before)
            self.assertEqual({"namespaces", "links", "child_pids", "vhosts", "rabbit_users",
                              "databases"}, set(during))
        self.assert_nothing_added(before)

    def test_half_built_setup_unwinds(self):
        before = inventory.Inventory.take(self.settings, self.prefix)
        exc = self.assertRaises(fixtures.MultipleExceptions,
                                Deployment(self, fail_at_end=True).setUp)
        self.assertIn("half-way on purpose", str(exc.args[0][1]))
        self.assert_nothing_added(before)


class TestEnvironmentUnwinds(base.HarnessTestCase):
    def test_a_host_failing_among_parallel_ones_leaves_nothing(self):
        """Hosts are built side by side: the ones that were built go too."""
        real = host_module.Host._cable_to_central

        def cable_to_central(host: host_module.Host) -> None:
            if host.number == 2:   # its agents are running: they go too
                raise RuntimeError("host-2 failed half-way on purpose")
            real(host)

        self.useFixture(fixtures.MockPatchObject(host_module.Host, "_cable_to_central",
                                                 cable_to_central))
        before = inventory.Inventory.take(self.settings, self.prefix)
        env = environment.Environment(environment.EnvironmentDescription(),
                                      [environment.HostDescription() for _ in range(3)],
                                      ctx=self.ctx)
        exc = self.assertRaises(fixtures.MultipleExceptions, env.setUp)
        self.assertIn("host-2 failed half-way on purpose", str(exc.args))
        built = {name for name in env.timings if name in ("host-1", "host-2", "host-3")}
        self.assertEqual({"host-1", "host-3"}, built)
        after = inventory.Inventory.take(self.settings, self.prefix)
        self.assertEqual({}, after.added_since(before))
        self.assertEqual([], records.recorded_processes(self.settings.state_dir, self.prefix))

    def test_a_centre_failing_while_chassis_are_built_leaves_nothing(self):
        """Hosts' chassis (namespace, OVS) are built while the centre comes up:
        those no host adopted go with the environment."""
        seen: list[str] = []

        def place_regions(env: environment.Environment, central: Future) -> None:
            central.result()   # built, and adopted by no one
            seen.extend(namespace.starting_with(f"{self.prefix}-"))
            raise RuntimeError("the centre failed on purpose")

        self.useFixture(fixtures.MockPatchObject(environment.Environment, "_place_regions",
                                                 place_regions))
        before = inventory.Inventory.take(self.settings, self.prefix)
        env = environment.Environment(environment.EnvironmentDescription(),
                                      [environment.HostDescription() for _ in range(2)],
                                      ctx=self.ctx)
        exc = self.assertRaises(fixtures.MultipleExceptions, env.setUp)
        self.assertIn("the centre failed on purpose", str(exc.args))
        self.assertIn(f"{self.prefix}-central", seen)
        after = inventory.Inventory.take(self.settings, self.prefix)
        self.assertEqual({}, after.added_since(before))
        self.assertEqual([], records.recorded_processes(self.settings.state_dir, self.prefix))
