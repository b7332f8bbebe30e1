"""The topology picture shows the live wiring of a real deployment."""

from __future__ import annotations

import dataclasses
import os
import time
import xml.etree.ElementTree as ElementTree

import netaddr
from pyroute2 import netns

from fullstack import base, environment, machine, topology, wait

SVG = "{http://www.w3.org/2000/svg}"
EXTERNAL_CIDR = "172.24.4.0/24"
PEER_CIDR = "172.24.4.1/24"
DRAW_BUDGET = 3.0   # seconds; measured at about a tenth of that for two hosts


@dataclasses.dataclass
class Picture:
    """What an SVG drawn by dot shows: node and cluster texts, and the edges."""

    clusters: dict[str, str]
    nodes: dict[str, str]
    edges: list[tuple[str, str, str]]   # (tail, head, texts), node ids without ports

    @classmethod
    def parse(cls, path: str) -> Picture:
        clusters, nodes, edges = {}, {}, []
        for group in ElementTree.parse(path).getroot().iter(f"{SVG}g"):
            title = group.findtext(f"{SVG}title") or ""
            texts = " ".join(text.text or "" for text in group.iter(f"{SVG}text"))
            kind = group.get("class")
            if kind == "cluster":
                clusters[title] = texts
            elif kind == "node":
                nodes[title] = texts
            elif kind == "edge":
                tail, head = title.split("--")
                edges.append((tail.split(":")[0], head.split(":")[0], texts))
        return cls(clusters, nodes, edges)

    def edges_between(self, one: str, other: str) -> list[str]:
        """The texts of each edge between nodes ``one`` and ``other``, either way round."""
        return [texts for tail, head, texts in self.edges if {tail, head} == {one, other}]

    def edge(self, one: str, other: str) -> str:
        found = self.edges_between(one, other)
        if len(found) != 1:
            raise AssertionError(f"{len(found)} edges between {one} and {other}, not one; "
                                 f"edges: {self.edges}")
        return found[0]


class TopologyTestCase(base.BaseFullStackTestCase):
    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type="vxlan"),
            [environment.HostDescription(l3_agent=True, dhcp_agent=True),
             environment.HostDescription()]))

    def draw(self, name: str) -> Picture:
        start = time.monotonic()
        path = topology.draw(self.environment, os.path.join(self.log_dir, name))
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, DRAW_BUDGET, f"drawing {path} took {elapsed:.2f} s")
        self.assertTrue(os.path.exists(path.removesuffix(".svg") + ".dot"))
        return Picture.parse(path)


class TestTopology(TopologyTestCase):
    def routed_network(self) -> tuple[dict, dict, machine.ExternalMachine, str]:
        """A tenant subnet (with DHCP) behind a router whose gateway is on cnt-ex."""
        ext_net = self.safe_client.create_network(
            self.tenant_id, name="public", **self.environment.external_network_attrs())
        self.safe_client.create_subnet(
            self.tenant_id, ext_net["id"], EXTERNAL_CIDR, gateway_ip=PEER_CIDR.split("/")[0],
            allocation_pools=[{"start": "172.24.4.10", "end": "172.24.4.100"}])
        peer = self.useFixture(machine.ExternalMachine(self.environment, PEER_CIDR))
        net = self.safe_client.create_network(self.tenant_id)
        subnet = self.safe_client.create_subnet(self.tenant_id, net["id"], "10.0.1.0/24",
                                                enable_dhcp=True)
        router = self.safe_client.create_router(self.tenant_id, external_network=ext_net["id"])
        self.safe_client.add_router_interface(router["id"], subnet["id"])
        return net, subnet, peer, router["id"]

    def wait_for_dhcp_port(self, network_id: str) -> dict:
        def active_dhcp_port() -> dict | None:
            ports = self.client.list_ports(network_id=network_id, device_owner="network:dhcp")
            return next((p for p in ports if p["status"] == "ACTIVE"), None)

        wait.wait_until_true(active_dhcp_port, timeout=60, sleep=0.2,
                             exception=f"no ACTIVE DHCP port on network {network_id} after 60 s")
        port = active_dhcp_port()
        assert port is not None
        return port

    def test_picture_shows_the_live_wiring(self):
        net, subnet, peer, router_id = self.routed_network()
        vms = self.boot_machines(self.environment.hosts, net["id"])
        # Through the router and its SNAT: its qr- and qg- ports are wired.
        vms[1].assert_ping(peer.ip)
        dhcp_port = self.wait_for_dhcp_port(net["id"])
        picture = self.draw("topology-test.svg")

        env = self.environment
        central = env.central_namespace.name
        self.assertIn(f"cluster_{central}", picture.clusters)
        for host in env.hosts:
            ns = host.namespace
            self.assertIn(host.hostname, picture.clusters[f"cluster_{ns}"])
            bridges = ["br-int", "br-tun", "br-fabric", "br-phys"]
            bridges += ["br-ex"] if host.desc.l3_agent else []
            for bridge in bridges:
                self.assertIn(f"{ns}/{bridge}", picture.nodes)
            self.assertIn(host.tunnel_ip, picture.nodes[f"{ns}/br-fabric"])
            patch = picture.edge(f"{ns}/br-tun", f"{ns}/br-int")
            self.assertIn("patch", patch)
            self.assertIn("patch-int ↔ patch-tun", patch)
            self.assertIn("phy-br-phys ↔ int-br-phys", picture.edge(f"{ns}/br-phys",
                                                                    f"{ns}/br-int"))
            data = picture.edge(f"{central}/cnt-data", f"{ns}/br-fabric")
            self.assertIn(f"veth h{host.number}-data ↔ data0", data)
            self.assertIn("ovs-agent alive", picture.nodes[f"{ns}/(stack)"])
        host1, host2 = env.hosts
        self.assertIn("phy-br-ex ↔ int-br-ex", picture.edge(f"{host1.namespace}/br-ex",
                                                            f"{host1.namespace}/br-int"))
        self.assertIn("h1-ex ↔ ex0", picture.edge(f"{central}/cnt-ex",
                                                   f"{host1.namespace}/br-ex"))
        # Every host tunnels with both types (so networks of either can
        # coexist): one edge lists both tunnels.
        tunnel = picture.edge(f"{host1.namespace}/br-tun", f"{host2.namespace}/br-tun")
        self.assertIn(f"gre + vxlan {host1.tunnel_ip} ↔ {host2.tunnel_ip}", tunnel)
        self.assertIn(f"vxlan-{int(netaddr.IPAddress(host2.tunnel_ip)):08x}", tunnel)
        self.assertIn(f"tunnel endpoint {host2.tunnel_ip}", picture.edge(
            f"{host2.namespace}/br-fabric", f"{host2.namespace}/br-tun"))
        for vm in vms:
            self.assertIn(vm.ip, picture.nodes[vm.namespace])
            plugged = picture.edge(f"{vm.host.namespace}/br-int", vm.namespace)
            self.assertIn(f"{vm.tap} ↔ eth0", plugged)
        self.assert_router_and_dhcp(picture, host1, router_id, subnet, dhcp_port)
        self.assertIn(peer.ip, picture.nodes[peer.namespace])
        self.assertIn("ext", picture.edge(f"{central}/cnt-ex", peer.namespace))
        control = picture.nodes[f"(root)/{self.prefix}-ctl"]
        self.assertIn(f"{self.prefix}-c2 ↔ host-2 ctl0", control)

    def assert_router_and_dhcp(self, picture: Picture, host, router_id: str, subnet: dict,
                               dhcp_port: dict) -> None:
        router_ns = host.router_namespace(router_id)
        self.assertIn(router_ns, netns.listnetns())
        router = picture.nodes[router_ns]
        self.assertIn(subnet["gateway_ip"], router)
        self.assertIn("qr-", router)
        self.assertIn("qg-", router)
        ports = " ".join(picture.edges_between(f"{host.namespace}/br-int", router_ns))
        self.assertRegex(ports, r"tap\S+ ↔ qr-\S+ vlan tag \d+")
        self.assertRegex(ports, r"tap\S+ ↔ qg-\S+ vlan tag \d+")
        dhcp_ns = host.dhcp_namespace(dhcp_port["network_id"])
        self.assertIn(dhcp_port["fixed_ips"][0]["ip_address"], picture.nodes[dhcp_ns])
        self.assertIn("ns-dhcp", picture.edge(f"{host.namespace}/br-int", dhcp_ns))


class TestTopologyIsLive(TopologyTestCase):
    def test_picture_follows_changes_made_by_hand(self):
        net = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, net["id"], "10.0.1.0/24")
        host = self.environment.hosts[1]
        vm = self.boot_machine(host, net["id"])
        tap = vm.tap
        before = self.draw("topology-before.svg")
        self.assertIn(tap, before.edge(f"{host.namespace}/br-int", vm.namespace))
        self.assertNotIn(f"{host.namespace}/br-extra", before.nodes)

        # Behind the harness's back: nothing but OVSDB knows of these changes.
        host.br_int.delete_port(tap)
        self.useFixture(host.ovs.bridge("br-extra"))
        after = self.draw("topology-after.svg")
        self.assertIn(f"{host.namespace}/br-extra", after.nodes)
        self.assertNotIn((f"{host.namespace}/br-int", vm.namespace),
                         [(tail, head) for tail, head, _ in after.edges])
        # The tap is now just an interface of the host's own stack.
        self.assertIn(tap, after.edge(f"{host.namespace}/(stack)", vm.namespace))
