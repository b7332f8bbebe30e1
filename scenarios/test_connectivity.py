"""Machines on different hosts reach each other, for every network type and wiring."""

from __future__ import annotations

import testscenarios

from fullstack import base, environment, machine

# stestr sees (and spreads over its workers) every scenario as its own test.
load_tests = testscenarios.load_tests_apply_scenarios

TYPES = [
    ("vxlan", {"network_type": "vxlan"}),
    ("gre", {"network_type": "gre"}),
    ("gre-l2pop-arp", {"network_type": "gre", "l2_pop": True, "arp_responder": True}),
    ("vlan", {"network_type": "vlan"}),
    ("flat", {"network_type": "flat"}),
]
WIRINGS = [
    ("patch", {"interconnection": "patch"}),
    ("veth", {"interconnection": "veth"}),
]


def descriptions(scenario: dict) -> environment.EnvironmentDescription:
    return environment.EnvironmentDescription(**{
        key: scenario[key] for key in ("network_type", "l2_pop", "arp_responder",
                                       "interconnection") if key in scenario})


class ConnectivityTestCase(base.BaseFullStackTestCase):
    hosts = 3
    network_type = "vxlan"

    def setUp(self):
        desc = descriptions({k: getattr(self, k) for k in (
            "network_type", "l2_pop", "arp_responder", "interconnection")
            if hasattr(self, k)})
        super().setUp(environment.Environment(
            desc, [environment.HostDescription() for _ in range(self.hosts)]))

    def create_network(self, cidr: str = "20.0.0.0/24", pool: tuple[str, str] | None = None,
                       **attrs) -> dict:
        net = self.safe_client.create_network(self.tenant_id, **attrs)
        subnet_attrs = {}
        if pool:
            subnet_attrs["allocation_pools"] = [{"start": pool[0], "end": pool[1]}]
        self.safe_client.create_subnet(self.tenant_id, net["id"], cidr, **subnet_attrs)
        return net


class TestConnectivity(ConnectivityTestCase):
    scenarios = testscenarios.multiply_scenarios(TYPES, WIRINGS)

    def test_connectivity(self):
        net = self.create_network(**self.environment.env_desc.network_attrs())
        vms = self.boot_machines(self.environment.hosts, net["id"])
        vms.ping_all()


class TestIsolation(ConnectivityTestCase):
    scenarios = [(name, attrs) for name, attrs in TYPES if name != "flat"]
    hosts = 2

    def test_overlapping_networks_are_isolated(self):
        """Same CIDR on the same hosts: only the segments keep the two apart.

        Distinct allocation pools give the machines distinct addresses, so a
        red machine that reached a blue address could only have crossed over.
        """
        red_net = self.create_network("20.0.0.0/24", pool=("20.0.0.10", "20.0.0.19"))
        blue_net = self.create_network("20.0.0.0/24", pool=("20.0.0.20", "20.0.0.29"))
        red = self.boot_machines(self.environment.hosts, red_net["id"])
        blue = self.boot_machines(self.environment.hosts, blue_net["id"])
        red.ping_all()
        blue.ping_all()
        for src, dst in ((red[0], blue[1]), (blue[0], red[1]), (red[1], blue[1])):
            src.assert_no_ping(dst.ip)


class TestHostJoinsLater(ConnectivityTestCase):
    hosts = 3

    def test_fourth_host_joins_without_restarts(self):
        net = self.create_network()
        vms = self.boot_machines(self.environment.hosts, net["id"])
        vms.ping_all()
        agent_pids = [host.l2_agent.pid for host in self.environment.hosts]
        server_pid = self.environment.server.pid
        newcomer = self.environment.add_host()
        late = self.boot_machines([newcomer], net["id"])
        everyone = machine.FakeFullstackMachinesList(list(vms) + list(late))
        everyone.ping_all()
        self.assertEqual(agent_pids, [host.l2_agent.pid for host in self.environment.hosts[:3]])
        self.assertEqual(server_pid, self.environment.server.pid)


class TestMixedTypes(ConnectivityTestCase):
    hosts = 2

    def test_networks_of_every_type_at_once(self):
        """One environment carries tenant networks of all four types together,
        each reachable within itself and isolated from the others."""
        groups = []
        for index, kind in enumerate(("vxlan", "gre", "vlan", "flat")):
            attrs = {"provider:network_type": kind}
            if kind in ("vlan", "flat"):
                attrs["provider:physical_network"] = "physnet1"
            # One CIDR, distinct pools: a reached address can only be a leak.
            pool = (f"20.0.0.{10 * index + 10}", f"20.0.0.{10 * index + 19}")
            net = self.create_network("20.0.0.0/24", pool=pool, **attrs)
            self.assertEqual(kind, net["provider:network_type"])
            groups.append(self.boot_machines(self.environment.hosts, net["id"]))
        for vms in groups:
            vms.ping_all()
        for other in groups[1:]:
            groups[0][0].assert_no_ping(other[1].ip)
