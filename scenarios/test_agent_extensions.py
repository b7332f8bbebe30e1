"""L2 agent extensions hear of every port wired, updated and gone (neutrino).

The OVS agent loads ``[agent] extensions`` (here by import path, through
the host's ``agent_config`` overlay) and calls each on a port's way in,
after each update of it, and on its way out.  Neutron's agent takes only
entry point names: the out-of-tree example (``examples/``) shows that.
"""

from __future__ import annotations

from fullstack import base, environment, wait

RECORDER = "scenarios.port_recorder.PortRecorder"


class TestL2AgentExtensions(base.BaseFullStackTestCase):
    required_features = {"l2-agent-extensions-by-import-path":
                         "Neutron's [agent] extensions takes entry point names only"}

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type="vxlan"),
            [environment.HostDescription(agent_config={
                "l2": {"agent": {"extensions": [RECORDER]}}})]))
        self.host = self.environment.hosts[0]

    def _recorded(self, table: str, record: str) -> dict[str, str]:
        found = self.host.ovs.api.db_get(table, record, "external_ids").execute(
            check_error=True)
        return {key: value for key, value in found.items() if key.startswith("recorded-")}

    def test_wired_updated_and_gone(self):
        net = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24")
        vm = self.boot_machine(self.host, net["id"])
        tap = vm.tap

        def recorded_calls(count: int) -> bool:
            return self._recorded("Interface", tap).get("recorded-calls") == str(count)

        wait.wait_until_true(lambda: recorded_calls(1), timeout=30)
        recorded = self._recorded("Interface", tap)
        self.assertEqual((net["id"], vm.mac_address),
                         (recorded["recorded-network"], recorded["recorded-mac"]))
        self.assertEqual(self.host.ovs.vsctl("get", "Port", tap, "tag").strip(),
                         recorded["recorded-vlan"])
        # An update reaches it again, with fresh details.
        self.client.update("port", vm.port["id"], name="renamed")
        wait.wait_until_true(lambda: recorded_calls(2), timeout=30)
        self.host.br_int.delete_port(tap)   # as when the machine goes
        wait.wait_until_true(
            lambda: f"recorded-gone-{vm.port['id']}" in self._recorded("Bridge", "br-int"),
            timeout=30)
