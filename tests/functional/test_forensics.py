"""A failing test leaves a dump of the whole deployment behind."""

from __future__ import annotations

import os

import testtools

from fullstack import base, environment, machine


class FailingScenario(base.BaseFullStackTestCase):
    """Not collected on its own (no test_ prefix): run by the test below."""

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(),
            [environment.HostDescription() for _ in range(2)]))

    def fails_after_booting(self):
        net = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24")
        self.vm = self.useFixture(machine.FakeFullstackMachine(
            self.environment.hosts[0], net["id"], self.tenant_id, self.safe_client))
        self.vm.block_until_boot()
        self.fail("on purpose")


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
