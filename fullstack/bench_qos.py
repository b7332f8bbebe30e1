"""``python -m fullstack bench-qos``: how fast a QoS rule change shows on the wire.

Two hosts with QoS; a machine on each; a UDP flow from the first to the
second, offered at 5 x the limit, whose receiver says every 50 ms how much
arrived.  Each sample creates a bandwidth limit rule in the first machine's
policy and times from the API call until a 50 ms bin (one that began after
the call) arrived at no more than 1.2 x the limit; then deletes the rule and
times until a bin arrived at 0.6 x what is offered or more.  The resolution
is the bin (50 ms); an OpenFlow meter's burst (a second of the rate, at
first) is spent within the time measured.
"""

from __future__ import annotations

import statistics
import time
import uuid

import fixtures

from fullstack import environment, machine, measured, prerequisites, run, wait
from fullstack.resources import client

LIMIT_KBPS = 6000
OFFERED_MBPS = 5 * LIMIT_KBPS / 1000
BIN = 0.05
FLOW_SECONDS = 3600.0   # longer than any run: the flow is stopped once the samples are in
CHANGE_TIMEOUT = 30.0


class QosBench(fixtures.Fixture):
    def __init__(self, settings: prerequisites.Settings, service: str | None):
        super().__init__()
        self.settings = settings
        self.service = service

    def _setUp(self) -> None:
        ctx = self.useFixture(run.HarnessRun(self.settings, "bench-qos")).ctx
        env = self.useFixture(environment.Environment(
            environment.EnvironmentDescription(service=self.service, qos=True),
            [environment.HostDescription() for _ in range(2)], ctx=ctx))
        self.safe = self.useFixture(client.SafeClient(env.server.client))
        tenant = uuid.uuid4().hex
        net = self.safe.create_network(tenant)
        self.safe.create_subnet(tenant, net["id"], "20.0.0.0/24")
        self.limited, peer = machine.boot_machines(self.useFixture, env.hosts, net["id"],
                                                   tenant, self.safe)
        self.policy = self.safe.create_qos_policy(tenant, "bench")
        self.safe.update_port(self.limited.port["id"], qos_policy_id=self.policy["id"])
        self.flow = self.useFixture(measured.TrafficFlow(
            self.limited, peer, "udp", FLOW_SECONDS, ["--rate-bps", str(OFFERED_MBPS * 1e6)],
            report=BIN))

    def _until_rate(self, since: float, holds, what: str) -> float:
        """Seconds from ``since`` to the end of the first bin begun after it whose
        rate (Mbit/s) ``holds``."""
        found: list[float] = []

        def seen() -> bool:
            for start, size in self.flow.bins():
                if start >= since and holds(size * 8 / BIN / 1e6):
                    found.append(start + BIN - since)
                    return True
            return False

        wait.wait_until_true(seen, timeout=CHANGE_TIMEOUT, sleep=0.02,
                             exception=f"{what} not seen in {CHANGE_TIMEOUT} s")
        return found[0]

    def rule_to_rate(self, samples: int) -> dict[str, list[float]]:
        applied, removed = [], []
        self._until_rate(time.monotonic(), lambda mbps: mbps >= 0.6 * OFFERED_MBPS,
                         "the unlimited rate")
        for _ in range(samples):
            start = time.monotonic()
            rule = self.safe.create_bandwidth_limit_rule(self.policy["id"], limit=LIMIT_KBPS)
            applied.append(self._until_rate(
                start, lambda mbps: mbps <= 1.2 * LIMIT_KBPS / 1000, "the limit"))
            start = time.monotonic()
            self.safe.delete_qos_rule(self.policy["id"], "bandwidth_limit", rule["id"])
            removed.append(self._until_rate(
                start, lambda mbps: mbps >= 0.6 * OFFERED_MBPS, "the unlimited rate"))
        return {"rule_create_to_limited": applied, "rule_delete_to_unlimited": removed}


def run_bench(samples: int, service: str | None = None) -> dict:
    settings = prerequisites.Settings.from_environment()
    with QosBench(settings, service) as bench:
        latencies = bench.rule_to_rate(samples)
    return {"service": service or settings.service, "samples": samples,
            "limit_kbps": LIMIT_KBPS, "offered_mbps": OFFERED_MBPS,
            "rule_to_rate": {name: {"median": round(statistics.median(values), 3),
                                    "max": round(max(values), 3)}
                             for name, values in latencies.items()}}


def render(result: dict) -> str:
    lines = [f"{result['service']}: QoS, {result['samples']} samples, a "
             f"{result['limit_kbps']} kbit/s limit, {result['offered_mbps']:g} Mbit/s offered",
             f"{'rule to rate':<28} {'median s':>9} {'max s':>9}"]
    for name, stats in result["rule_to_rate"].items():
        lines.append(f"  {name:<26} {stats['median']:>9.3f} {stats['max']:>9.3f}")
    return "\n".join(lines)
