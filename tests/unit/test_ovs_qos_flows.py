"""What a port's QoS rules become on the bridges (neutrino.agents.ovs.qos_flows)."""

from __future__ import annotations

import types

import testtools

from neutrino.agents.ovs import extensions, qos, qos_flows

MAC = "fa:16:3e:00:00:01"


def rule(kind: str, direction: str = "egress", **values: int) -> dict:
    return {"type": kind, "direction": direction, **values}


class TestPortQos(testtools.TestCase):
    def test_no_rules_ask_for_nothing(self):
        self.assertTrue(qos_flows.port_qos(5, MAC, [], physical=True).empty)

    def test_egress_limits_are_meters_on_what_the_port_sends(self):
        wanted = qos_flows.port_qos(5, MAC, [
            rule("bandwidth_limit", max_kbps=10000, max_burst_kbps=0),
            rule("packet_rate_limit", max_kpps=2, max_burst_kpps=1)], physical=False)
        self.assertEqual([
            "meter=21,kbps,bands=type=drop,rate=10000",
            "meter=22,pktps,burst,bands=type=drop,rate=2000,burst_size=1000"],
            [meter.spec() for meter in wanted.meters])
        self.assertEqual([
            "table=0,priority=204,in_port=5,reg2=0/0x1,actions=meter:21,"
            "load:1->NXM_NX_REG2[0],resubmit(,0)",
            "table=0,priority=203,in_port=5,reg2=0/0x2,actions=meter:22,"
            "load:1->NXM_NX_REG2[1],resubmit(,0)"], list(wanted.int_flows))
        self.assertIsNone(wanted.ingress_limit)

    def test_ingress_limits_a_queue_for_bandwidth_and_a_meter_by_mac_for_packets(self):
        wanted = qos_flows.port_qos(5, MAC, [
            rule("bandwidth_limit", "ingress", max_kbps=3000, max_burst_kbps=300),
            rule("packet_rate_limit", "ingress", max_kpps=1, max_burst_kpps=0)],
            physical=False)
        self.assertEqual((3_000_000, 300_000), wanted.ingress_limit)
        self.assertEqual(
            [f"table=60,priority=200,dl_dst={MAC},reg2=0/0x10,actions=meter:23,"
             "load:1->NXM_NX_REG2[4],resubmit(,60)"], list(wanted.int_flows))

    def test_dscp_marks_both_families_keeping_ecn(self):
        wanted = qos_flows.port_qos(7, MAC, [rule("dscp_marking", dscp_mark=26)],
                                    physical=False)
        self.assertEqual(2, len(wanted.int_flows))
        self.assertTrue(all("mod_nw_tos:104" in flow for flow in wanted.int_flows))
        self.assertEqual({"ip", "ipv6"}, {flow.split(",")[3] for flow in wanted.int_flows})

    def test_minimum_bandwidth_only_on_a_physical_network(self):
        rules = [rule("minimum_bandwidth", min_kbps=1000)]
        self.assertTrue(qos_flows.port_qos(7, MAC, rules, physical=False).empty)
        wanted = qos_flows.port_qos(7, MAC, rules, physical=True)
        self.assertEqual(1_000_000, wanted.min_rate)
        self.assertIn("load:7->NXM_NX_PKT_MARK[]", wanted.int_flows[0])
        self.assertEqual(["table=0,priority=201,pkt_mark=7,reg2=0/0x8,actions=set_queue:7,"
                          "load:1->NXM_NX_REG2[3],resubmit(,0)"], list(wanted.phys_flows))

    def test_each_step_is_its_own_bit_and_priority(self):
        steps = (qos_flows.EGRESS_BANDWIDTH, qos_flows.EGRESS_PACKET_RATE, qos_flows.DSCP,
                 qos_flows.MINIMUM_BANDWIDTH, qos_flows.INGRESS_PACKET_RATE)
        self.assertEqual(len(steps), len({bit for bit, _ in steps}))
        self.assertEqual(len(steps), len({priority for _, priority in steps}))
        self.assertEqual(0, sum(bit & (bit - 1) for bit, _ in steps))   # one bit each


class TestLoading(testtools.TestCase):
    def test_qos_is_neutrinos_own_extension_by_name(self):
        self.assertEqual([qos.QosExtension], extensions.classes(["qos"]))

    def test_an_unknown_name_lists_the_built_in_ones(self):
        error = self.assertRaises(ValueError, extensions.classes, ["nosuch"])
        self.assertIn("qos", str(error))


class FakeBridge:
    """Records what the extension asks of ovs-ofctl."""

    def __init__(self, meters: set[int] = frozenset()):
        self.meters = set(meters)
        self.calls: list[tuple] = []

    def speaking(self, protocol: str) -> FakeBridge:
        return self

    def meter_ids(self) -> set[int]:
        return set(self.meters)

    def set_meter(self, spec: str, exists: bool) -> None:
        self.calls.append(("set_meter", spec, exists))

    def delete_meter(self, meter_id: int) -> None:
        self.calls.append(("delete_meter", meter_id))

    def add_flows(self, flows: list[str]) -> None:
        if flows:
            self.calls.append(("add_flows", tuple(flows)))

    def delete_flows(self, matches: list[str], strict: bool = False) -> None:
        if matches:
            self.calls.append(("delete_flows", tuple(matches)))


class TestApplying(testtools.TestCase):
    """What the extension changes on br-int, given what it applied before (the
    OVSDB side recorded, not run)."""

    def extension(self, meters: set[int] = frozenset()) -> tuple[qos.QosExtension, FakeBridge]:
        ext = qos.QosExtension()
        bridge = FakeBridge(meters)
        ext.api = extensions.AgentApi("host-1", None, bridge, None)
        ext.br_int, ext.meters = bridge, bridge.meter_ids()
        self.ovsdb_calls: list[tuple] = []
        ext._set_ingress_limit = lambda port, limit: self.ovsdb_calls.append(("ingress", limit))
        ext._set_min_rate = lambda port, rate: self.ovsdb_calls.append(("min", rate))
        return ext, bridge

    @staticmethod
    def port(ofport: int = 5):
        return types.SimpleNamespace(iface_id="port-1", ofport=ofport, name="tap1")

    def test_a_restarted_agent_changes_its_meters_and_sets_everything_once(self):
        ext, bridge = self.extension(meters={21, 22})   # an earlier run's, port 5's
        wanted = qos_flows.port_qos(5, MAC, [rule("bandwidth_limit", max_kbps=1000,
                                                  max_burst_kbps=0)], physical=False)
        ext._apply(self.port(), wanted)
        self.assertEqual(("set_meter", "meter=21,kbps,bands=type=drop,rate=1000", True),
                         bridge.calls[0])
        self.assertIn(("delete_meter", 22), bridge.calls)   # no rule asks for it now
        self.assertEqual([("ingress", None), ("min", None)], self.ovsdb_calls)

        bridge.calls.clear()
        self.ovsdb_calls.clear()
        ext._apply(self.port(), wanted)   # nothing differs: nothing done
        self.assertEqual(([], []), (bridge.calls, self.ovsdb_calls))

    def test_a_new_rate_is_one_meter_change_and_removal_undoes_it_all(self):
        ext, bridge = self.extension()
        ext._apply(self.port(), qos_flows.port_qos(5, MAC, [
            rule("bandwidth_limit", max_kbps=1000, max_burst_kbps=0)], physical=False))
        bridge.calls.clear()
        ext._apply(self.port(), qos_flows.port_qos(5, MAC, [
            rule("bandwidth_limit", max_kbps=2000, max_burst_kbps=0)], physical=False))
        self.assertEqual([("set_meter", "meter=21,kbps,bands=type=drop,rate=2000", True)],
                         bridge.calls)
        bridge.calls.clear()
        ext._apply(self.port(), qos_flows.PortQos())
        self.assertEqual(
            [("delete_flows", ("table=0,priority=204,in_port=5,reg2=0/0x1",)),
             ("delete_meter", 21)], bridge.calls)
        self.assertNotIn("port-1", ext.applied)
