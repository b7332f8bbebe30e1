"""L2 population: ARP is answered on the asking host, flooding is targeted."""

from __future__ import annotations

import re

import testscenarios

from fullstack import base, environment, probes, wait

# stestr sees (and spreads over its workers) every scenario as its own test.
load_tests = testscenarios.load_tests_apply_scenarios


class TestArpResponder(base.BaseFullStackTestCase):
    scenarios = [("vxlan", {"network_type": "vxlan"}), ("gre", {"network_type": "gre"})]

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type=self.network_type, l2_pop=True,
                                               arp_responder=True),
            [environment.HostDescription() for _ in range(2)]))

    def responder_hits(self, host, ip: str) -> int:
        flows = host.ovs.ofctl("dump-flows", "br-tun", f"table=21,arp,arp_tpa={ip}")
        return sum(int(n) for n in re.findall(r"n_packets=(\d+)", flows))

    def test_arp_request_is_answered_locally(self):
        net = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24")
        asker_host, owner_host = self.environment.hosts
        vms = self.boot_machines([asker_host, owner_host], net["id"])
        vms.ping_all()   # both hosts now know both ports through l2pop
        asker, owner = vms
        # Any ARP request from the asker that reaches the owner's namespace.
        sniffer = self.useFixture(probes.PacketCapture(
            self.ctx, "owner", owner.namespace, "eth0",
            f"arp and ether src {asker.mac_address} and arp[6:2] = 1"))
        hits_before = self.responder_hits(asker_host, owner.ip)
        asker.execute(["ip", "neigh", "flush", "all"])
        asker.assert_ping(owner.ip)

        # OVS pushes datapath statistics up to OpenFlow counters lazily.
        wait.wait_until_true(
            lambda: self.responder_hits(asker_host, owner.ip) > hits_before, timeout=30,
            sleep=0.2, exception=f"ARP responder on {asker_host.hostname} never answered "
                                 f"for {owner.ip}")
        neigh = asker.execute(["ip", "neigh", "show", owner.ip]).stdout
        self.assertIn(owner.mac_address, neigh)
        self.assertNotIn("ARP, Request", sniffer.captured_so_far())
