"""The pinger's command line and its reading of ping's summary (no root, no ping)."""

from __future__ import annotations

import os
import types

import fixtures
import testtools

from fullstack import probes

SUMMARY = """PING 20.0.0.5 (20.0.0.5) 56(84) bytes of data.
64 bytes from 20.0.0.5: icmp_seq=1 ttl=64 time=0.412 ms

--- 20.0.0.5 ping statistics ---
80 packets transmitted, 77 received, 3.75% packet loss, time 7990ms
rtt min/avg/max/mdev = 0.101/0.322/1.870/0.250 ms
"""


class TestPinger(testtools.TestCase):
    def setUp(self):
        super().setUp()
        folder = self.useFixture(fixtures.TempDir()).path
        ctx = types.SimpleNamespace(log_dir=folder, prefix="fsunit",
                                    settings=types.SimpleNamespace(state_dir=folder))
        self.machine = types.SimpleNamespace(ctx=ctx, namespace="fsunit-m1")

    def write_log(self, pinger: probes.Pinger, *runs: str) -> None:
        with open(pinger.log_path, "w") as f:
            for run in runs:
                f.write("==== starting: ping ...\n")
                pinger.output_offset = f.tell()
                f.write(run)

    def test_command_line(self):
        pinger = probes.Pinger(self.machine, "20.0.0.5", count=80)
        self.assertEqual(["ping", "-i", "0.1", "-W", "1", "-c", "80", "20.0.0.5"], pinger.cmd)
        self.assertEqual("fsunit-m1", pinger.namespace)
        self.assertNotIn("-c", probes.Pinger(self.machine, "20.0.0.5", interval=0.2).cmd)

    def test_counts_come_from_the_last_summary(self):
        pinger = probes.Pinger(self.machine, "20.0.0.5")
        earlier = SUMMARY.replace("80 packets transmitted, 77", "10 packets transmitted, 10")
        self.write_log(pinger, earlier, SUMMARY)
        self.assertEqual((80, 77, 3), (pinger.sent, pinger.received, pinger.lost))

    def test_no_summary_says_so(self):
        pinger = probes.Pinger(self.machine, "20.0.0.5")
        self.write_log(pinger, SUMMARY.split("---")[0])
        exc = self.assertRaises(RuntimeError, getattr, pinger, "sent")
        self.assertIn("no ping summary", str(exc))
        self.assertIn(os.path.basename(pinger.log_path), str(exc))

    def test_set_up_does_not_start_it(self):
        pinger = self.useFixture(probes.Pinger(self.machine, "20.0.0.5"))
        self.assertIsNone(pinger.pid)
        pinger.stop()   # harmless before any start
