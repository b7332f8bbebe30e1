"""A run killed with SIGKILL mid set-up is fully removed by the cleanup command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psutil
from pyroute2 import netns

from fullstack import base, cleanup, wait
from fullstack.resources import inventory, records

BUILD_ENVIRONMENT = """
import sys
from fullstack import environment, prerequisites, run
settings = prerequisites.Settings.from_environment()
with run.HarnessRun(settings, 'killed-run') as harness:
    print(harness.ctx.prefix, flush=True)
    env = environment.Environment(environment.EnvironmentDescription(),
                                  [environment.HostDescription() for _ in range(2)],
                                  ctx=harness.ctx)
    with env:
        print('up', flush=True)
        sys.stdin.read()
"""

# The same with two regions: two more vhosts, databases and servers.
BUILD_REGIONS = BUILD_ENVIRONMENT.replace(
    "[environment.HostDescription() for _ in range(2)],",
    "regions=[environment.RegionDescription('RegionOne'), "
    "environment.RegionDescription('RegionTwo')],")

# A run that ends normally but leaves a namespace and a process behind.
LEAKY_RUN = """
import sys
from fullstack import prerequisites, run
from fullstack.resources import daemon, namespace
settings = prerequisites.Settings.from_environment()
harness = run.HarnessRun(settings, 'leaky-run')
harness.setUp()
ctx = harness.ctx
leaked = namespace.Namespace(ctx.prefix + '-leak')
leaked.setUp()
sleeper = daemon.ProcessFixture(
    'sleeper', [sys.executable, '-c', 'import time; time.sleep(600)'], ctx.owner,
    namespace=leaked.name)
sleeper.setUp()
harness.cleanUp()
print(ctx.prefix, sleeper.pid, ','.join(sorted(harness.leaks)), flush=True)
"""


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class TestCleanupAfterKill(base.HarnessTestCase):
    def test_sigkilled_setup_is_cleaned(self):
        self.check_killed_run_is_cleaned(BUILD_ENVIRONMENT)

    def test_sigkilled_setup_of_two_regions_is_cleaned(self):
        removed = self.check_killed_run_is_cleaned(BUILD_REGIONS)
        for region in ("regionone", "regiontwo"):
            self.assertIn(f"vhost fullstack.{self.killed}-{region}", removed)
            self.assertIn(f"database fullstack_{self.killed}_{region}", removed)

    def check_killed_run_is_cleaned(self, script: str) -> list[str]:
        runner = subprocess.Popen([sys.executable, "-c", script],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(runner.wait)
        self.addCleanup(runner.kill)
        prefix = self.killed = runner.stdout.readline().strip()
        self.assertRegex(prefix, r"^fs[a-z0-9]{4}$")
        # Kill it in the middle: once the central namespace and the first
        # host's exist (they are built side by side), before it is done.
        wait.wait_until_true(
            lambda: {f"{prefix}-h1", f"{prefix}-central"} <= set(netns.listnetns()),
            timeout=60, sleep=0.01, exception=f"run {prefix} never built host 1 and the centre")
        pids = [r["pid"] for r in records.recorded_processes(self.settings.state_dir, prefix)]
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
        left = inventory.Inventory.take(self.settings, prefix)
        self.assertIn(f"{prefix}-central", left.namespaces)
        self.assertTrue(pids and any(running(pid) for pid in pids))

        self.assertIn(prefix, cleanup.dead_prefixes(self.settings))
        removed = cleanup.clean_prefix(self.settings, prefix)

        self.assertIn(f"namespace {prefix}-central", removed)
        after = inventory.Inventory.take(self.settings, prefix)
        self.assertEqual({}, {k: v for k, v in after.__dict__.items()
                              if v and k != "child_pids"})
        self.assertEqual([], [pid for pid in pids if running(pid)])
        self.assertEqual([], records.recorded_processes(self.settings.state_dir, prefix))
        self.assertNotIn(prefix, cleanup.dead_prefixes(self.settings))
        return removed


class TestCleanupAfterLeak(base.HarnessTestCase):
    def test_what_a_finished_run_leaked_is_cleaned(self):
        out = subprocess.run([sys.executable, "-c", LEAKY_RUN], capture_output=True,
                             text=True, timeout=120, check=True).stdout.split()
        prefix, pid, leaks = out[0], int(out[1]), out[2].split(",")
        self.addCleanup(cleanup.clean_prefix, self.settings, prefix)
        self.assertEqual(["child_pids", "namespaces"], leaks)
        self.assertTrue(running(pid))
        # The run kept its prefix and records: its process is gone, so it is dead.
        self.assertIn(prefix, cleanup.dead_prefixes(self.settings))

        removed = cleanup.clean_prefix(self.settings, prefix)

        self.assertIn(f"namespace {prefix}-leak", removed)
        self.assertFalse(running(pid))
        self.assertNotIn(f"{prefix}-leak", netns.listnetns())
        self.assertNotIn(prefix, cleanup.dead_prefixes(self.settings))
