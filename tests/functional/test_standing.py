"""``python -m fullstack up``, ``status`` and ``down``, as a developer runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psutil
from pyroute2 import netns

from fullstack import base, cleanup, interactive
from fullstack.resources import client, inventory


def fullstack(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fullstack", *args],
                          capture_output=True, text=True, timeout=300)


class TestStandingDeployment(base.HarnessTestCase):
    def up(self, *args: str) -> dict:
        result = fullstack("up", "--json", *args)
        self.assertEqual(0, result.returncode, result.stderr)
        summary = json.loads(result.stdout)
        self.addCleanup(self._down_quietly, summary["id"])
        return summary

    def _down_quietly(self, prefix: str) -> None:
        if prefix in [s["id"] for s in interactive.standing(self.settings)]:
            interactive.down(self.settings, prefix)

    def test_up_ping_status_down(self):
        summary = self.up("--hosts", "2", "--machines", "2")
        prefix = summary["id"]
        self.assertEqual(["host-1", "host-2"], [h["name"] for h in summary["hosts"]])
        for host in summary["hosts"]:
            self.assertIn(host["namespace"], netns.listnetns())
            for proc in host["processes"]:
                self.assertTrue(psutil.pid_exists(proc["pid"]), proc)
        first, second = summary["machines"]
        self.assertEqual({"host-1", "host-2"}, {first["host"], second["host"]})
        self.assertTrue(os.path.isfile(summary["topology_svg"]))
        self.assertTrue(summary["db_url"].endswith(f"fullstack_{prefix}"))

        # The command has returned: the deployment works on its own.
        ping = subprocess.run(["ip", "netns", "exec", first["namespace"], "ping", "-c", "3",
                               "-i", "0.2", "-W", "2", second["ip"]],
                              capture_output=True, text=True)
        self.assertEqual(0, ping.returncode, ping.stdout + ping.stderr)
        agents = client.ApiClient(summary["api_url"]).list_agents()
        self.assertEqual(["host-1", "host-2"], sorted(a["host"] for a in agents if a["alive"]))

        status = fullstack("status", "--json")
        listed = {s["id"]: s for s in json.loads(status.stdout)}
        self.assertIn(prefix, listed)
        self.assertEqual(listed[prefix]["processes_recorded"],
                         listed[prefix]["processes_running"])
        # Nobody's process owns it, yet the cleanup command leaves it alone.
        self.assertNotIn(prefix, cleanup.dead_prefixes(self.settings))

        result = fullstack("down", prefix)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertEqual({}, inventory.Inventory.take(self.settings, prefix).leaks())
        for host in summary["hosts"]:
            for proc in host["processes"]:
                self.assertFalse(psutil.pid_exists(proc["pid"]) and
                                 psutil.Process(proc["pid"]).status() != psutil.STATUS_ZOMBIE,
                                 proc)
        self.assertNotIn(prefix, [s["id"] for s in interactive.standing(self.settings)])

    def test_down_refuses_what_does_not_stand(self):
        result = fullstack("down", self.prefix)   # this test's own, live run
        self.assertEqual(1, result.returncode)
        self.assertIn(f"'{self.prefix}' is not a standing deployment", result.stderr)
        self.assertIn(f"{self.prefix}", self.registry.held("prefix"))

    def test_bad_request_is_refused_before_anything_is_built(self):
        def ids() -> set[str]:
            return {s["id"] for s in interactive.standing(self.settings)}

        before = ids()
        result = fullstack("up", "--hosts", "0")
        self.assertEqual(1, result.returncode)
        # One line, and no progress: nothing was started.
        self.assertEqual("up: hosts must be at least 1, not 0\n", result.stderr)
        # (Another test may take its own deployment down meanwhile.)
        self.assertEqual(set(), ids() - before)
