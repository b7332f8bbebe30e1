"""The topology picture, from a hand-made snapshot (no root, no services)."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil

import fixtures
import testtools

from fullstack import base, prerequisites, topology
from fullstack.topology import (
    Agent,
    Bridge,
    ControlNetwork,
    Device,
    Interface,
    Link,
    Port,
    Site,
    Stack,
    Tunnel,
)

CENTRAL = "fs1a-central"
H1, H2 = "fs1a-h1", "fs1a-h2"
ROUTER = "fs1a-h1-qrouter-3f2a1b2c-0000-4000-8000-000000000001"


def host(namespace: str, number: int, tunnel_ip: str, agents: tuple[Agent, ...],
         extra_ports: tuple[Port, ...] = ()) -> Site:
    return Site(namespace, f"host-{number}", (
        Bridge("br-fabric", (Port("data0"),), (f"{tunnel_ip}/24",)),
        Bridge("br-int", (Port("int-br-phys"), Port("patch-tun"), *extra_ports)),
        Bridge("br-phys", (Port("phy-br-phys"), Port("phys0"))),
        Bridge("br-tun", (Port("patch-int"), Port(f"vxlan-{number}"), Port(f"gre-{number}"))),
    ), agents, (Interface("ctl0", (f"240.0.0.{10 + number}/24",)),))


def snapshot() -> topology.Topology:
    sites = (
        Site(CENTRAL, "central", (Bridge("cnt-data", (Port("h1-data"), Port("h2-data"))),
                                  Bridge("cnt-ex", (Port("ext3"),))), central=True),
        host(H1, 1, "240.0.1.11", (Agent("ovs-agent", 101, True), Agent("l3-agent", 102, True)),
             (Port("tapaaaaaaaaaaa", 1), Port("taprrrrrrrrrrr", 1))),
        host(H2, 2, "240.0.1.12", (Agent("ovs-agent", 201, False),),
             (Port("tapbbbbbbbbbbb", 1),)),
    )
    stacks = (
        Stack("fs1a-m1", "machine", (Interface("eth0", ("20.0.0.5/24",)),)),
        Stack("fs1a-m2", "machine", (Interface("eth0", ("20.0.0.6/24",)),)),
        Stack(ROUTER, "router", (Interface("qr-rrrrrrrrrrr", ("20.0.0.1/24",)),)),
        Stack("fs1a-ext3", "external", (Interface("eth0", ("172.24.4.1/24",)),)),
    )
    links = [
        Link("veth", Device(CENTRAL, "h1-data"), Device(H1, "data0")),
        Link("veth", Device(CENTRAL, "h2-data"), Device(H2, "data0")),
        Link("veth", Device(H1, "tapaaaaaaaaaaa"), Device("fs1a-m1", "eth0")),
        Link("veth", Device("fs1a-m2", "eth0"), Device(H2, "tapbbbbbbbbbbb")),
        Link("veth", Device(H1, "taprrrrrrrrrrr"), Device(ROUTER, "qr-rrrrrrrrrrr")),
        Link("veth", Device(CENTRAL, "ext3"), Device("fs1a-ext3", "eth0")),
        Link("veth", Device("", "fs1a-c1"), Device(H1, "ctl0")),
    ]
    for namespace in (H1, H2):
        links += [Link("patch", Device(namespace, "patch-tun"), Device(namespace, "patch-int")),
                  Link("patch", Device(namespace, "int-br-phys"),
                       Device(namespace, "phy-br-phys"))]
    tunnels = (Tunnel("vxlan", Device(H1, "vxlan-1"), "240.0.1.11", "240.0.1.12"),
               Tunnel("vxlan", Device(H2, "vxlan-2"), "240.0.1.12", "240.0.1.11"))
    return topology.Topology("fs1a", sites, stacks, tuple(links), tunnels,
                             ControlNetwork("fs1a-ctl", ("240.0.0.1/24",), ("fs1a-c1",)))


def edges(source: str) -> list[tuple[str, str, str]]:
    """(tail, head, label) of every visible edge of a DOT text, node ids unquoted."""
    found = []
    for line in source.splitlines():
        match = re.match(r'\s*(.+?) -- (.+?) \[(.*)\]$', line)
        if match and "style=invis" not in line:   # invisible: only there to keep layers
            tail, head, attrs = match.groups()
            label = re.search(r'label="((?:[^"\\]|\\.)*)"', attrs)
            found.append((tail.replace('"', ""), head.replace('"', ""),
                          label.group(1) if label else ""))
    return found


def edge_between(found: list[tuple[str, str, str]], one: str, other: str) -> str:
    """The label of the edge whose ends contain ``one`` and ``other``, either way round."""
    for tail, head, label in found:
        if (one in tail and other in head) or (one in head and other in tail):
            return label
    raise AssertionError(f"no edge between {one} and {other} in {found}")


class TestRender(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.source = topology.render(snapshot())
        self.edges = edges(self.source)

    def edge_between(self, one: str, other: str) -> str:
        return edge_between(self.edges, one, other)

    def test_a_cluster_per_site_with_its_bridges(self):
        for namespace, title in ((CENTRAL, "central"), (H1, "host-1"), (H2, "host-2")):
            self.assertIn(f'subgraph "cluster_{namespace}"', self.source)
            self.assertIn(f'label="{title}  ({namespace})"', self.source)
        for bridge in ("br-fabric", "br-int", "br-phys", "br-tun"):
            self.assertIn(f'"{H2}/{bridge}"', self.source)
        self.assertIn("240.0.1.11/24", self.source)   # the tunnel endpoint on br-fabric

    def test_hosts_of_a_region_sit_in_its_cluster(self):
        snap = snapshot()
        central, h1, h2 = snap.sites
        regional = topology.Topology(
            snap.prefix, (central, dataclasses.replace(h1, region="RegionOne"),
                          dataclasses.replace(h2, region="RegionTwo")),
            snap.stacks, snap.links, snap.tunnels, snap.control)
        source = topology.render(regional)
        for region, namespace in (("RegionOne", H1), ("RegionTwo", H2)):
            start = source.index(f"subgraph cluster_region_{region} {{")
            self.assertIn(f'label="region {region}"', source[start:])
            # The host's own cluster opens inside the region's.
            self.assertLess(start, source.index(f'subgraph "cluster_{namespace}"'))
        self.assertNotIn("cluster_region_", source.split('subgraph "cluster_' + CENTRAL)[1]
                         .split("}")[0])

    def test_links_name_their_kind_and_both_ends(self):
        self.assertEqual(r"veth\nh1-data ↔ data0", self.edge_between(
            f"{CENTRAL}/cnt-data", f"{H1}/br-fabric"))
        self.assertEqual(r"patch\npatch-int ↔ patch-tun", self.edge_between(
            f"{H1}/br-tun", f"{H1}/br-int"))
        self.assertIn(r"int-br-phys", self.edge_between(f"{H2}/br-phys", f"{H2}/br-int"))

    def test_edges_run_top_down(self):
        """Central before the host's uplink, br-int before the machine, whatever the order
        in the snapshot: it keeps the picture layered."""
        tails_heads = [(tail, head) for tail, head, _ in self.edges]
        self.assertIn((f"{CENTRAL}/cnt-data", f"{H2}/br-fabric"), tails_heads)
        self.assertIn((f"{H2}/br-int", "fs1a-m2:eth0:n"), tails_heads)   # from above

    def test_machines_sit_in_their_host_with_address_and_local_vlan(self):
        cluster_h2 = self.source.split(f'subgraph "cluster_{H2}"')[1].split("subgraph")[0]
        self.assertIn('"fs1a-m2"', cluster_h2)
        self.assertIn("20.0.0.6/24", cluster_h2)
        self.assertEqual(r"veth\ntapbbbbbbbbbbb ↔ eth0\nvlan tag 1",
                         self.edge_between(f"{H2}/br-int", "fs1a-m2:eth0"))

    def test_router_and_external_peer(self):
        self.assertIn("<B>router 3f2a1b2c</B>", self.source)
        self.assertIn("qr-rrrrrrrrrrr", self.edge_between(f"{H1}/br-int", f"{ROUTER}:qr-"))
        self.assertIn("ext3 ↔ eth0", self.edge_between(f"{CENTRAL}/cnt-ex", "fs1a-ext3:eth0"))

    def test_tunnels_pair_into_one_dashed_edge(self):
        label = self.edge_between(f"{H1}/br-tun", f"{H2}/br-tun")
        self.assertEqual(r"vxlan 240.0.1.11 ↔ 240.0.1.12\nvxlan-1 / vxlan-2", label)
        self.assertEqual(1, sum("vxlan" in label for _, _, label in self.edges))
        self.assertRegex(self.source, r"br-tun\" -- .*br-tun\" \[.*style=dashed")

    def test_agents_alive_and_dead(self):
        self.assertIn("alive, pid 101", self.source)
        self.assertIn("DEAD (pid 201)", self.source)

    def test_control_network_is_one_node_listing_its_veths(self):
        """Not edges: a line from the root namespace to every host would cross the picture."""
        self.assertIn("control network fs1a-ctl 240.0.0.1/24", self.source)
        self.assertIn("fs1a-c1 ↔ host-1 ctl0</TD><TD ALIGN=\"LEFT\">240.0.0.11/24", self.source)
        self.assertFalse([edge for edge in self.edges if "fs1a-ctl" in edge[0] + edge[1]])

    def test_tunnel_endpoint_links_the_tunnel_bridge_to_the_address_holder(self):
        self.assertEqual(r"tunnel endpoint\n240.0.1.12",
                         self.edge_between(f"{H2}/br-fabric", f"{H2}/br-tun"))

    def test_tunnels_of_several_types_share_one_edge(self):
        both = snapshot()
        gre = (Tunnel("gre", Device(H1, "gre-1"), "240.0.1.11", "240.0.1.12"),
               Tunnel("gre", Device(H2, "gre-2"), "240.0.1.12", "240.0.1.11"))
        source = topology.render(topology.Topology(
            both.prefix, both.sites, both.stacks, both.links, both.tunnels + gre, both.control))
        labels = [label for tail, head, label in edges(source)
                  if tail.endswith("br-tun") and head.endswith("br-tun")]
        self.assertEqual([r"gre + vxlan 240.0.1.11 ↔ 240.0.1.12\ngre-1 / gre-2\nvxlan-1 / vxlan-2"],
                         labels)

    def test_a_tunnel_without_way_back_is_drawn_broken(self):
        one_way = snapshot()
        one_way = topology.Topology(one_way.prefix, one_way.sites, one_way.stacks,
                                    one_way.links, one_way.tunnels[:1], one_way.control)
        source = topology.render(one_way)
        label = edge_between(edges(source), f"{H1}/br-tun", f"{H2}/br-fabric")
        self.assertIn("no tunnel back", label)

    def test_a_port_on_no_bridge_is_a_loose_end_in_its_host(self):
        unplugged = snapshot()
        links = (*unplugged.links,
                 Link("veth", Device(H2, "tapccccccccccc"), Device("fs1a-m9", "eth0")))
        source = topology.render(topology.Topology(
            unplugged.prefix, unplugged.sites, unplugged.stacks, links, (), None))
        cluster_h2 = source.split(f'subgraph "cluster_{H2}"')[1].split("subgraph")[0]
        self.assertIn("(on no bridge)", cluster_h2)
        self.assertIn("tapccccccccccc", cluster_h2)


class TestWriteSvg(testtools.TestCase):
    def test_svg_and_dot_are_written(self):
        if shutil.which("dot") is None:
            self.skipTest("dot (graphviz) is not installed")
        folder = self.useFixture(fixtures.TempDir()).path
        path = topology.write_svg(topology.render(snapshot()), f"{folder}/topology.svg")
        self.assertEqual(f"{folder}/topology.svg", path)
        with open(path) as f:
            svg = f.read()
        self.assertIn("<svg", svg)
        self.assertIn("20.0.0.6/24", svg)
        self.assertTrue(os.path.exists(f"{folder}/topology.dot"))

    def test_missing_dot_names_it_and_the_fix(self):
        empty = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.EnvironmentVariable("PATH", empty))
        exc = self.assertRaises(prerequisites.MissingPrerequisite, topology.write_svg,
                                "graph {}", f"{empty}/topology.svg")
        self.assertIn("dot (Graphviz, Debian package graphviz) not found", str(exc))
        self.assertIn("tools/configure_for_func_testing.sh", str(exc))


class TestDrawingNeverFailsATest(testtools.TestCase):
    def test_a_failure_to_draw_is_a_warning_and_a_detail(self):
        class Probe(base.BaseFullStackTestCase):
            def test_nothing(self):
                pass

        probe = Probe("test_nothing")
        probe.log_dir = self.useFixture(fixtures.TempDir()).path
        probe.environment = object()   # nothing a picture can be drawn of
        logger = self.useFixture(fixtures.FakeLogger(format="%(levelname)s %(message)s"))
        probe._draw_topology()
        probe._draw_topology()   # drawn (or tried) once per test
        self.assertIn("drawing", probe.getDetails()["topology-error"].as_text())
        self.assertEqual(1, logger.output.count("WARNING drawing"), logger.output)
