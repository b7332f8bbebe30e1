"""``python -m fullstack bench``: time the connectivity scenario, phase by phase.

It uses the very fixtures the tests use, so what it measures is what the
suite pays: ``env_up`` (until every agent is alive), ``boot`` (every machine's
port ACTIVE), ``ping_all``, ``teardown`` and ``total``.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid

import fixtures

from fullstack import environment, machine, prerequisites, run
from fullstack.resources import client

PHASES = ("env_up", "boot", "ping_all", "teardown", "total")


class ConnectivityRound(fixtures.Fixture):
    """One round: environment, one network, a machine per host, ping_all."""

    def __init__(self, settings: prerequisites.Settings, hosts: int, network_type: str):
        super().__init__()
        self.settings = settings
        self.hosts = hosts
        self.network_type = network_type
        self.marks: dict[str, float] = {}

    def _setUp(self) -> None:
        start = time.monotonic()
        ctx = self.useFixture(run.HarnessRun(self.settings, "bench")).ctx
        env = environment.Environment(
            environment.EnvironmentDescription(network_type=self.network_type),
            [environment.HostDescription() for _ in range(self.hosts)])
        env.bind(ctx)
        self.useFixture(env)
        self.marks["env_up"] = time.monotonic() - start
        safe = self.useFixture(client.SafeClient(env.server.client))
        tenant = uuid.uuid4().hex
        net = safe.create_network(tenant)
        safe.create_subnet(tenant, net["id"], "20.0.0.0/24")
        vms = machine.FakeFullstackMachinesList(
            self.useFixture(machine.FakeFullstackMachine(host, net["id"], tenant, safe))
            for host in env.hosts)
        vms.block_until_all_boot()
        self.marks["boot"] = time.monotonic() - start - self.marks["env_up"]
        before_ping = time.monotonic()
        vms.ping_all()
        self.marks["ping_all"] = time.monotonic() - before_ping
        self.set_up_seconds = time.monotonic() - start


def run_rounds(hosts: int, runs: int, network_type: str) -> dict:
    settings = prerequisites.Settings.from_environment()
    samples: dict[str, list[float]] = {phase: [] for phase in PHASES}
    for _ in range(runs):
        round_ = ConnectivityRound(settings, hosts, network_type)
        round_.setUp()  # a failed set-up unwinds itself and raises
        teardown_start = time.monotonic()
        round_.cleanUp()
        teardown = time.monotonic() - teardown_start
        for phase in ("env_up", "boot", "ping_all"):
            samples[phase].append(round_.marks[phase])
        samples["teardown"].append(teardown)
        samples["total"].append(round_.set_up_seconds + teardown)
    return {
        "hosts": hosts, "runs": runs, "network_type": network_type,
        "phases": {phase: {"median": round(statistics.median(values), 3),
                           "max": round(max(values), 3)}
                   for phase, values in samples.items()},
    }


def render(result: dict, as_json: bool) -> str:
    if as_json:
        return json.dumps(result)
    lines = [f"{result['hosts']} hosts, {result['network_type']}, {result['runs']} runs",
             f"{'phase':<10} {'median s':>9} {'max s':>9}"]
    for phase, stats in result["phases"].items():
        lines.append(f"{phase:<10} {stats['median']:>9.3f} {stats['max']:>9.3f}")
    return "\n".join(lines)
