"""Objects of the harness name themselves in failure messages and at a pdb prompt."""

from __future__ import annotations

import sys
import types

import fixtures
import testtools

from fullstack import descriptions, environment, host, machine
from fullstack.resources import cable, daemon, ovs, records


def fake_site(prefix: str = "fs3k9a") -> host.CentralSite:
    ctx = types.SimpleNamespace(prefix=prefix, run_dir=f"/run/fullstack/runs/{prefix}")
    return host.CentralSite(
        ctx=ctx, env_desc=descriptions.EnvironmentDescription(), service=None,
        control_bridge=None, control_network=None,
        tunnel_network=None, central=lambda: None,
        transport_url="rabbit://", server=None,
        wait_for_server=lambda: None,
        check_processes=lambda: None, next_machine_number=lambda: 1)


class TestReprs(testtools.TestCase):
    def test_host_names_itself_and_its_namespace(self):
        self.assertEqual("<Host host-2 ns=fs3k9a-h2>",
                         repr(host.Host(fake_site(), 2, descriptions.HostDescription())))

    def test_machine_before_and_after_boot(self):
        on = host.Host(fake_site(), 2, descriptions.HostDescription())
        vm = machine.FakeFullstackMachine(on, "net-id", "tenant", None)
        self.assertEqual("<FakeFullstackMachine (not booted) on host-2>", repr(vm))
        vm.namespace, vm.ip = "fs3k9a-m1", "20.0.0.5"
        self.assertEqual("<FakeFullstackMachine fs3k9a-m1 20.0.0.5 on host-2>", repr(vm))

    def test_process_shows_name_pid_and_exit(self):
        folder = self.useFixture(fixtures.TempDir()).path
        proc = daemon.ProcessFixture("quick", [sys.executable, "-c", "pass"],
                                     records.Ownership("fsunit", folder, folder))
        self.assertEqual("<ProcessFixture quick not started>", repr(proc))
        proc.start()
        proc.popen.wait()
        self.addCleanup(proc.stop)
        self.assertEqual(f"<ProcessFixture quick pid={proc.pid} exited 0>", repr(proc))

    def test_ovs_bridge_and_cable(self):
        nowhere = records.Ownership("fs3k9a", "/nonexistent", "/nonexistent")
        instance = ovs.OvsInstance("host-1", "fs3k9a-h1", "/nonexistent", nowhere)
        br_int = instance.bridge("br-int")
        self.assertEqual("<OvsInstance host-1 ns=fs3k9a-h1>", repr(instance))
        self.assertEqual("<OvsBridge br-int of host-1>", repr(br_int))
        tap = cable.Cable(br_int, "tap3f2a1b2c-4d", "eth0", peer_namespace="fs3k9a-m1")
        self.assertEqual("<Cable br-int:tap3f2a1b2c-4d<->fs3k9a-m1/eth0>", repr(tap))
        fabric = instance.bridge("br-fabric")
        central = ovs.OvsInstance("central", "fs3k9a-central", "/nonexistent",
                                  nowhere).bridge("cnt-data")
        uplink = cable.Cable(central, "h1-data", "data0", peer_bridge=fabric)
        self.assertEqual("<Cable cnt-data:h1-data<->br-fabric:data0>", repr(uplink))
        self.assertEqual("fs3k9a-h1", uplink.peer_namespace)

    def test_cable_refuses_a_peer_namespace_its_bridge_is_not_in(self):
        instance = ovs.OvsInstance("host-1", "fs3k9a-h1", "/x",
                                   records.Ownership("fs3k9a", "/x", "/x"))
        exc = self.assertRaises(ValueError, cable.Cable, instance.bridge("cnt-data"), "h1-data",
                                "data0", peer_namespace="fs3k9a-h2",
                                peer_bridge=instance.bridge("br-fabric"))
        self.assertIn("peer_namespace 'fs3k9a-h2'", str(exc))

    def test_environment_before_its_run(self):
        env = environment.Environment(descriptions.EnvironmentDescription(),
                                      [descriptions.HostDescription()] * 3)
        self.assertEqual("<Environment (no run) hosts=3>", repr(env))
        exc = self.assertRaises(RuntimeError, getattr, env, "ctx")
        self.assertIn("for_run(ctx)", str(exc))
        bound = env.for_run(types.SimpleNamespace(prefix="fs3k9a"))
        self.assertEqual("<Environment fs3k9a hosts=3>", repr(bound))
        self.assertEqual((env.env_desc, env.hosts_desc), (bound.env_desc, bound.hosts_desc))
