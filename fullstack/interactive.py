"""``python -m fullstack up | status | down``: a deployment outside a test run.

``up`` builds an environment with the very fixtures the tests use, boots
machines if asked, and then, instead of tearing it all down, hands the run's
prefix to the registry's standing owner and returns: the processes run in
their own sessions and outlive the command, and the cleanup command leaves a
standing prefix alone.  ``down`` removes one with the cleanup command's own
code (everything carrying the prefix: processes by pid, namespaces, links,
vhost, database); ``status`` lists what stands.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import uuid
from collections.abc import Callable

import fixtures

from fullstack import (
    cleanup,
    context,
    descriptions,
    environment,
    machine,
    prerequisites,
    run,
    topology,
)
from fullstack.resources import allocator, client, records

SUMMARY_FILE = "standing.json"
TENANT_CIDR = "10.0.0.0/24"
EXTERNAL_CIDR = "172.24.4.0/24"
EXTERNAL_PEER = "172.24.4.1/24"   # also the external subnet's gateway


@dataclasses.dataclass(frozen=True)
class UpRequest:
    """What ``fullstack up`` builds.  Host 1 runs the L3 and DHCP agents, if any."""

    hosts: int = 3
    network_type: descriptions.NetworkType = "vxlan"
    l2_pop: bool = False
    l3: bool = False
    dhcp: bool = False
    machines: int = 0
    service: str | None = None   # None: the run's (FULLSTACK_SERVICE, else neutrino)
    # 0: one region (the usual deployment); N: N regions of ``hosts`` hosts each,
    # RegionOne, RegionTwo, ..., and a central server.
    regions: int = 0

    def __post_init__(self) -> None:
        if self.hosts < 1:
            raise ValueError(f"hosts must be at least 1, not {self.hosts}")
        if self.machines < 0:
            raise ValueError(f"machines must be 0 or more, not {self.machines}")
        if self.regions < 0:
            raise ValueError(f"regions must be 0 or more, not {self.regions}")
        if self.regions and (self.l3 or self.dhcp):
            raise ValueError("regions: --l3 and --dhcp are for one region only so far")

    def region_names(self) -> list[str]:
        return [region_name(number) for number in range(1, self.regions + 1)]

    def environment(self, ctx: context.RunContext) -> environment.Environment:
        env_desc = environment.EnvironmentDescription(
            network_type=self.network_type, l2_pop=self.l2_pop, service=self.service)
        hosts = [environment.HostDescription(l3_agent=self.l3 and number == 1,
                                             dhcp_agent=self.dhcp and number == 1)
                 for number in range(1, self.hosts + 1)]
        if self.regions:
            return environment.Environment(env_desc, ctx=ctx, regions=[
                environment.RegionDescription(name, hosts) for name in self.region_names()])
        return environment.Environment(env_desc, hosts, ctx=ctx)


_NUMBERS = ("One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")


def region_name(number: int) -> str:
    """RegionOne, RegionTwo, ... as OpenStack names its regions; Region10 and on."""
    return f"Region{_NUMBERS[number - 1] if number <= len(_NUMBERS) else number}"


class Deployment(fixtures.Fixture):
    """Everything ``up`` builds.  A failed set-up unwinds; a good one is left up."""

    def __init__(self, settings: prerequisites.Settings, request: UpRequest,
                 progress: Callable[[str], None]):
        super().__init__()
        self.settings = settings
        self.request = request
        self.progress = progress
        self.machines: list[machine.FakeFullstackMachine] = []
        self.extras: dict[str, object] = {}

    def _setUp(self) -> None:
        self.ctx = self.useFixture(run.HarnessRun(self.settings, "up", lasting=False)).ctx
        self.progress(f"deployment {self.ctx.prefix}: logs in {self.ctx.log_dir}")
        env = self.request.environment(self.ctx)
        env.progress = self.progress
        self.env = self.useFixture(env)
        if self.request.machines:
            self._boot_machines()
        self.topology_svg = topology.draw(env, os.path.join(self.ctx.log_dir, "topology.svg"))

    def _boot_machines(self) -> None:
        safe = self.useFixture(client.SafeClient(self.env.server.client))
        tenant = uuid.uuid4().hex
        net = safe.create_network(tenant, name="private", **self.env.env_desc.network_attrs())
        subnet = safe.create_subnet(tenant, net["id"], TENANT_CIDR,
                                    enable_dhcp=self.request.dhcp)
        self.extras["network"] = {"id": net["id"], "subnet_id": subnet["id"],
                                  "cidr": TENANT_CIDR, "tenant_id": tenant}
        if self.request.l3:
            self._route(safe, tenant, subnet["id"])
        hosts = self.env.hosts
        # With regions, a machine's port is made through its host's region.
        regional = {region.name: self.useFixture(client.SafeClient(region.client))
                    for region in self.env.regions}
        self.machines = list(machine.boot_machines(
            self.useFixture, [hosts[index % len(hosts)] for index in range(self.request.machines)],
            net["id"], tenant, safe, use_dhcp=self.request.dhcp,
            client_for=lambda host: regional.get(host.site.region)))
        self.progress(f"{len(self.machines)} machine(s) booted on {TENANT_CIDR}")

    def _route(self, safe: client.SafeClient, tenant: str, subnet_id: str) -> None:
        """A router from the tenant subnet to an external network with a peer on it."""
        ext = safe.create_network(tenant, name="public", **self.env.external_network_attrs())
        safe.create_subnet(tenant, ext["id"], EXTERNAL_CIDR,
                           gateway_ip=EXTERNAL_PEER.split("/")[0], enable_dhcp=False)
        peer = self.useFixture(machine.ExternalMachine(self.env, EXTERNAL_PEER))
        router = safe.create_router(tenant, external_network=ext["id"])
        safe.add_router_interface(router["id"], subnet_id)
        self.extras["router"] = {"id": router["id"], "external_network_id": ext["id"]}
        self.extras["external_peer"] = {"namespace": peer.namespace, "ip": peer.ip}

    def summary(self) -> dict:
        env = self.env
        hosts = [{
            "name": host.hostname, "namespace": host.namespace,
            "control_ip": host.control_ip.split("/")[0], "tunnel_ip": host.tunnel_ip,
            "processes": [{"name": p.name, "pid": p.pid} for p in host.processes()],
            "region": host.site.region or None,
        } for host in env.hosts]
        regions = [{"name": region.name, "api_url": region.server.url,
                    "db_url": region.database.url,
                    "rabbitmq_vhost": region.rabbitmq_environment.vhost,
                    "hosts": [host.hostname for host in region.hosts]}
                   for region in env.regions]
        machines = [{"namespace": vm.namespace, "ip": vm.ip, "host": vm.host.hostname,
                     "port_id": vm.port["id"]} for vm in self.machines]
        return {
            "id": self.ctx.prefix,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "network_type": env.env_desc.network_type,
            "central_namespace": env.central_namespace.name,
            "hosts": hosts, "machines": machines, **self.extras,
            "api_url": env.server.url, "db_url": env.database.url,
            # With regions the central server has no broker: each region has its vhost.
            "rabbitmq_vhost": None if regions else env.rabbitmq_environment.vhost,
            "regions": regions,
            "log_dir": self.ctx.log_dir, "topology_svg": self.topology_svg,
            "enter": "ip netns exec NAMESPACE bash",
            "down": f"python -m fullstack down {self.ctx.prefix}",
        }


def up(settings: prerequisites.Settings, request: UpRequest,
       progress: Callable[[str], None]) -> dict:
    """Build a deployment and leave it standing; return its summary."""
    deployment = Deployment(settings, request, progress)
    deployment.setUp()   # a failure or Ctrl-C unwinds everything built so far
    summary = deployment.summary()
    with open(os.path.join(deployment.ctx.run_dir, SUMMARY_FILE), "w") as f:
        json.dump(summary, f, indent=1)
    # From here on the prefix belongs to nobody's process: not cleaned up
    # at exit (deployment.cleanUp() is never called), nor by the cleanup
    # command, only by ``down``.
    deployment.ctx.registry.set_owner("prefix", deployment.ctx.prefix, allocator.STANDING_OWNER)
    return summary


def standing(settings: prerequisites.Settings) -> list[dict]:
    """The summaries of every standing deployment, each with its processes' state."""
    registry = allocator.Registry(settings.state_dir)
    found = []
    for prefix, owner in sorted(registry.held("prefix").items()):
        if owner != allocator.STANDING_OWNER:
            continue
        try:
            with open(os.path.join(records.run_dir(settings.state_dir, prefix),
                                   SUMMARY_FILE)) as f:
                summary = json.load(f)
        except (OSError, ValueError):
            summary = {"id": prefix}
        recorded = records.recorded_processes(settings.state_dir, prefix)
        summary["processes_running"] = sum(
            records.live_process(record) is not None for record in recorded)
        summary["processes_recorded"] = len(recorded)
        found.append(summary)
    return found


def down(settings: prerequisites.Settings, prefix: str) -> list[str]:
    """Remove a standing deployment completely; return what was removed."""
    prerequisites.check_root()
    owner = allocator.Registry(settings.state_dir).held("prefix").get(prefix)
    if owner != allocator.STANDING_OWNER:
        raise ValueError(f"{prefix!r} is not a standing deployment; "
                         f"'python -m fullstack status' lists them")
    return cleanup.clean_prefix(settings, prefix)


def render_summary(summary: dict) -> str:
    regions = summary.get("regions") or []
    lines = [f"deployment {summary['id']} ({summary['network_type']}) is up",
             f"  API:       {summary['api_url']}{' (central)' if regions else ''}",
             f"  database:  {summary['db_url']}"]
    if not regions:
        lines.append(f"  RabbitMQ:  vhost {summary['rabbitmq_vhost']}")
    for region in regions:
        lines.append(f"  {region['name']}: API {region['api_url']}, database "
                     f"{region['db_url']}, vhost {region['rabbitmq_vhost']}, hosts "
                     f"{', '.join(region['hosts'])}")
    lines += [f"  logs:      {summary['log_dir']}",
              f"  topology:  {summary['topology_svg']}",
              f"  central:   ip netns exec {summary['central_namespace']} bash"]
    for host in summary["hosts"]:
        processes = ", ".join(f"{p['name']} ({p['pid']})" for p in host["processes"])
        lines.append(f"  {host['name']}:    ip netns exec {host['namespace']} bash   "
                     f"[tunnel {host['tunnel_ip']}] {processes}")
    for vm in summary["machines"]:
        lines.append(f"  machine {vm['ip']} on {vm['host']}: ip netns exec {vm['namespace']} bash")
    if "external_peer" in summary:
        peer = summary["external_peer"]
        lines.append(f"  external peer {peer['ip']}: ip netns exec {peer['namespace']} bash")
    lines.append(f"  tear down: {summary['down']}")
    return "\n".join(lines)


def render_status(summaries: list[dict]) -> str:
    if not summaries:
        return "no standing deployment ('python -m fullstack up' makes one)"
    lines = [f"{'id':<8} {'type':<6} {'hosts':>5} {'machines':>8} {'processes':>10}  api"]
    for s in summaries:
        running = f"{s['processes_running']}/{s['processes_recorded']}"
        lines.append(f"{s['id']:<8} {s.get('network_type', '?'):<6} "
                     f"{len(s.get('hosts', [])):>5} {len(s.get('machines', [])):>8} "
                     f"{running:>10}  {s.get('api_url', '?')}")
    return "\n".join(lines)
