"""The configure script refuses what it cannot do and is idempotent."""

from __future__ import annotations

import os
import subprocess

import testtools

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "tools",
                      "configure_for_func_testing.sh")


class TestConfigureScript(testtools.TestCase):
    def test_refuses_non_root(self):
        proc = subprocess.run(["runuser", "-u", "nobody", "--", "bash", SCRIPT],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(1, proc.returncode)
        self.assertIn("must run as root", proc.stderr)

    def test_second_run_only_checks(self):
        proc = subprocess.run(["bash", SCRIPT], capture_output=True, text=True, timeout=600)
        self.assertEqual(0, proc.returncode, proc.stderr)
        self.assertIn("packages: all", proc.stdout)
        self.assertIn("rabbitmq: running", proc.stdout)
        self.assertIn("mariadb: running", proc.stdout)
