"""The process fixture owns its process by pid, from start to stop."""

from __future__ import annotations

import os
import signal
import sys

import fixtures
import psutil

from fullstack import base
from fullstack.resources import daemon, namespace, records

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)"]
STUBBORN = [sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('up', flush=True); time.sleep(600)"]

# A server that forks a worker (same session) and a daemon (its own session, as
# dnsmasq makes itself), then prints both pids.
FORKER = [sys.executable, "-c", """
import os, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                          start_new_session=True)
print("up", worker.pid, daemon.pid, flush=True)
time.sleep(600)
"""]


def _alive(pid: int) -> bool:
    """Running, not dead: an orphan stays a zombie until PID 1 reaps it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class TestProcessFixture(base.HarnessTestCase):
    def process(self, cmd, **kwargs) -> daemon.ProcessFixture:
        return daemon.ProcessFixture("probe", cmd, self.ctx.owner, **kwargs)

    def log_says_up(self, fixture: daemon.ProcessFixture) -> bool:
        with open(fixture.log_path) as f:
            return "up" in f.read().split()

    def test_start_record_stop(self):
        fixture = self.process(SLEEPER)
        fixture.ready = lambda: self.log_says_up(fixture)
        with fixture:
            pid = fixture.pid
            self.assertTrue(fixture.is_running())
            self.assertEqual([pid], [r["pid"] for r in
                                     records.recorded_processes(self.settings.state_dir,
                                                                self.prefix)])
        self.assertFalse(fixture.is_running())
        self.assertEqual([], records.recorded_processes(self.settings.state_dir, self.prefix))
        self.assertFalse(os.path.exists(f"/proc/{pid}"))

    def test_stop_takes_the_session_along_but_not_a_daemon_that_left_it(self):
        fixture = self.process(FORKER)
        fixture.ready = lambda: self.log_says_up(fixture)
        with fixture:
            _, worker, detached = fixture.output().split()[:3]
            worker_pid, daemon_pid = int(worker), int(detached)
            self.addCleanup(os.kill, daemon_pid, signal.SIGKILL)
            self.assertEqual([worker_pid], [p.pid for p in records.session_members(
                fixture.pid, fixture.started_wall)])
        self.assertFalse(_alive(worker_pid))
        self.assertTrue(_alive(daemon_pid))

    def test_runs_inside_namespace(self):
        ns = self.useFixture(namespace.Namespace(f"{self.prefix}-p"))
        fixture = self.process(SLEEPER, namespace=ns.name)
        fixture.ready = lambda: self.log_says_up(fixture)
        self.useFixture(fixture)
        ours = os.readlink(f"/proc/{fixture.pid}/ns/net")
        self.assertNotEqual(os.readlink("/proc/self/ns/net"), ours)
        self.assertEqual(os.stat(f"/run/netns/{ns.name}").st_ino,
                         os.stat(f"/proc/{fixture.pid}/ns/net").st_ino)

    def test_sigkill_after_ignored_sigterm(self):
        fixture = self.process(STUBBORN, stop_timeout=0.5)
        fixture.ready = lambda: self.log_says_up(fixture)
        self.useFixture(fixture)
        fixture.stop()
        self.assertEqual(-signal.SIGKILL, fixture.popen.returncode)

    def test_kill_and_restart(self):
        fixture = self.useFixture(self.process(SLEEPER))
        first = fixture.pid
        fixture.kill(signal.SIGKILL)
        self.assertFalse(fixture.is_running())
        fixture.restart()
        self.assertTrue(fixture.is_running())
        self.assertNotEqual(first, fixture.pid)

    def test_exit_during_readiness_names_the_process(self):
        fixture = self.process([sys.executable, "-c", "print('boom'); raise SystemExit(3)"],
                               ready=lambda: False)
        exc = self.assertRaises(fixtures.MultipleExceptions, fixture.setUp)
        # fixtures wraps a failed set-up with its details; the cause comes first.
        exc = exc.args[0][1]
        self.assertIsInstance(exc, daemon.ProcessExited)
        self.assertIn("probe exited with code 3", str(exc))
        self.assertIn("boom", str(exc))
