"""A requested segmentation id is the one on the wire, and is freed on delete."""

from __future__ import annotations

import re

import testscenarios

from fullstack import base, environment, probes

# stestr sees (and spreads over its workers) every scenario as its own test.
load_tests = testscenarios.load_tests_apply_scenarios

# What tcpdump prints for the segment of each type.
WIRE_SIGNS = {
    "vxlan": ("h1-data", "udp port 4789", r"vni {seg}\b"),
    "gre": ("h1-data", "proto gre", r"key=0x{seg:x}\b"),
    "vlan": ("h1-phys", "vlan {seg}", r"vlan {seg}\b"),
}
SEGMENTATION_ID = {"vxlan": 1777, "gre": 1778, "vlan": 1779}


class TestSegmentationId(base.BaseFullStackTestCase):
    scenarios = [(kind, {"network_type": kind}) for kind in WIRE_SIGNS]

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type=self.network_type),
            [environment.HostDescription() for _ in range(2)]))

    def provider_network(self, seg: int) -> dict:
        attrs = {"provider:network_type": self.network_type,
                 "provider:segmentation_id": seg}
        if self.network_type == "vlan":
            attrs["provider:physical_network"] = "physnet1"
        return self.safe_client.create_network(self.tenant_id, **attrs)

    def test_traffic_carries_the_requested_segmentation_id(self):
        seg = SEGMENTATION_ID[self.network_type]
        net = self.provider_network(seg)
        self.assertEqual(seg, net["provider:segmentation_id"])
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24")
        vms = self.boot_machines(self.environment.hosts, net["id"])
        interface, bpf, sign = WIRE_SIGNS[self.network_type]
        sniffer = self.useFixture(probes.PacketCapture(
            self.ctx, interface, self.environment.central_namespace.name, interface,
            bpf.format(seg=seg)))
        vms.ping_all()
        lines = sniffer.wait_for_packets()
        self.assertTrue(any(re.search(sign.format(seg=seg), line) for line in lines),
                        "\n".join(lines))

    def test_deleting_the_network_frees_its_segmentation_id(self):
        seg = SEGMENTATION_ID[self.network_type]
        first = self.provider_network(seg)
        self.client.delete("network", first["id"])
        again = self.provider_network(seg)
        self.assertEqual(seg, again["provider:segmentation_id"])
