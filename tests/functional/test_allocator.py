"""Allocations are exclusive across processes (stestr's workers)."""

from __future__ import annotations

import json
import subprocess
import sys

import netaddr

from fullstack import base

ALLOCATE_MANY = """
import json, sys
from fullstack.resources import allocator
registry = allocator.Registry(sys.argv[1])
got = [registry.allocate('network', sys.argv[2], allocator.random_network)
       for _ in range(int(sys.argv[3]))]
print(json.dumps(got))
"""


class TestAllocatorAcrossProcesses(base.HarnessTestCase):
    def test_two_processes_never_share_a_network(self):
        count = 300
        state_dir = self.run_dir + "/alloc"
        procs = [
            subprocess.Popen([sys.executable, "-c", ALLOCATE_MANY, state_dir, owner, str(count)],
                             stdout=subprocess.PIPE, text=True)
            for owner in ("a", "b")
        ]
        results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
        self.assertEqual([0, 0], [p.returncode for p in procs])
        a, b = (set(r) for r in results)
        self.assertEqual(count, len(a))
        self.assertEqual(count, len(b))
        self.assertEqual(set(), a & b)
        for value in a | b:
            self.assertIn(netaddr.IPNetwork(value), netaddr.IPNetwork("240.0.0.0/8"))
