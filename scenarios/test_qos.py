"""QoS measured on the wire: bandwidth and packet-rate limits, DSCP marks, minimum bandwidth.

Each limit is checked by sending a real flow between two machines on two
hosts (``probes.measure_throughput``, ``measure_packet_rate``) while the
policy changes: it holds (at most 1.2 x the limit while 5 x is offered), is
raised and lowered live, survives an L2 agent restart, and is gone when the
rule or the policy is (back above 0.6 x what is offered).  DSCP marks are
read from the packets a machine received (``probes.dscp_marks``).  Minimum
bandwidth is written to OVSDB as Neutron writes it; the userspace datapath
does not enforce it, so its rows are what is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import TypeVar

import fixtures
import testscenarios

from fullstack import base, environment, machine, probes, wait
from fullstack.resources import client

load_tests = testscenarios.load_tests_apply_scenarios

T = TypeVar("T")

LIMIT_KBPS = 6000
OFFERED_MBPS = 5 * LIMIT_KBPS / 1000
LIMIT_KPPS = 1
OFFERED_PPS = 5 * LIMIT_KPPS * 1000
HOLDS = 1.2        # a limit holds: at most this much of it is measured
GONE = 0.6         # no limit: at least this much of what is offered is measured
RATE_TIMEOUT = 60.0   # for a change to show in what is measured; it takes about a second
SEGMENTATIONS = [("vxlan", {"network_type": "vxlan"}), ("vlan", {"network_type": "vlan"})]
DIRECTIONS = [("egress", {"direction": "egress"}), ("ingress", {"direction": "ingress"})]


class QosTestCase(base.BaseFullStackTestCase):
    network_type = "vxlan"

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type=self.network_type, qos=True),
            [environment.HostDescription(), environment.HostDescription()]))
        self.network = self.safe_client.create_network(self.tenant_id)
        self.subnet = self.safe_client.create_subnet(self.tenant_id, self.network["id"],
                                                     "20.0.0.0/24")

    def policy(self, name: str = "qos") -> dict:
        return self.safe_client.create_qos_policy(self.tenant_id, name)

    def machines(self) -> machine.FakeFullstackMachinesList:
        return self.boot_machines(self.environment.hosts, self.network["id"])

    def wait_for(self, measure: Callable[[], T], holds: Callable[[T], bool], what: str) -> T:
        """Measure until ``holds(measured)``; the last value measured."""
        seen: list[T] = []

        def measured_holds() -> bool:
            seen.append(measure())
            return holds(seen[-1])

        def shown() -> list:
            return [round(v, 2) if isinstance(v, float) else v for v in seen]

        wait.wait_until_true(measured_holds, timeout=RATE_TIMEOUT, sleep=0.1, exception=lambda: (
            f"{what}: not seen in {RATE_TIMEOUT} s; measured {shown()}"))
        return seen[-1]


class TestBandwidthLimit(QosTestCase):
    scenarios = testscenarios.multiply_scenarios(SEGMENTATIONS, DIRECTIONS)

    def test_limit_holds_changes_survives_agent_restart_and_goes(self):
        limited, peer = self.machines()
        # The limit is on ``limited``'s port: what it sends (egress) or receives.
        sender, receiver = (limited, peer) if self.direction == "egress" else (peer, limited)

        def rate() -> float:
            return probes.measure_throughput(sender, receiver, offered_mbps=OFFERED_MBPS)

        def limited_to(kbps: int) -> Callable[[float], bool]:
            return lambda mbps: 0 < mbps <= HOLDS * kbps / 1000

        def unlimited(mbps: float) -> bool:
            return mbps >= GONE * OFFERED_MBPS

        self.wait_for(rate, unlimited, "the unlimited rate")
        policy = self.policy()
        rule = self.safe_client.create_bandwidth_limit_rule(
            policy["id"], limit=LIMIT_KBPS, direction=self.direction)
        self.safe_client.update_port(limited.port["id"], qos_policy_id=policy["id"])
        held = self.wait_for(rate, limited_to(LIMIT_KBPS), "the limit")
        self.assertGreater(held, LIMIT_KBPS / 1000 / 2, "far below the limit: not a limit")

        raised = self.safe_client.update_qos_rule(policy["id"], "bandwidth_limit", rule["id"],
                                                  max_kbps=2 * LIMIT_KBPS)
        self.assertEqual(2 * LIMIT_KBPS, raised["max_kbps"])
        self.wait_for(rate, lambda mbps: HOLDS * LIMIT_KBPS / 1000 < mbps
                      <= HOLDS * 2 * LIMIT_KBPS / 1000, "the raised limit")
        self.safe_client.update_qos_rule(policy["id"], "bandwidth_limit", rule["id"],
                                         max_kbps=LIMIT_KBPS // 2)
        self.wait_for(rate, limited_to(LIMIT_KBPS // 2), "the lowered limit")

        # The limit holds while the host's agent is down; a change made meanwhile
        # is applied once it is back.
        agent = limited.host.l2_agent
        assert agent is not None
        agent.stop()
        self.wait_for(rate, limited_to(LIMIT_KBPS // 2), "the limit while the agent is down")
        self.safe_client.update_qos_rule(policy["id"], "bandwidth_limit", rule["id"],
                                         max_kbps=LIMIT_KBPS)
        agent.start()
        self.environment.wait_until_env_is_up()
        self.wait_for(rate, lambda mbps: HOLDS * LIMIT_KBPS / 2000 < mbps
                      <= HOLDS * LIMIT_KBPS / 1000, "the limit changed while the agent was down")

        self.safe_client.delete_qos_rule(policy["id"], "bandwidth_limit", rule["id"])
        self.wait_for(rate, unlimited, "the rate once the rule is deleted")
        self.safe_client.create_bandwidth_limit_rule(policy["id"], limit=LIMIT_KBPS,
                                                     direction=self.direction)
        self.wait_for(rate, limited_to(LIMIT_KBPS), "the limit of a new rule")
        self.safe_client.update_port(limited.port["id"], qos_policy_id=None)
        self.wait_for(rate, unlimited, "the rate once the port has no policy")


class TestPacketRateLimit(QosTestCase):
    scenarios = testscenarios.multiply_scenarios(SEGMENTATIONS, DIRECTIONS)

    def test_limit_holds_and_goes(self):
        limited, peer = self.machines()
        sender, receiver = (limited, peer) if self.direction == "egress" else (peer, limited)

        def rate() -> float:
            return probes.measure_packet_rate(sender, receiver, offered_pps=OFFERED_PPS)

        policy = self.policy()
        rule = self.safe_client.create_packet_rate_limit_rule(
            policy["id"], limit=LIMIT_KPPS, direction=self.direction)
        self.safe_client.update_port(limited.port["id"], qos_policy_id=policy["id"])
        held = self.wait_for(rate, lambda pps: 0 < pps <= HOLDS * LIMIT_KPPS * 1000,
                             "the packet rate limit")
        self.assertGreater(held, LIMIT_KPPS * 1000 / 2, "far below the limit: not a limit")
        self.safe_client.delete_qos_rule(policy["id"], "packet_rate_limit", rule["id"])
        self.wait_for(rate, lambda pps: pps >= GONE * OFFERED_PPS,
                      "the packet rate once the rule is deleted")


class TestDscpMarking(QosTestCase):
    scenarios = SEGMENTATIONS

    def wait_for_marks(self, sender: machine.FakeFullstackMachine,
                       receiver: machine.FakeFullstackMachine, marks: set[int]) -> None:
        self.wait_for(lambda: probes.dscp_marks(sender, receiver), lambda seen: seen == marks,
                      f"DSCP marks {marks}")

    def test_marks_follow_the_rule(self):
        marked, peer = self.machines()
        self.wait_for_marks(marked, peer, {0})
        policy = self.policy()
        rule = self.safe_client.create_dscp_marking_rule(policy["id"], dscp_mark=16)
        self.safe_client.update_port(marked.port["id"], qos_policy_id=policy["id"])
        self.wait_for_marks(marked, peer, {16})
        self.wait_for_marks(peer, marked, {0})   # only what the port sends is marked
        self.safe_client.update_qos_rule(policy["id"], "dscp_marking", rule["id"],
                                         dscp_mark=26)
        self.wait_for_marks(marked, peer, {26})
        self.safe_client.delete_qos_rule(policy["id"], "dscp_marking", rule["id"])
        self.wait_for_marks(marked, peer, {0})

    def test_network_policy_applies_to_new_ports_and_a_ports_own_wins(self):
        network_policy = self.policy("of-the-network")
        self.safe_client.create_dscp_marking_rule(network_policy["id"], dscp_mark=16)
        self.safe_client.update_network(self.network["id"], qos_policy_id=network_policy["id"])
        first, second = self.machines()
        self.assertEqual(network_policy["id"], first.port["qos_network_policy_id"])
        self.wait_for_marks(first, second, {16})
        self.wait_for_marks(second, first, {16})

        own = self.policy("of-the-port")
        self.safe_client.create_dscp_marking_rule(own["id"], dscp_mark=26)
        self.safe_client.update_port(first.port["id"], qos_policy_id=own["id"])
        self.wait_for_marks(first, second, {26})
        self.wait_for_marks(second, first, {16})

        for policy_id in (own["id"], network_policy["id"]):
            error = self.assertRaises(client.ApiError, self.safe_client.delete_qos_policy,
                                      policy_id)
            self.assertEqual((409, "QosPolicyInUse"), (error.status, error.type))


class TestMinimumBandwidth(QosTestCase):
    """Written as Neutron writes it (the userspace datapath ignores it): a Queue per
    port with its min-rate, in a linux-htb QoS on the physical bridge's own ports."""

    network_type = "vlan"

    def queues_of(self, vm: machine.FakeFullstackMachine) -> list[dict]:
        found = json.loads(vm.host.ovs.vsctl("--format=json", "--columns=external_ids,"
                                             "other_config", "list", "Queue"))
        rows = [dict(zip(found["headings"], row, strict=True)) for row in found["data"]]
        return [{"external_ids": dict(row["external_ids"][1]),
                 "other_config": dict(row["other_config"][1])} for row in rows
                if dict(row["external_ids"][1]).get("port") == vm.port["id"]]

    def test_minimum_bandwidth_rows_as_neutron_writes_them(self):
        vm, _ = self.machines()
        policy = self.policy()
        self.safe_client.create_minimum_bandwidth_rule(policy["id"], 3000)
        self.safe_client.update_port(vm.port["id"], qos_policy_id=policy["id"])
        wait.wait_until_true(lambda: self.queues_of(vm), timeout=RATE_TIMEOUT, sleep=0.2,
                             exception=f"no Queue row for port {vm.port['id']}")
        [queue] = self.queues_of(vm)
        self.assertEqual(("3000000", "minimum_bandwidth"),
                         (queue["other_config"]["min-rate"], queue["external_ids"]["type"]))
        physical = set(vm.host.br_phys.port_names())
        ports = json.loads(vm.host.ovs.vsctl("--format=json", "--columns=name,qos", "list",
                                             "Port"))["data"]
        with_qos = {name for name, qos in ports if name in physical and qos != ["set", []]}
        self.assertTrue(with_qos, f"no port of br-phys ({sorted(physical)}) has the QoS")

        # (Neutron refuses to change the minimum bandwidth rules of a policy in use,
        # tracked in Placement or not: the port leaves the policy instead.)
        self.safe_client.update_port(vm.port["id"], qos_policy_id=None)
        wait.wait_until_true(lambda: not self.queues_of(vm), timeout=RATE_TIMEOUT, sleep=0.2,
                             exception=f"the Queue row of port {vm.port['id']} stayed")


class TestOpenstackClient(base.BaseFullStackTestCase):
    """The stock ``openstack`` command makes policies and rules and gives a port its
    policy, with no authentication, against the deployment only."""

    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(qos=True), []))
        home = self.useFixture(fixtures.TempDir()).path
        # Nothing from this machine's settings: no clouds.yaml, OS_* or proxy.
        self.env = {name: value for name, value in os.environ.items()
                    if not name.startswith("OS_") and "proxy" not in name.lower()}
        self.env.update(HOME=home, XDG_CONFIG_HOME=home)

    def openstack(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [os.path.join(os.path.dirname(sys.executable), "openstack"), "--os-auth-type",
               "none", "--os-endpoint", self.environment.server.url, *args]
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120,
                              check=False)
        if check and done.returncode != 0:
            self.fail(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr}{done.stdout}")
        return done

    def shown(self, *args: str) -> dict:
        return json.loads(self.openstack(*args, "-f", "json").stdout)

    def test_rules_and_a_ports_policy(self):
        policy = self.safe_client.create_qos_policy(self.tenant_id, "gold")
        self.shown("network", "qos", "rule", "create", "--type", "bandwidth-limit",
                   "--max-kbps", "3000", "--max-burst-kbits", "300", "--egress", "gold")
        self.shown("network", "qos", "rule", "create", "--type", "dscp-marking",
                   "--dscp-mark", "26", "gold")
        rules = json.loads(self.openstack("network", "qos", "rule", "list", "gold", "-f",
                                          "json").stdout)
        self.assertEqual({"bandwidth_limit", "dscp_marking"},
                         {rule["Type"] for rule in rules})
        self.assertEqual(2, len(self.shown("network", "qos", "policy", "show", "gold")["rules"]))

        network = self.safe_client.create_network(self.tenant_id)
        port = self.safe_client.create_port(self.tenant_id, network["id"])
        self.openstack("port", "set", "--qos-policy", "gold", port["id"])
        self.assertEqual(policy["id"], self.shown("port", "show", port["id"])["qos_policy_id"])
        in_use = self.openstack("network", "qos", "policy", "delete", "gold", check=False)
        self.assertNotEqual(0, in_use.returncode, "a policy in use was deleted")
        self.openstack("port", "unset", "--qos-policy", port["id"])
        self.assertIsNone(self.shown("port", "show", port["id"])["qos_policy_id"])

    def test_policy_create_and_delete(self):
        self.require_feature("creates-without-a-project", (
            "without Keystone, Neutron needs tenant_id in every create body, which the CLI "
            "sends only for --project, a name it resolves through Keystone"))
        policy = self.shown("network", "qos", "policy", "create", "--description", "video",
                            "silver")
        self.assertEqual(("silver", "video"), (policy["name"], policy["description"]))
        self.openstack("network", "qos", "policy", "delete", "silver")
        listed = self.openstack("network", "qos", "policy", "list", "-f", "json").stdout
        self.assertEqual([], json.loads(listed))
