"""Ports whose binding failed because their host's L2 agent was dead are bound once it is back."""

from __future__ import annotations

from fullstack import base, environment, machine, wait

OVS_AGENT = "Open vSwitch agent"
AGENT_TIMEOUT = 60.0
BIND_TIMEOUT = 60.0


class PortRebindTestCase(base.BaseFullStackTestCase):
    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type="vxlan", agent_down_time=10),
            [environment.HostDescription(l3_agent=True), environment.HostDescription()]))
        self.network = self.safe_client.create_network(self.tenant_id)
        self.subnet = self.safe_client.create_subnet(self.tenant_id, self.network["id"],
                                                     "20.0.0.0/24")
        self.host = self.environment.hosts[0]

    def l2_agent_alive(self) -> bool:
        [agent] = self.client.list_agents(host=self.host.hostname, agent_type=OVS_AGENT)
        return bool(agent["alive"])

    def stop_l2_agent_until_dead(self) -> None:
        self.host.l2_agent.stop()
        wait.wait_until_true(lambda: not self.l2_agent_alive(), timeout=AGENT_TIMEOUT,
                             sleep=0.5,
                             exception=f"the L2 agent of {self.host.hostname} still alive "
                                       f"{AGENT_TIMEOUT} s after it stopped")

    def start_l2_agent_until_alive(self) -> None:
        self.host.l2_agent.start()
        wait.wait_until_true(self.l2_agent_alive, timeout=AGENT_TIMEOUT, sleep=0.5,
                             exception=f"the L2 agent of {self.host.hostname} not alive "
                                       f"{AGENT_TIMEOUT} s after it started")

    def vif_type(self, port_id: str) -> str:
        return str(self.client.show("port", port_id)["binding:vif_type"])

    def wait_until_bound_and_active(self, port_id: str) -> None:
        def bound() -> bool:
            port = self.client.show("port", port_id)
            return port["binding:vif_type"] == "ovs" and port["status"] == "ACTIVE"

        wait.wait_until_true(
            bound, timeout=BIND_TIMEOUT, sleep=0.5,
            exception=lambda: f"port {port_id} is {self.vif_type(port_id)}, "
                              f"{self.client.show('port', port_id)['status']} "
                              f"{BIND_TIMEOUT} s after its L2 agent came back")


class TestVMPortRebind(PortRebindTestCase):
    def test_vm_port_is_bound_when_its_l2_agent_comes_back(self):
        first, peer = self.boot_machines(self.environment.hosts, self.network["id"])
        self.assertEqual("ovs", self.vif_type(first.port["id"]))
        self.stop_l2_agent_until_dead()

        # Plugged like any instance, but nobody can bind it now.
        late = self.useFixture(machine.FakeFullstackMachine(
            self.host, self.network["id"], self.tenant_id, self.safe_client))
        self.assertEqual("binding_failed", self.vif_type(late.port["id"]))

        self.start_l2_agent_until_alive()
        self.wait_until_bound_and_active(late.port["id"])
        late.block_until_ping(peer.ip)
        first.assert_ping(peer.ip)


class TestRouterPortRebind(PortRebindTestCase):
    def test_router_port_is_bound_when_its_l2_agent_comes_back(self):
        peer = self.boot_machine(self.environment.hosts[1], self.network["id"])
        self.stop_l2_agent_until_dead()

        router = self.safe_client.create_router(self.tenant_id)
        self.safe_client.add_router_interface(router["id"], self.subnet["id"])
        [port] = self.client.list_ports(device_id=router["id"])
        wait.wait_until_true(
            lambda: self.vif_type(port["id"]) == "binding_failed", timeout=BIND_TIMEOUT,
            sleep=0.5, exception=lambda: f"router port {port['id']} is "
                                         f"{self.vif_type(port['id'])}, not binding_failed")

        self.start_l2_agent_until_alive()
        self.wait_until_bound_and_active(port["id"])
        peer.block_until_ping(self.subnet["gateway_ip"])
