"""OVS instances, namespaces and veths move real packets."""

from __future__ import annotations

import os
import subprocess
import sys

from fullstack import base
from fullstack.resources import cable, link, namespace, ovs, runner

TCP_ECHO = (
    "import socket,sys;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
    "s.bind((sys.argv[1],5555));s.listen();print('ready',flush=True);c,_=s.accept();"
    "c.sendall(c.recv(100).upper())"
)
TCP_ASK = (
    "import socket,sys;c=socket.create_connection((sys.argv[1],5555),timeout=10);"
    "c.sendall(b'hello');print(c.recv(100).decode())"
)


class OvsTestCase(base.HarnessTestCase):
    def ovs_instance(self, name: str, ns: str | None) -> ovs.OvsInstance:
        return self.useFixture(ovs.OvsInstance(
            name, ns, os.path.join(self.run_dir, "ovs", name), self.ctx.owner))

    def plug_namespace(self, bridge: ovs.OvsBridge, suffix: str,
                       cidr: str) -> namespace.Namespace:
        """A namespace with one NIC, whose veth peer is a port of ``bridge``."""
        ns = self.useFixture(namespace.Namespace(f"{self.prefix}-{suffix}"))
        self.useFixture(cable.Cable(bridge, f"{self.prefix}-{suffix}", "eth0",
                                    peer_namespace=ns.name))
        link.add_address("eth0", cidr, ns.name)
        return ns

    def assert_tcp(self, server_ns: str, server_ip: str, client_ns: str) -> None:
        """A TCP exchange works: the checksum-offload trap would break it."""
        server = subprocess.Popen(
            runner.in_namespace([sys.executable, "-c", TCP_ECHO, server_ip], server_ns),
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(server.wait)
        self.addCleanup(server.kill)
        self.assertEqual("ready", server.stdout.readline().strip())
        out = runner.execute([sys.executable, "-c", TCP_ASK, server_ip], namespace=client_ns)
        self.assertEqual("HELLO", out.stdout.strip())


class TestOneInstance(OvsTestCase):
    def test_two_namespaces_on_one_bridge_ping(self):
        host = self.useFixture(namespace.Namespace(f"{self.prefix}-host"))
        instance = self.ovs_instance("host", host.name)
        bridge = self.useFixture(instance.bridge("br-test"))
        left = self.plug_namespace(bridge, "l", "20.0.0.1/24")
        right = self.plug_namespace(bridge, "r", "20.0.0.2/24")

        left.execute(["ping", "-c", "2", "-i", "0.2", "-W", "5", "20.0.0.2"])
        self.assert_tcp(right.name, "20.0.0.2", left.name)
        self.assertEqual(
            sorted([f"{self.prefix}-l", f"{self.prefix}-r"]), sorted(bridge.port_names()))

    def test_patch_ports_join_bridges(self):
        instance = self.ovs_instance("host", None)
        br_a = self.useFixture(instance.bridge(f"{self.prefix}-a"))
        br_b = self.useFixture(instance.bridge(f"{self.prefix}-b"))
        ovs.connect_by_patch(br_a, br_b, "patch-b", "patch-a")
        left = self.plug_namespace(br_a, "l", "20.0.0.1/24")
        self.plug_namespace(br_b, "r", "20.0.0.2/24")

        left.execute(["ping", "-c", "1", "-W", "5", "20.0.0.2"])
        self.assertIn("patch-b", br_a.port_names())

    def test_interface_external_ids_are_set(self):
        instance = self.ovs_instance("host", None)
        bridge = self.useFixture(instance.bridge(f"{self.prefix}-x"))
        self.plug_namespace(bridge, "m", "20.0.0.1/24")
        bridge.api.db_set("Interface", f"{self.prefix}-m",
                          ("external_ids", {"iface-id": "port-1"})).execute(check_error=True)
        ids = bridge.api.db_get("Interface", f"{self.prefix}-m", "external_ids").execute(
            check_error=True)
        self.assertEqual("port-1", ids["iface-id"])

    def test_a_replugged_port_comes_back_with_its_external_ids(self):
        instance = self.ovs_instance("host", None)
        bridge = self.useFixture(instance.bridge(f"{self.prefix}-x"))
        self.plug_namespace(bridge, "r", "20.0.0.2/24")
        left_ns = self.useFixture(namespace.Namespace(f"{self.prefix}-l"))
        port = f"{self.prefix}-l"
        left = self.useFixture(cable.Cable(bridge, port, "eth0", peer_namespace=left_ns.name,
                                           external_ids={"iface-id": "port-1"}))
        link.add_address("eth0", "20.0.0.1/24", left_ns.name)
        before = bridge.api.db_find("Interface", ("name", "=", port),
                                    columns=["_uuid"]).execute(check_error=True)

        left.replug()

        row = bridge.api.db_find("Interface", ("name", "=", port),
                                 columns=["_uuid", "external_ids"]).execute(check_error=True)
        self.assertNotEqual(before[0]["_uuid"], row[0]["_uuid"])   # a new row: "added"
        self.assertEqual({"iface-id": "port-1"}, row[0]["external_ids"])
        left_ns.execute(["ping", "-c", "1", "-W", "5", "20.0.0.2"])
        self.assertIn(port, bridge.port_names())


class TestTwoInstances(OvsTestCase):
    def test_instances_in_two_namespaces_joined_by_veth_forward(self):
        hosts, bridges = [], []
        for name in ("h1", "h2"):
            host = self.useFixture(namespace.Namespace(f"{self.prefix}-{name}"))
            instance = self.ovs_instance(name, host.name)
            hosts.append(host)
            bridges.append(self.useFixture(instance.bridge("br-int")))
        # The cable between the two hosts.
        self.useFixture(cable.Cable(bridges[0], "cable", "cable", peer_bridge=bridges[1]))
        left = self.plug_namespace(bridges[0], "l", "20.0.0.1/24")
        right = self.plug_namespace(bridges[1], "r", "20.0.0.2/24")

        left.execute(["ping", "-c", "2", "-i", "0.2", "-W", "5", "20.0.0.2"])
        self.assert_tcp(right.name, "20.0.0.2", left.name)
        # Each instance sees only its own bridge.
        self.assertEqual(["br-int"], bridges[0].api.list_br().execute(check_error=True))
