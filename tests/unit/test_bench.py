"""The benchmark's grouping of set-up timings and its table."""

from __future__ import annotations

import types

import testtools

from fullstack import bench, bench_sg


class TestEnvParts(testtools.TestCase):
    def test_timings_are_grouped_per_part(self):
        env = types.SimpleNamespace(timings={
            "central": 0.4, "server": 1.1, "host-1.ovs": 0.3, "host-1": 1.2,
            "host-2.ovs": 0.2, "host-2": 1.0, "host-1-ovs-agent.alive": 0.9,
            "host-2-ovs-agent.alive": 1.1, "agents_alive": 0.8})
        self.assertEqual({"central": [0.4], "server": [1.1], "host_ovs": [0.3, 0.2],
                          "host": [1.2, 1.0], "agent_alive": [0.9, 1.1],
                          "agents_alive": [0.8]}, bench.env_parts(env))

    def test_a_process_without_memory_figures_is_an_error(self):
        self.assertRaises(OSError, bench.peak_rss_mb, 2**22 + 1)   # above pid_max

    def test_render_shows_parts_and_memory(self):
        stats = {"median": 1.0, "max": 2.0}
        result = {"service": "neutrino", "hosts": 3, "runs": 1, "network_type": "vxlan",
                  "cores": 2, "ram_gb": 24,
                  "phases": dict.fromkeys(bench.PHASES, stats),
                  "env_up_parts": {"central": stats, "agent_alive": stats},
                  "ready": {"ovs-agent": stats},
                  "rss_mb_per_host": {"median": 65.0, "max": 66.0},
                  "pss_mb_per_host": {"median": 40.0, "max": 41.0}}
        text = bench.render(result, as_json=False)
        self.assertIn("neutrino, 3 hosts, vxlan, 1 runs (2 cores, 24 GiB)", text)
        self.assertRegex(text, r"agent_alive\s+1\.000\s+2\.000")
        self.assertRegex(text, r"ovs-agent\s+1\.000\s+2\.000")
        self.assertRegex(text, r"rss_mb_per_host\s+65\.0\s+66\.0")
        self.assertRegex(text, r"pss_mb_per_host\s+40\.0\s+41\.0")


class TestSecurityGroupBenchRender(testtools.TestCase):
    def test_render_shows_latencies_and_the_port_with_rules(self):
        result = {"service": "neutrino", "samples": 10, "rules": 100,
                  "rule_to_traffic": {"rule_create": {"median": 0.085, "max": 0.137},
                                      "rule_delete": {"median": 0.083, "max": 0.248}},
                  "port_with_rules": {"with_rules_plug_to_active": 0.21,
                                      "with_rules_flows": 248}}
        text = bench_sg.render(result)
        self.assertIn("neutrino: security groups, 10 samples, 100 rules", text)
        self.assertIn("  rule_create              0.085     0.137", text)
        self.assertIn("with_rules_flows", text)
        self.assertIn("248", text)
