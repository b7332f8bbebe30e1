"""Neutron's OVS agent can drop a new port for good; the harness reads that in its log."""

from __future__ import annotations

import os
import types

import fixtures
import testtools

from fullstack.services.neutron import service

PORT = "dfea640b-cb9e-4b64-883c-0e3008d0df7c"
SKIPPED = (f"2026-12-07 17:27:07.237 28872 WARNING neutron.plugins.ml2.drivers.openvswitch."
           f"agent.ovs_neutron_agent [None req-5231e32a] VIF port: {PORT} has no valid ofport "
           f"(ofport=[]), skipping OF operations; the port will be retried on the next "
           f"iteration.\n")


class TestDroppedPort(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.log_path = os.path.join(self.useFixture(fixtures.TempDir()).path, "agent.log")
        self.agent = types.SimpleNamespace(name="host-2-ovs-agent", log_path=self.log_path)
        self.neutron = service.NeutronService()

    def test_a_port_skipped_for_want_of_an_ofport_is_dropped(self):
        with open(self.log_path, "w") as log:
            log.write("2026-12-07 17:27:07.231 INFO rpc_loop - iteration:1 started\n" + SKIPPED)
        reason = self.neutron.dropped_port(self.agent, PORT)
        self.assertIn(PORT, reason)
        self.assertIn(self.log_path, reason)

    def test_another_ports_drop_is_not_this_ones(self):
        with open(self.log_path, "w") as log:
            log.write(SKIPPED.replace(PORT, "11111111-2222-3333-4444-555555555555"))
        self.assertIsNone(self.neutron.dropped_port(self.agent, PORT))

    def test_no_log_yet_is_no_drop(self):
        self.assertIsNone(self.neutron.dropped_port(self.agent, PORT))
