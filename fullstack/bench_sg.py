"""``python -m fullstack bench-sg``: how fast security group changes reach the wire.

Two hosts whose L2 agents run the ``openvswitch`` firewall; a client
without port security on one, a server in a group of its own on the other.

- ``rule_to_traffic``: from the API call that creates an ICMP rule for the
  client until the server answers its pings, and from the call that deletes
  it until the pings stop being answered (each sample a new rule).
- ``port_with_rules``: a port whose group has ``--rules`` TCP rules (one port
  each), from plugging it on br-int until the server reports it ACTIVE (its
  agent wired and filtered it), beside the same for a port of a group with
  no rules: the difference is what programming the rules costs the agent.
  ``flows`` is how many flows the agent installed for it.
"""

from __future__ import annotations

import statistics
import time
import uuid

import fixtures

from fullstack import environment, machine, prerequisites, run, wait
from fullstack.resources import client, runner

PROBE_TIMEOUT = 30.0


class SecurityGroupBench(fixtures.Fixture):
    def __init__(self, settings: prerequisites.Settings, service: str | None):
        super().__init__()
        self.settings = settings
        self.service = service

    def _setUp(self) -> None:
        ctx = self.useFixture(run.HarnessRun(self.settings, "bench-sg")).ctx
        self.env = self.useFixture(environment.Environment(
            environment.EnvironmentDescription(service=self.service),
            [environment.HostDescription(firewall_driver="openvswitch") for _ in range(2)],
            ctx=ctx))
        self.safe = self.useFixture(client.SafeClient(self.env.server.client))
        self.tenant = uuid.uuid4().hex
        self.net = self.safe.create_network(self.tenant)
        self.safe.create_subnet(self.tenant, self.net["id"], "20.0.0.0/24")
        self.client_vm = self.boot(0, port_security_enabled=False)

    def boot(self, host_index: int, **port_attrs) -> machine.FakeFullstackMachine:
        port = self.safe.create_port(self.tenant, self.net["id"], **port_attrs)
        vm = self.useFixture(machine.FakeFullstackMachine(
            self.env.hosts[host_index], self.net["id"], self.tenant, self.safe,
            neutron_port=port))
        vm.block_until_boot()
        return vm

    def group(self, name: str) -> dict:
        return self.safe.create_security_group(self.tenant, name=name)

    def _answers(self, ip: str) -> bool:
        result = self.client_vm.execute(["ping", "-c", "1", "-W", "0.05", ip], check=False,
                                        timeout=5)
        return result.returncode == 0

    def _until(self, condition, what: str) -> float:
        start = time.monotonic()
        wait.wait_until_true(condition, timeout=PROBE_TIMEOUT, sleep=0.01,
                             exception=f"{what} after {PROBE_TIMEOUT} s")
        return time.monotonic() - start

    def rule_to_traffic(self, samples: int) -> dict[str, list[float]]:
        group = self.group("bench")
        server = self.boot(1, security_groups=[group["id"]])
        created, deleted = [], []
        for _ in range(samples):
            start = time.monotonic()
            rule = self.safe.create_security_group_rule(
                self.tenant, group["id"], protocol="icmp",
                remote_ip_prefix=f"{self.client_vm.ip}/32")
            api = time.monotonic() - start
            created.append(api + self._until(lambda: self._answers(server.ip),
                                             "the server still does not answer"))
            start = time.monotonic()
            self.safe.delete_security_group_rule(rule["id"])
            api = time.monotonic() - start
            deleted.append(api + self._until(lambda: not self._answers(server.ip),
                                             "the server still answers"))
        return {"rule_create": created, "rule_delete": deleted}

    def port_with_rules(self, rules: int) -> dict[str, float]:
        empty, full = self.group("empty"), self.group("full")
        for number in range(rules):
            self.safe.create_security_group_rule(
                self.tenant, full["id"], protocol="tcp", port_range_min=10000 + number,
                port_range_max=10000 + number, remote_ip_prefix=f"{self.client_vm.ip}/32")
        result = {}
        for name, group in (("no_rules", empty), ("with_rules", full)):
            start = time.monotonic()
            vm = self.boot(1, security_groups=[group["id"]])
            result[f"{name}_plug_to_active"] = time.monotonic() - start
            result[f"{name}_flows"] = self._flows_of(vm)
        return result

    @staticmethod
    def _flows_of(vm: machine.FakeFullstackMachine) -> int:
        """br-int's flows that name the port: its OpenFlow port, register or MAC."""
        ovs = vm.host.ovs
        ofport = int(runner.execute(["ovs-vsctl", f"--db={ovs.db_socket}", "get",
                                     "Interface", vm.tap, "ofport"]).stdout.strip())
        dump = runner.execute(["ovs-ofctl", "dump-flows",
                               f"unix:{ovs.run_dir}/br-int.mgmt"]).stdout
        marks = (f"reg5=0x{ofport:x},", f"reg5=0x{ofport:x} ", f"in_port={ofport},",
                 f"in_port={ofport} ", f"dl_dst={vm.mac_address}")
        return sum(1 for line in dump.splitlines() if any(mark in line for mark in marks))


def run_bench(samples: int, rules: int, service: str | None = None) -> dict:
    settings = prerequisites.Settings.from_environment()
    bench = SecurityGroupBench(settings, service)
    with bench:
        latencies = bench.rule_to_traffic(samples)
        ports = bench.port_with_rules(rules)
    return {
        "service": service or settings.service, "samples": samples, "rules": rules,
        "rule_to_traffic": {name: {"median": round(statistics.median(values), 3),
                                   "max": round(max(values), 3)}
                            for name, values in latencies.items()},
        "port_with_rules": {name: round(value, 3) if isinstance(value, float) else value
                            for name, value in ports.items()},
    }


def render(result: dict) -> str:
    lines = [f"{result['service']}: security groups, {result['samples']} samples, "
             f"{result['rules']} rules",
             f"{'rule to traffic':<22} {'median s':>9} {'max s':>9}"]
    for name, stats in result["rule_to_traffic"].items():
        lines.append(f"  {name:<20} {stats['median']:>9.3f} {stats['max']:>9.3f}")
    lines.append("port with rules")
    for name, value in result["port_with_rules"].items():
        lines.append(f"  {name:<28} {value:>9}")
    return "\n".join(lines)
