"""What a host runs beyond its agents is the host's, on either service.

A plugin's suite gives a host more through ``HostDescription(extensions=
...)`` (fullstack.extension): here a TCP service on the host's tunnel
address, as a route reflector on the fabric would be, and a bridge of its
own.  The host owns both as it owns its agents; an agent beyond the three
kinds joins the deployment by the import path of its main.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys

import psutil

from fullstack import base, environment, extension, wait
from fullstack.resources import daemon, runner
from fullstack.topology import collector

LISTEN_PORT = 8179   # BGP's port plus 1000: no privileges asked


def _listens(namespace: str, address: str, port: int) -> bool:
    sockets = runner.execute(["ss", "-Hltn"], namespace=namespace).stdout
    return f"{address}:{port} " in sockets


@dataclasses.dataclass(frozen=True)
class FabricService(extension.HostExtension):
    """An HTTP server on the host's tunnel address, and a bridge beside it."""

    bridge: str = "br-extra"
    port: int = LISTEN_PORT

    @property
    def name(self) -> str:
        return "fabric-service"

    def start(self, host: extension.ExtensibleHost) -> None:
        host.add_bridge(self.bridge)
        address, port = host.tunnel_ip, self.port
        host.spawn(self.name, [sys.executable, "-m", "http.server", "--bind", address,
                               str(port), "--directory", os.path.dirname(__file__)],
                   ready=lambda: _listens(host.namespace, address, port))


class TestHostExtensions(base.BaseFullStackTestCase):
    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type="vxlan"),
            [environment.HostDescription(extensions=(FabricService(),)),
             environment.HostDescription()]))
        self.host, self.other = self.environment.hosts
        self.service = self.host.extension_processes[0]

    def test_it_is_the_hosts_and_serves_across_the_fabric(self):
        self.assertEqual("host-1-fabric-service", self.service.name)
        self.assertIn(self.service, self.host.processes())
        self.assertIn(self.service, self.environment.processes())
        self.assertIn("br-extra", self.host.ovs.vsctl("list-br").split())
        site = next(site for site in collector.collect(self.environment).sites
                    if site.title == self.host.hostname)
        drawn = {agent.name: agent.alive for agent in site.agents}
        self.assertTrue(drawn.get("fabric-service"), drawn)
        # Real packets: from the other host, over both br-fabrics and cnt-data.
        fetch = runner.execute(
            [sys.executable, "-c", "import sys, urllib.request; sys.stdout.write("
             "urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())",
             f"http://{self.host.tunnel_ip}:{LISTEN_PORT}/{os.path.basename(__file__)}"],
            namespace=self.other.namespace)
        with open(__file__) as f:
            self.assertEqual(f.read(), fetch.stdout)

    def test_dying_on_its_own_fails_the_test_by_name(self):
        os.kill(self.service.pid, signal.SIGKILL)
        wait.wait_until_true(lambda: not self.service.is_running(), timeout=10)
        error = self.assertRaises(daemon.ProcessExited, self.environment.check_processes)
        self.assertIn("host-1-fabric-service exited with code -9", str(error))
        self.service.start()   # the test's own end checks every process again

    def test_a_host_killed_takes_it_along(self):
        self.host.kill()
        self.assertFalse(self.service.is_running())
        self.assertTrue(self.other.l2_agent.is_running())

    def test_an_agent_by_import_path_joins_the_deployment(self):
        # A fourth agent of each service: Neutron's metadata agent (forked by
        # the agents' zygote, the child importing its main); neutrino has no
        # fourth kind, so its L3 agent, on a host that runs none.
        if self.environment.service.name == "neutron":
            binary, main = "neutron-metadata-agent", "neutron.cmd.agents.metadata:main"
            sections = {"DEFAULT": {"metadata_proxy_socket": os.path.join(
                self.ctx.run_dir, "metadata-proxy-host-1")}}
        else:
            binary, main = "neutrino-l3-agent", "neutrino.agents.l3.__main__:main"
            sections = {"DEFAULT": {"namespace_prefix": f"{self.host.namespace}-"},
                        "ovs": {"ovsdb_connection": self.host.ovs.db_socket}}
        agent = self.host.add_agent("extra-agent", main, sections, binary=binary)
        self.assertEqual("host-1-extra-agent", agent.name)
        self.assertIn(agent, self.host.processes())
        if self.environment.service.name == "neutron":
            self.assertEqual(self.environment.server.zygote.pid,
                             psutil.Process(agent.pid).ppid())

        def reported() -> bool:
            return any(found["alive"] for found in self.client.list_agents(
                binary=binary, host=self.host.hostname))

        wait.wait_until_true(reported, timeout=60,
                             exception=lambda: f"{binary} never reported alive; log "
                                               f"{agent.log_path}:\n{agent.log_tail()}")
