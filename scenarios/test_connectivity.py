"""Machines on different hosts reach each other over the tenant network."""

from __future__ import annotations

from fullstack import base, environment, machine


class TestConnectivity(base.BaseFullStackTestCase):
    def setUp(self):
        env = environment.Environment(
            environment.EnvironmentDescription(network_type="vxlan", l2_pop=False),
            [environment.HostDescription() for _ in range(3)])
        super().setUp(env)

    def _boot(self, network_id: str, hosts) -> machine.FakeFullstackMachinesList:
        vms = machine.FakeFullstackMachinesList([
            self.useFixture(machine.FakeFullstackMachine(
                host, network_id, self.tenant_id, self.safe_client))
            for host in hosts])
        vms.block_until_all_boot()
        return vms

    def test_connectivity(self):
        net = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24")
        vms = self._boot(net["id"], self.environment.hosts)
        vms.ping_all()

    def test_networks_are_isolated(self):
        nets = []
        for cidr in ("20.0.0.0/24", "20.0.1.0/24"):
            net = self.safe_client.create_network(self.tenant_id)
            self.safe_client.create_subnet(self.tenant_id, net["id"], cidr, gateway_ip=None)
            nets.append(net)
        hosts = self.environment.hosts
        red = self._boot(nets[0]["id"], hosts[:2])
        blue = self._boot(nets[1]["id"], hosts[1:])
        red.ping_all()
        blue.ping_all()
        # Routes straight onto the link each way: were both machines on one
        # segment, ARP and ping would now succeed; only isolation stops them.
        red[0].execute(["ip", "route", "add", blue[1].ip, "dev", "eth0"])
        blue[1].execute(["ip", "route", "add", red[0].ip, "dev", "eth0"])
        red[0].assert_no_ping(blue[1].ip)
        blue[1].assert_no_ping(red[0].ip)
