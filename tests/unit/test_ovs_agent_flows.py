from __future__ import annotations

import testtools

from neutrino.agents.ovs import bridges, local_vlans, tunnel_flows


class TestTunnelFlows(testtools.TestCase):
    def test_network_flows_map_vni_and_flood_to_every_tunnel(self):
        flows = tunnel_flows.network_flows("vxlan", vni=1001, lvid=3, flood_ofports=[7, 5])
        self.assertIn("table=4,priority=1,tun_id=0x3e9,actions=mod_vlan_vid:3,resubmit(,10)",
                      flows)
        self.assertIn("table=22,priority=1,dl_vlan=3,"
                      "actions=strip_vlan,set_tunnel:0x3e9,output:5,output:7", flows)

    def test_no_flood_flow_without_tunnels(self):
        flows = tunnel_flows.network_flows("vxlan", vni=1, lvid=1, flood_ofports=[])
        self.assertEqual(1, len(flows))

    def test_gre_key_and_vni_of_one_number_map_apart(self):
        vxlan = tunnel_flows.network_flows("vxlan", vni=1001, lvid=1, flood_ofports=[])
        gre = tunnel_flows.network_flows("gre", vni=1001, lvid=2, flood_ofports=[])
        self.assertTrue(vxlan[0].startswith("table=4,"))
        self.assertTrue(gre[0].startswith("table=3,"))
        self.assertEqual(["table=0,priority=1,in_port=9,actions=resubmit(,3)"],
                         tunnel_flows.tunnel_port_flows("gre", 9))

    def test_base_flows_learn_and_return_to_br_int(self):
        flows = "\n".join(tunnel_flows.base_flows(patch_ofport=1))
        self.assertIn("in_port=1,actions=resubmit(,2)", flows)
        self.assertIn("learn(table=20", flows)
        self.assertIn("output:1", flows)

    def test_tunnel_port_name_fits_an_interface_name(self):
        name = bridges.tunnel_port_name("vxlan", "240.1.2.3")
        self.assertEqual("vxlan-f0010203", name)
        self.assertLessEqual(len(name), 15)


class TestLocalVlans(testtools.TestCase):
    def test_distinct_vlans_per_network(self):
        vlans = local_vlans.LocalVlanMap()
        a = vlans.provision("net-a", "vxlan", 1)
        b = vlans.provision("net-b", "vxlan", 2)
        self.assertNotEqual(a.lvid, b.lvid)
        self.assertIs(a, vlans.provision("net-a", "vxlan", 1))

    def test_reserved_vlan_is_reused_after_restart(self):
        vlans = local_vlans.LocalVlanMap()
        vlans.reserve("net-a", 42)
        self.assertEqual(1, vlans.provision("net-b", "vxlan", 2).lvid)
        self.assertEqual(42, vlans.provision("net-a", "vxlan", 1).lvid)

    def test_reclaim_frees_the_vlan(self):
        vlans = local_vlans.LocalVlanMap()
        lvid = vlans.provision("net-a", "vxlan", 1).lvid
        vlans.reclaim("net-a")
        self.assertEqual(lvid, vlans.provision("net-c", "vxlan", 3).lvid)
