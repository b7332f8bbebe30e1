"""The server process: configuration file, start-up, RPC in the background, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import fixtures
import testtools

from fullstack import wait
from neutrino.server import config
from neutrino.server.service import NeutrinoServer
from tests.unit import test_server_support as support

CONFIG = """\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 0
transport_url = amqp://user:secret@127.0.0.1:9/vhost
agent_down_time = 30
base_mac = fa:16:3e:ab:00:00
debug = true

[database]
connection = sqlite:///{db}

[ml2]
type_drivers = vxlan,gre,vlan,flat
tenant_network_types = vxlan
mechanism_drivers = openvswitch,l2population

[ml2_type_vxlan]
vni_ranges = 100:200,300:400

[ml2_type_gre]
tunnel_id_ranges = 1001:2000

[ml2_type_vlan]
network_vlan_ranges = physnet1:100:200

[ml2_type_flat]
flat_networks = physnet1
"""


class TestConfigFile(testtools.TestCase):
    def test_every_option_is_read(self):
        directory = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(directory, "server.conf")
        with open(path, "w") as stream:
            stream.write(CONFIG.format(db="/tmp/x.sqlite"))
        conf = config.load(["--config-file", path])
        self.assertEqual(
            ("127.0.0.1", 0, "amqp://user:secret@127.0.0.1:9/vhost", 30,
             "fa:16:3e:ab:00:00", True, "sqlite:////tmp/x.sqlite",
             ["vxlan", "gre", "vlan", "flat"], ["vxlan"], ["openvswitch", "l2population"],
             ["100:200", "300:400"], ["1001:2000"], ["physnet1:100:200"], ["physnet1"]),
            (conf.bind_host, conf.bind_port, conf.transport_url, conf.agent_down_time,
             conf.base_mac, conf.debug, conf.database.connection, conf.ml2.type_drivers,
             conf.ml2.tenant_network_types, conf.ml2.mechanism_drivers,
             conf.ml2_type_vxlan.vni_ranges, conf.ml2_type_gre.tunnel_id_ranges,
             conf.ml2_type_vlan.network_vlan_ranges, conf.ml2_type_flat.flat_networks))

    def test_database_connection_is_required(self):
        error = self.assertRaises(ValueError, config.load, [])
        self.assertIn("[database] connection", str(error))


class FlakyRpcServer:
    """An RPC server whose start fails until ``failures`` runs out, as while the
    broker is down."""

    def __init__(self, failures: int):
        self.failures = failures
        self.attempts = 0
        self.stopped = False
        self.gate = threading.Event()

    def factory(self, endpoint):
        self.endpoint = endpoint
        return self

    def start(self):
        self.attempts += 1
        self.gate.wait(timeout=30)
        if self.attempts <= self.failures:
            raise ConnectionRefusedError("broker unreachable")

    def stop(self):
        self.stopped = True


class TestBackgroundRpc(testtools.TestCase):
    def test_api_serves_while_rpc_keeps_retrying(self):
        self.useFixture(fixtures.FakeLogger())
        self.useFixture(fixtures.MonkeyPatch(
            "neutrino.server.service.RPC_RETRY_INTERVAL", 0.01))
        directory = self.useFixture(fixtures.TempDir()).path
        conf = support.make_conf("sqlite:///" + os.path.join(directory, "db.sqlite"))
        rpc = FlakyRpcServer(failures=3)
        server = NeutrinoServer(conf, rpc_server_factory=rpc.factory,
                                notifier_factory=support.FakeNotifier)
        server.start()
        self.addCleanup(server.stop)
        # RPC start is held back: the API answers all the same.
        status, _ = support.ApiClient(server.url).request("GET", "/v2.0/networks")
        self.assertEqual(200, status)
        self.assertFalse(server.rpc_started)
        rpc.gate.set()
        wait.wait_until_true(lambda: server.rpc_started, timeout=30,
                             exception="RPC server never started after the broker came back")
        self.assertEqual(4, rpc.attempts)
        self.assertIs(server.rpc_endpoint, rpc.endpoint)
        server.stop()
        self.assertTrue(rpc.stopped)

    def test_without_transport_url_there_is_no_rpc(self):
        self.useFixture(fixtures.FakeLogger())
        server = self.useFixture(support.ServerFixture()).server
        self.assertFalse(server.rpc_started)
        self.assertEqual(200, support.ApiClient(server.url).request("GET", "/")[0])


class TestProcess(testtools.TestCase):
    """``python -m neutrino.server`` as the harness runs it."""

    def _write_config(self, text):
        directory = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(directory, "server.conf")
        with open(path, "w") as stream:
            stream.write(text.format(db=os.path.join(directory, "db.sqlite")))
        return path

    def _start(self, config_path):
        process = subprocess.Popen(
            [sys.executable, "-m", "neutrino.server", "--config-file", config_path],
            stderr=subprocess.PIPE, text=True, cwd=os.getcwd())
        self.addCleanup(self._reap, process)
        return process

    def _reap(self, process):
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        process.stderr.close()

    def _wait_for_ready(self, process):
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "neutrino-server ready on " in line:
                return line.rsplit("ready on ", 1)[1].strip(), lines
        self.fail("server never logged its ready line:\n" + "".join(lines))

    def test_serves_until_sigterm_then_exits_0(self):
        # Nothing listens on the broker port (discard, 9): the API must come up anyway.
        process = self._start(self._write_config(CONFIG))
        url, lines = self._wait_for_ready(process)
        self.assertRegex(url, r"^http://127\.0\.0\.1:\d+$")
        self.assertRegex(lines[-1], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
        with urllib.request.urlopen(url + "/v2.0/networks", timeout=30) as response:
            self.assertEqual(b'{"networks": []}', response.read())
        process.send_signal(signal.SIGTERM)
        rest = process.stderr.read()
        self.assertEqual(0, process.wait(timeout=60), rest)
        self.assertIn("neutrino-server stopped", rest)
        self.assertNotIn("secret", "".join(lines) + rest)

    def test_configuration_error_exits_2_with_a_message(self):
        path = self._write_config("[database]\nconnection = sqlite:///{db}\n"
                                  "[ml2]\ntype_drivers = vxln\n")
        process = self._start(path)
        output = process.stderr.read()
        self.assertEqual(2, process.wait(timeout=60))
        self.assertIn("type_drivers 'vxln' is not one of", output)
