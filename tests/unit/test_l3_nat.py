from __future__ import annotations

import testtools

from neutrino.agents.l3 import nat, router


class TestNatRules(testtools.TestCase):
    def test_floating_ips_come_before_router_snat(self):
        rules = nat.nat_rules("qg-1", "172.24.4.10", True, ["10.0.1.0/24"], [
            {"floating_ip_address": "172.24.4.20", "fixed_ip_address": "10.0.1.5"}])
        lines = rules.splitlines()
        self.assertEqual("*nat", lines[0])
        self.assertEqual("COMMIT", lines[-1])
        dnat = lines.index("-A PREROUTING -d 172.24.4.20/32 -j DNAT --to-destination 10.0.1.5")
        fip_snat = lines.index(
            "-A POSTROUTING -s 10.0.1.5/32 -o qg-1 -j SNAT --to-source 172.24.4.20")
        snat = lines.index(
            "-A POSTROUTING -s 10.0.1.0/24 -o qg-1 -j SNAT --to-source 172.24.4.10")
        self.assertLess(dnat, snat)
        self.assertLess(fip_snat, snat)

    def test_no_gateway_means_no_translation(self):
        rules = nat.nat_rules(None, None, True, ["10.0.1.0/24"], [])
        self.assertNotIn("-A ", rules)

    def test_snat_can_be_disabled(self):
        rules = nat.nat_rules("qg-1", "172.24.4.10", False, ["10.0.1.0/24"], [])
        self.assertNotIn("SNAT", rules)


class TestDeviceNames(testtools.TestCase):
    def test_names_fit_and_differ_per_kind(self):
        port_id = "3f2a9c1e-0000-4000-8000-000000000000"
        names = {router.device_name(router.INTERNAL, port_id),
                 router.device_name(router.GATEWAY, port_id), router.host_side_name(port_id)}
        self.assertEqual(3, len(names))
        self.assertTrue(all(len(name) <= 15 for name in names))
