"""The plugin's fullstack scenario: a note on a port, and the host's collector told of
the port by the L2 agent's extension.

Against Neutron (``tox -e example`` in the harness's tree) all of it runs;
against neutrino the collector and the agent extension (neutrino's agents take
the same extension by its entry point), the note being Neutron's ML2 API.
"""

import sqlalchemy as sa

from fullstack import base, environment, prerequisites, wait
from port_notes import api, fullstack_support


class TestPortNotes(base.BaseFullStackTestCase):
    def setUp(self):
        # The service this run deploys (FULLSTACK_SERVICE): only Neutron's server
        # takes the ML2 extension driver.
        neutron = prerequisites.Settings.from_environment().service == "neutron"
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(
                server_config=fullstack_support.neutron_server_config() if neutron else {}),
            [environment.HostDescription(extensions=(fullstack_support.Collector(),)),
             environment.HostDescription()]))

    def test_the_collector_hears_of_each_port_wired_and_gone(self):
        host = self.environment.hosts[0]
        net = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24")
        vms = self.boot_machines(self.environment.hosts, net["id"])
        vms.ping_all()

        def wired(port_id):
            return any(report["event"] == "wired" and report["port_id"] == port_id
                       for report in fullstack_support.Collector.reports(host))

        wait.wait_until_true(lambda: wired(vms[0].port["id"]), timeout=30)
        report = next(r for r in fullstack_support.Collector.reports(host)
                      if r["port_id"] == vms[0].port["id"])
        self.assertEqual((net["id"], vms[0].mac_address),
                         (report["network_id"], report["mac_address"]))
        # Only this host's agent reports here: the other host has no collector.
        self.assertFalse(wired(vms[1].port["id"]))
        host.br_int.delete_port(vms[0].tap)   # the machine goes
        wait.wait_until_true(lambda: any(
            r["event"] == "gone" and r["port_id"] == vms[0].port["id"]
            for r in fullstack_support.Collector.reports(host)), timeout=30)

    def test_a_port_keeps_its_note_in_the_plugins_table(self):
        if self.environment.service.name != "neutron":
            self.skipTest("the note is an ML2 extension driver of Neutron's")
        net = self.safe_client.create_network(self.tenant_id)
        port = self.safe_client.create_port(self.tenant_id, net["id"], note="rack 12")
        self.assertEqual("rack 12", port[api.NOTE])
        self.assertIn(api.ALIAS, [e["alias"] for e in self.client.request(
            "GET", "/v2.0/extensions")["extensions"]])
        updated = self.client.update("port", port["id"], note="rack 13")
        self.assertEqual("rack 13", updated[api.NOTE])
        self.assertEqual("rack 13", self.client.show("port", port["id"])[api.NOTE])
        # In the table its migration made, in this test's own database.
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT note FROM port_notes WHERE port_id = :p"),
                                {"p": port["id"]}).fetchall()
        self.assertEqual([("rack 13",)], [tuple(row) for row in rows])
