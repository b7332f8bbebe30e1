"""``python -m fullstack bench``: time the connectivity scenario, phase by phase.

It uses the very fixtures the tests use, so what it measures is what the
suite pays: ``env_up`` (until every agent is alive), ``boot`` (every machine's
port ACTIVE), ``ping_all``, ``teardown`` and ``total``.  ``env_up`` is broken
into its parts (the Environment times them as it builds): ``central``,
``server``, per host ``host`` (its wiring and agent launches) and
``host_ovs`` (its OVS instance alone), per agent ``agent_alive`` (from its
start until the server lists it alive) and ``agents_alive`` (from the last
host built until every agent is alive).  With ``--regions N`` the round is
N regions of ``--hosts`` hosts each, a machine per host on one central
network, and ``server`` is each server's (the central one's and each
region's).  ``rss_mb_per_host`` is the peak
resident memory (VmHWM) of a host's OVS daemons and agents;
``pss_mb_per_host`` their proportional share (PSS) once the machines
pinged: a page several processes share (a zygote's, forked from) counts
as a fraction in each, so it says what a host adds to the machine where
RSS counts the shared pages in full in every process.  ``ready``
is each process's time from its launch until it was first seen ready
(a server answering, an agent listed alive, an OVS daemon's socket
accepting), grouped by kind (``host-2-ovs-agent`` counts as ``ovs-agent``);
a process kept for the whole runner (a zygote) shows in the round that
launched it.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import uuid

import fixtures
import psutil

from fullstack import descriptions, environment, interactive, machine, prerequisites, run
from fullstack import host as host_module
from fullstack.resources import client, lasting

PHASES = ("env_up", "boot", "ping_all", "teardown", "total")


class ConnectivityRound(fixtures.Fixture):
    """One round: environment, one network, a machine per host, ping_all."""

    def __init__(self, settings: prerequisites.Settings, hosts: int,
                 network_type: descriptions.NetworkType,
                 service: str | None = None, regions: int = 0):
        super().__init__()
        self.settings = settings
        self.hosts = hosts
        self.network_type = network_type
        self.service = service
        self.regions = regions
        self.marks: dict[str, float] = {}

    def _setUp(self) -> None:
        start = time.monotonic()
        ctx = self.useFixture(run.HarnessRun(self.settings, "bench")).ctx
        env = self.useFixture(interactive.UpRequest(
            hosts=self.hosts, network_type=self.network_type, service=self.service,
            regions=self.regions).environment(ctx))
        self.marks["env_up"] = time.monotonic() - start
        safe = self.useFixture(client.SafeClient(env.server.client))
        regional = {region.name: self.useFixture(client.SafeClient(region.client))
                    for region in env.regions}
        tenant = uuid.uuid4().hex
        net = safe.create_network(tenant, **env.env_desc.network_attrs())
        safe.create_subnet(tenant, net["id"], "20.0.0.0/24")
        vms = machine.boot_machines(self.useFixture, env.hosts, net["id"], tenant, safe,
                                    client_for=lambda host: regional.get(host.site.region))
        self.marks["boot"] = time.monotonic() - start - self.marks["env_up"]
        before_ping = time.monotonic()
        vms.ping_all()
        self.marks["ping_all"] = time.monotonic() - before_ping
        self.set_up_seconds = time.monotonic() - start
        self.parts = env_parts(env)
        self.ready = ready_times(env, since=start)
        self.rss_mb = [host_peak_rss_mb(host) for host in env.hosts]
        self.pss_mb = [host_pss_mb(host) for host in env.hosts]


def env_parts(env: environment.Environment) -> dict[str, list[float]]:
    """The environment's set-up timings, grouped: one value, or one per host or agent."""
    parts: dict[str, list[float]] = {}
    for name, seconds in env.timings.items():
        if name.endswith(".alive"):
            part = "agent_alive"
        elif name.endswith(".ovs"):
            part = "host_ovs"
        elif name.startswith("host-"):
            part = "host"
        elif name.endswith("-server"):
            part = "server"   # with regions: the central one and each region's
        else:
            part = name
        parts.setdefault(part, []).append(seconds)
    return parts


def ready_times(env: environment.Environment, since: float) -> dict[str, list[float]]:
    """Launch to ready, by process kind, of the environment's processes and of those
    kept for the runner that were launched after ``since``."""
    kept = [proc for proc in lasting.KEEPER.processes() if proc.started_at >= since]
    times: dict[str, list[float]] = {}
    for proc in [*env.processes(), *kept]:
        if proc.ready_after is not None:
            kind = re.sub(r"^host-\d+-", "", proc.name)
            times.setdefault(kind, []).append(proc.ready_after)
    return times


def peak_rss_mb(pid: int | None) -> float:
    """VmHWM: the most memory the process ever had resident.

    A process that cannot be read is an error, not zero: a daemon that died
    before the measurement would otherwise make a host look light.
    """
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"process {pid} reports no VmHWM")


def host_peak_rss_mb(host: host_module.Host) -> float:
    return sum(peak_rss_mb(daemon.pid) for daemon in host.processes())


def host_pss_mb(host: host_module.Host) -> float:
    return sum(psutil.Process(daemon.pid).memory_full_info().pss
               for daemon in host.processes()) / 2**20


def run_rounds(hosts: int, runs: int, network_type: descriptions.NetworkType,
               service: str | None = None,
               regions: int = 0) -> dict:
    """``runs`` rounds; ``service`` None: the run's (FULLSTACK_SERVICE, else neutrino);
    ``regions`` N: that many regions of ``hosts`` hosts each."""
    settings = prerequisites.Settings.from_environment()
    samples: dict[str, list[float]] = {phase: [] for phase in PHASES}
    parts: dict[str, list[float]] = {}
    ready: dict[str, list[float]] = {}
    rss: list[float] = []
    pss: list[float] = []
    for _ in range(runs):
        round_ = ConnectivityRound(settings, hosts, network_type, service, regions)
        round_.setUp()  # a failed set-up unwinds itself and raises
        teardown_start = time.monotonic()
        round_.cleanUp()
        teardown = time.monotonic() - teardown_start
        for phase in ("env_up", "boot", "ping_all"):
            samples[phase].append(round_.marks[phase])
        samples["teardown"].append(teardown)
        samples["total"].append(round_.set_up_seconds + teardown)
        for part, values in round_.parts.items():
            parts.setdefault(part, []).extend(values)
        for kind, values in round_.ready.items():
            ready.setdefault(kind, []).extend(values)
        rss.extend(round_.rss_mb)
        pss.extend(round_.pss_mb)
    return {
        "service": service or settings.service,
        "hosts": hosts, "regions": regions, "runs": runs, "network_type": network_type,
        "cores": psutil.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30),
        "phases": {phase: _stats(values) for phase, values in samples.items()},
        "env_up_parts": {part: _stats(values) for part, values in parts.items()},
        "ready": {kind: _stats(values) for kind, values in sorted(ready.items())},
        "rss_mb_per_host": _mb(rss), "pss_mb_per_host": _mb(pss),
    }


def _mb(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "max": round(max(values), 1)}


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "max": round(max(values), 3)}


def render(result: dict, as_json: bool) -> str:
    if as_json:
        return json.dumps(result)
    regions = result.get("regions")
    hosts = (f"{regions} regions of {result['hosts']} hosts" if regions
             else f"{result['hosts']} hosts")
    lines = [f"{result['service']}, {hosts}, {result['network_type']}, "
             f"{result['runs']} runs "
             f"({result['cores']} cores, {result['ram_gb']} GiB)",
             f"{'phase':<14} {'median s':>9} {'max s':>9}"]
    for phase, stats in result["phases"].items():
        lines.append(f"{phase:<14} {stats['median']:>9.3f} {stats['max']:>9.3f}")
    lines.append("env_up parts (host, host_ovs: per host; agent_alive: per agent)")
    for part, stats in result["env_up_parts"].items():
        lines.append(f"  {part:<12} {stats['median']:>9.3f} {stats['max']:>9.3f}")
    lines.append("launch to ready, by process")
    for kind, stats in result["ready"].items():
        lines.append(f"  {kind:<24} {stats['median']:>9.3f} {stats['max']:>9.3f}")
    rss = result["rss_mb_per_host"]
    lines.append(f"{'rss_mb_per_host':<14} {rss['median']:>9.1f} {rss['max']:>9.1f}  (MB, peak)")
    pss = result["pss_mb_per_host"]
    lines.append(f"{'pss_mb_per_host':<14} {pss['median']:>9.1f} {pss['max']:>9.1f}  "
                 "(MB, shared pages split)")
    return "\n".join(lines)
