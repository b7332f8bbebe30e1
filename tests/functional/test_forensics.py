"""A failing test leaves a dump of the whole deployment behind."""

from __future__ import annotations

import os

import fixtures
import testscenarios
import testtools
from pyroute2 import netns

from fullstack import base, cleanup, environment, prerequisites
from fullstack.resources import database, inventory


class FailingScenario(base.BaseFullStackTestCase):
    """Not collected on its own (no test_ prefix): run by the test below."""

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(),
            [environment.HostDescription() for _ in range(2)]))

    def fails_after_booting(self):
        net = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24")
        self.vm = self.boot_machine(self.environment.hosts[0], net["id"])
        self.fail("on purpose")

    fail_on_purpose = True

    def boots_and_maybe_fails(self):
        net = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24")
        self.vm = self.boot_machine(self.environment.hosts[0], net["id"])
        if self.fail_on_purpose:
            self.fail("on purpose")

    def skips_once_deployed(self):
        self.require_feature("no-such-feature", "asked for on purpose")

    def database_name(self) -> str:
        return database.database_name(self.prefix)


class TestForensics(testtools.TestCase):
    def test_failure_dumps_the_deployment(self):
        inner = FailingScenario("fails_after_booting")
        result = testtools.TestResult()
        inner.run(result)
        self.assertEqual(1, len(result.failures), result.errors)
        details = inner.getDetails()
        api = details["forensics-api"].as_text()
        self.assertIn("agent Open vSwitch agent on host-1: alive", api)
        self.assertIn(f"port {inner.vm.port['id']}", api)
        self.assertIn("ACTIVE host=host-1 vif=ovs", api)
        self.assertIn("==== host-2-ovs-agent", details["forensics-processes"].as_text())
        folder = os.path.join(inner.log_dir, "forensics")
        files = set(os.listdir(folder))
        self.assertIn(f"netns-{inner.prefix}-h1.txt", files)
        self.assertIn(f"netns-{inner.vm.namespace}.txt", files)
        with open(os.path.join(folder, "ovs-host-1.txt")) as f:
            flows = f.read()
        self.assertIn("$ ovs-ofctl dump-flows br-tun", flows)
        self.assertIn("resubmit(,22)", flows)
        with open(os.path.join(folder, f"netns-{inner.vm.namespace}.txt")) as f:
            self.assertIn(inner.vm.ip, f.read())


class TestKeepOnFailure(testtools.TestCase):
    def test_failed_deployment_is_kept_until_cleanup(self):
        self.useFixture(fixtures.EnvironmentVariable("FULLSTACK_KEEP_ON_FAILURE", "1"))
        inner = FailingScenario("fails_after_booting")
        inner.run(testtools.TestResult())
        settings = prerequisites.Settings.from_environment()
        self.addCleanup(cleanup.clean_prefix, settings, inner.prefix)
        for instance in [inner.environment.central_ovs] + [h.ovs for h in inner.environment.hosts]:
            self.addCleanup(instance.api.ovsdb_connection.stop)

        self.assertIn("left running", inner.getDetails()["kept"].as_text())
        self.assertIn(inner.vm.namespace, netns.listnetns())
        self.assertTrue(inner.environment.server.is_running())
        inner.vm.assert_ping(inner.vm.ip)   # the machine still answers itself...
        inner.environment.central_ovs.vsctl("show")   # ...and OVS still runs
        self.assertIn(inner.database_name(), database.list_databases(settings.db_admin_url))

        removed = cleanup.clean_prefix(settings, inner.prefix)
        self.assertIn(f"namespace {inner.vm.namespace}", removed)
        self.assertFalse(inner.environment.server.is_running())
        self.assertEqual({}, inventory.Inventory.take(settings, inner.prefix).leaks())


class TestSkipOnceDeployed(testtools.TestCase):
    def test_a_skip_is_no_failure_even_with_keep_on_failure(self):
        """require_feature skips with the deployment up: no dump, nothing kept."""
        self.useFixture(fixtures.EnvironmentVariable("FULLSTACK_KEEP_ON_FAILURE", "1"))
        inner = FailingScenario("skips_once_deployed")
        result = testtools.TestResult()
        inner.run(result)
        self.assertEqual(1, len(result.skip_reasons), (result.errors, result.failures))
        self.assertNotIn("kept", inner.getDetails())
        self.assertNotIn("forensics-api", inner.getDetails())
        self.assertFalse(os.path.exists(os.path.join(inner.log_dir, "forensics")))
        self.assertFalse(inner.environment.server.is_running())
        settings = prerequisites.Settings.from_environment()
        self.assertEqual({}, inventory.Inventory.take(settings, inner.prefix).leaks())


class TestScenarioCopies(testtools.TestCase):
    def test_a_failure_dumps_its_own_deployment_only(self):
        """testscenarios copies a test per scenario, and the copies share testtools'
        onException handlers: a later copy's failure must not dump the
        deployment of one that passed before it."""
        passed, failed = testscenarios.apply_scenarios(
            [("passes", {"fail_on_purpose": False}), ("fails", {"fail_on_purpose": True})],
            FailingScenario("boots_and_maybe_fails"))
        result = testtools.TestResult()
        passed.run(result)
        failed.run(result)
        self.assertEqual(1, len(result.failures), result.errors)
        self.assertEqual(failed, result.failures[0][0])
        self.assertTrue(os.path.isdir(os.path.join(failed.log_dir, "forensics")))
        self.assertFalse(os.path.exists(os.path.join(passed.log_dir, "forensics")))
