"""The OVS agent's firewall flows: rules to matches, per-port flow sets, flow-by-flow updates."""

from __future__ import annotations

import testtools

from neutrino.agents.ovs import firewall as fw

MAC = "fa:16:3e:00:00:01"


def rule(direction="ingress", ethertype="IPv4", protocol=None, low=None, high=None,
         remote_ips=None, remote_group_id=None):
    return {"direction": direction, "ethertype": ethertype, "protocol": protocol,
            "port_range_min": low, "port_range_max": high, "remote_ips": remote_ips,
            "remote_group_id": remote_group_id}


def port(*rules, stateful=True, filtered=True, ips=("20.0.0.5",)):
    return fw.PortInfo(ofport=5, lvid=3, mac=MAC, ips=ips, filtered=filtered,
                       stateful=stateful, rules=tuple(rules))


def covered(matches):
    """Every port number the tp_dst matches cover."""
    found = set()
    for match in matches:
        if "/" in match:
            value, mask = (int(part, 16) for part in match.split("/"))
            found.update(p for p in range(65536) if p & mask == value)
        else:
            found.add(int(match))
    return found


class TestPortRanges(testtools.TestCase):
    def test_ranges_are_covered_exactly(self):
        for low, high in ((3333, 3333), (1000, 1999), (5, 8), (1, 1023), (60000, 65535),
                          (2, 65534)):
            self.assertEqual(set(range(low, high + 1)),
                             covered(fw.port_range_matches(low, high)), (low, high))

    def test_whole_range_and_none_match_any_port(self):
        self.assertEqual([None], fw.port_range_matches(1, 65535))
        self.assertEqual([None], fw.port_range_matches(None, None))

    def test_aligned_blocks_are_few(self):
        self.assertEqual(["0x400/0xfc00"], fw.port_range_matches(1024, 2047))


class TestRuleMatches(testtools.TestCase):
    def test_tcp_port_from_remote_addresses(self):
        self.assertEqual(["tcp,nw_src=20.0.0.6,tp_dst=3333", "tcp,nw_src=20.0.0.7,tp_dst=3333"],
                         fw.rule_matches(rule(protocol="tcp", low=3333, high=3333,
                                              remote_ips=["20.0.0.6", "20.0.0.7"])))

    def test_egress_matches_the_destination(self):
        self.assertEqual(["udp,nw_dst=10.0.0.0/8,tp_dst=53"],
                         fw.rule_matches(rule("egress", protocol="udp", low=53, high=53,
                                              remote_ips=["10.0.0.0/8"])))

    def test_icmp_type_and_code(self):
        self.assertEqual(["icmp,icmp_type=8,icmp_code=0"],
                         fw.rule_matches(rule(protocol="icmp", low=8, high=0)))
        self.assertEqual(["icmp"], fw.rule_matches(rule(protocol="icmp")))

    def test_protocols_by_number_and_family(self):
        self.assertEqual(["sctp6,tp_dst=9"],
                         fw.rule_matches(rule(ethertype="IPv6", protocol="132", low=9, high=9)))
        self.assertEqual(["ip,nw_proto=47"], fw.rule_matches(rule(protocol="gre")))
        self.assertEqual(["icmp6"], fw.rule_matches(rule(ethertype="IPv6",
                                                         protocol="ipv6-icmp")))
        self.assertEqual(["ipv6,ipv6_src=fd00::1"],
                         fw.rule_matches(rule(ethertype="IPv6", remote_ips=["fd00::1"])))

    def test_remote_group_without_members_allows_nothing(self):
        self.assertEqual([], fw.rule_matches(rule(protocol="tcp", remote_ips=[])))


class TestPortFlows(testtools.TestCase):
    def test_unfiltered_port_only_names_its_network(self):
        self.assertEqual(
            ["table=0,priority=10,in_port=5,actions=load:3->NXM_NX_REG6[],resubmit(,60)"],
            fw.port_flows(port(filtered=False)))

    def test_filtered_port_is_dispatched_and_anti_spoofed(self):
        flows = fw.port_flows(port())
        self.assertIn("table=0,priority=10,in_port=5,actions=load:5->NXM_NX_REG5[],"
                      "load:3->NXM_NX_REG6[],resubmit(,71)", flows)
        self.assertIn(f"table=60,priority=100,dl_vlan=3,dl_dst={MAC},actions="
                      "load:5->NXM_NX_REG5[],load:3->NXM_NX_REG6[],strip_vlan,resubmit(,81)",
                      flows)
        self.assertIn(f"table=71,priority=65,reg5=5,ip,dl_src={MAC},nw_src=20.0.0.5,"
                      "actions=ct(table=72,zone=NXM_NX_REG6[0..15])", flows)
        self.assertIn(f"table=71,priority=95,reg5=5,arp,dl_src={MAC},arp_sha={MAC},"
                      "arp_spa=20.0.0.5,actions=resubmit(,60)", flows)
        self.assertIn("table=71,priority=10,reg5=5,actions=drop", flows)

    def test_a_rule_passes_new_and_established_but_only_new_is_committed(self):
        flows = fw.port_flows(port(rule(protocol="tcp", low=22, high=22)))
        self.assertIn("table=82,priority=70,reg5=5,ct_state=+new-est,tcp,tp_dst=22,"
                      "actions=ct(commit,zone=NXM_NX_REG6[0..15]),output:5", flows)
        self.assertIn("table=82,priority=70,reg5=5,ct_state=+est-rel-rpl,tcp,tp_dst=22,"
                      "actions=output:5", flows)
        # What no rule allows any more is marked, so its replies stop too.
        self.assertIn("table=82,priority=40,reg5=5,ct_state=+est-rel-rpl,ip,actions=ct(commit,"
                      "zone=NXM_NX_REG6[0..15],exec(load:1->NXM_NX_CT_MARK[]))", flows)

    def test_stateless_port_uses_no_conntrack(self):
        flows = fw.port_flows(port(rule(protocol="tcp", low=22, high=22), stateful=False))
        self.assertFalse([flow for flow in flows if "ct(" in flow or "ct_state" in flow])
        self.assertIn("table=82,priority=70,reg5=5,tcp,tp_dst=22,actions=output:5", flows)
        self.assertIn("table=81,priority=65,reg5=5,ip,actions=resubmit(,82)", flows)

    def test_every_flow_has_a_distinct_match(self):
        flows = fw.port_flows(port(rule(protocol="tcp", low=1000, high=1999,
                                        remote_ips=["20.0.0.6", "20.0.0.7"]),
                                   rule("egress")))
        self.assertEqual(len(flows), len({fw.match_of(flow) for flow in flows}))


class TestResolveRules(testtools.TestCase):
    def test_remote_groups_become_member_addresses_of_the_rules_family(self):
        info = {
            "security_groups": {
                "sg": {"stateful": True, "rules": [
                    {"id": "r1", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                     "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": None,
                     "remote_group_id": "peers"},
                    {"id": "r2", "direction": "egress", "ethertype": "IPv4", "protocol": None,
                     "port_range_min": None, "port_range_max": None,
                     "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": None}]}},
            "sg_member_ips": {"peers": {"IPv4": ["20.0.0.9", "20.0.0.8"], "IPv6": ["fd00::9"]}},
        }
        stateful, rules = fw.resolve_rules(["sg", "unknown"], info)
        self.assertTrue(stateful)
        self.assertEqual([["20.0.0.8", "20.0.0.9"], None], [r["remote_ips"] for r in rules])

    def test_a_stateless_group_makes_the_port_stateless(self):
        info = {"security_groups": {"sg": {"stateful": False, "rules": []}},
                "sg_member_ips": {}}
        self.assertEqual((False, ()), fw.resolve_rules(["sg"], info))


class FakeBridge:
    def __init__(self):
        self.added: list[list[str]] = []
        self.deleted: list[list[str]] = []

    def add_flows(self, flows):
        self.added.append(list(flows))

    def delete_flows(self, matches, strict=False):
        assert strict
        self.deleted.append(list(matches))


class TestOvsFirewall(testtools.TestCase):
    def test_a_changed_rule_changes_only_its_flows(self):
        bridge = FakeBridge()
        firewall = fw.OvsFirewall(bridge)
        ssh = rule(protocol="tcp", low=22, high=22)
        firewall.set_port("tap1", port(ssh), ["sg"])
        first = bridge.added[-1]
        web = rule(protocol="tcp", low=80, high=80)
        firewall.set_port("tap1", port(web), ["sg"])
        self.assertEqual(2, len(bridge.added[-1]))
        self.assertTrue(all("tp_dst=80" in flow for flow in bridge.added[-1]))
        self.assertEqual(2, len(bridge.deleted[-1]))
        self.assertTrue(all("tp_dst=22" in match for match in bridge.deleted[-1]))
        self.assertGreater(len(first), 20)

    def test_ports_are_found_by_group_and_by_remote_group(self):
        firewall = fw.OvsFirewall(FakeBridge())
        firewall.set_port("tap1", port(rule(remote_ips=[], remote_group_id="peers")), ["sg"])
        firewall.set_port("tap2", port(), ["other"])
        self.assertEqual({"tap1"}, firewall.ports_of_groups(["sg", "x"]))
        self.assertEqual({"tap1"}, firewall.ports_naming_groups(["peers"]))
        firewall.remove_port("tap1")
        self.assertEqual(set(), firewall.ports_of_groups(["sg"]))
