"""What an operator changes while machines run: a port set down, a network's MTU, its segment."""

from __future__ import annotations

import testscenarios

from fullstack import base, environment, wait

load_tests = testscenarios.load_tests_apply_scenarios

STATUS_TIMEOUT = 60.0


class LiveChangeTestCase(base.BaseFullStackTestCase):
    network_type = "vxlan"
    hosts = 2

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type=self.network_type),
            [environment.HostDescription() for _ in range(self.hosts)]))
        self.network = self.safe_client.create_network(
            self.tenant_id, **self.environment.env_desc.network_attrs())
        self.subnet = self.safe_client.create_subnet(self.tenant_id, self.network["id"],
                                                     "20.0.0.0/24")

    def wait_for_port_status(self, port_id: str, status: str) -> None:
        wait.wait_until_true(
            lambda: self.client.show("port", port_id)["status"] == status,
            timeout=STATUS_TIMEOUT, sleep=0.2,
            exception=lambda: f"port {port_id} is {self.client.show('port', port_id)['status']}"
                              f", not {status}, after {STATUS_TIMEOUT} s")


class TestPortAdminState(LiveChangeTestCase):
    scenarios = [("vxlan", {"network_type": "vxlan"}), ("vlan", {"network_type": "vlan"})]

    def test_port_set_down_passes_nothing_until_set_up(self):
        vms = self.boot_machines(self.environment.hosts, self.network["id"])
        vms.ping_all()
        down, peer = vms
        self.safe_client.update_port(down.port["id"], admin_state_up=False)
        self.wait_for_port_status(down.port["id"], "DOWN")
        peer.block_until_no_ping(down.ip)
        down.assert_no_ping(peer.ip)

        self.safe_client.update_port(down.port["id"], admin_state_up=True)
        self.wait_for_port_status(down.port["id"], "ACTIVE")
        peer.block_until_ping(down.ip)
        down.assert_ping(peer.ip)
