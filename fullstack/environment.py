"""The Environment: a deployment's fabric, its regions' servers and its hosts.

One way to build, whatever the description: a fabric (control and tunnel
networks, central OVS), the regions (a deployment without regions is one,
of role standalone), a central server when there are several, then every
host of every region side by side, then a wait until every agent is alive.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Callable, Iterator

import fixtures

from fullstack import context, fabric, prerequisites, process, services, side_by_side, wait
from fullstack import host as host_module
from fullstack.descriptions import (
    EXTERNAL_PHYSNET,
    EnvironmentDescription,
    HostDescription,
    RegionDescription,
    check_deployment,
)
from fullstack.region import Region, ServerWaiter, free_port, launch_server, new_database
from fullstack.resources import client, daemon, database, private_servers, rabbitmq
from fullstack.services.base import ServerSpec, Service

# The descriptions are spelled environment.EnvironmentDescription in tests.
__all__ = ["Environment", "EnvironmentDescription", "HostDescription", "Region",
           "RegionDescription"]

Placed = list[tuple[host_module.CentralSite, int, HostDescription]]

class Environment(fixtures.Fixture):
    """The fabric, the regions (vhost, database, server each), the central server
    of several regions, and the hosts.

    Built with the context of its run (``ctx``: prefix, directories,
    settings) and the service it deploys (resolved from the description and
    the run's settings if not given).  A test describes its environment
    before the run exists; ``BaseFullStackTestCase.setUp`` then sets up
    ``environment.for_run(ctx, service)``.
    """

    # What the set-up makes; with several regions, ``server``, ``database`` and
    # ``engine`` are the central server's, otherwise the one region's.
    service: Service
    server: process.Server
    database: database.Database
    site: host_module.CentralSite
    fabric: fabric.Fabric
    rabbitmq_environment: rabbitmq.RabbitmqVhost   # the one region's (none with regions)

    def __init__(self, env_desc: EnvironmentDescription,
                 hosts_desc: list[HostDescription] | None = None,
                 ctx: context.RunContext | None = None,
                 regions: list[RegionDescription] | None = None,
                 service: Service | None = None):
        super().__init__()
        self.hosts_desc = check_deployment(env_desc, hosts_desc, regions)
        self.env_desc = env_desc
        #: The regions' descriptions (empty: one region, the usual deployment).
        self.regions_desc = list(regions or ())
        #: The regions, as described (empty for a deployment without regions).
        self.regions: list[Region] = []
        self.hosts: list[host_module.Host] = []
        self._ctx = ctx
        self._service = service
        self._regions: list[Region] = []   # what is built: the one region, or each
        self._waiters: list[ServerWaiter] = []
        #: Seconds each phase of the set-up took ("central", "server",
        #: "host-N", "host-N.ovs", "agents_alive"), for the benchmark.
        self.timings: dict[str, float] = {}
        #: Called with a line of text as each phase ends (``fullstack up``).
        self.progress: Callable[[str], None] = lambda message: None
        #: The test's own RabbitMQ node and MariaDB server, when it asked for them
        #: (``private_broker``, ``private_database``): ``with env.database_server.outage():``.
        self.broker_server: private_servers.PrivateRabbitmq | None = None
        self.database_server: private_servers.PrivateMariadb | None = None

    def for_run(self, ctx: context.RunContext, service: Service | None = None) -> Environment:
        """The same deployment (descriptions and progress), built for the run ``ctx``."""
        env = Environment(self.env_desc, None if self.regions_desc else self.hosts_desc,
                          ctx=ctx, regions=self.regions_desc or None, service=service)
        env.progress = self.progress
        return env

    @property
    def ctx(self) -> context.RunContext:
        if self._ctx is None:
            raise RuntimeError("this Environment has no run context: build it with ctx=, or "
                               "set up environment.for_run(ctx) (as BaseFullStackTestCase does)")
        return self._ctx

    def __repr__(self) -> str:
        prefix = self._ctx.prefix if self._ctx else "(no run)"
        regions = f" regions={len(self.regions_desc)}" if self.regions_desc else ""
        return f"<Environment {prefix}{regions} hosts={len(self.hosts_desc)}>"

    def region(self, name: str) -> Region:
        """The region called ``name`` (as its RegionDescription names it)."""
        for region in self.regions:
            if region.name == name:
                return region
        known = ", ".join(region.name for region in self.regions) or "none (one region)"
        raise KeyError(f"no region {name!r} in this environment; regions: {known}")

    def region_of(self, host: host_module.Host) -> Region | None:
        """The region ``host`` belongs to, None in a one-region environment."""
        return self.region(host.site.region) if host.site.region else None

    def client_for(self, host: host_module.Host) -> client.SafeClient | None:
        """The safe client that machines on ``host`` are made with: its region's, or
        None for the test's own (a one-region environment)."""
        region = self.region_of(host)
        return region.safe_client if region is not None else None

    @contextlib.contextmanager
    def phase(self, name: str, done: str = "") -> Iterator[None]:
        """Time a phase of the set-up and report it (if ``done``) once it ended."""
        start = time.monotonic()
        yield
        self.timings[name] = time.monotonic() - start
        if done:
            self.progress(f"{done} ({self.timings[name]:.1f} s)")

    # -- building it ----------------------------------------------------------

    def _setUp(self) -> None:
        ctx = self.ctx
        if self.env_desc.datapath == "system" and not os.path.exists("/sys/module/openvswitch"):
            raise prerequisites.MissingPrerequisite(
                "datapath 'system' needs the openvswitch kernel module (modprobe openvswitch); "
                "datapath 'netdev' needs none")
        self.service = self._service or services.load(self.env_desc.service
                                                      or ctx.settings.service)
        self.service.check_settings(ctx.settings)
        reason = self.service.unsupported_regions() if self.regions_desc else None
        if reason:
            raise prerequisites.MissingPrerequisite(f"regions: {reason}")
        self.service.check_config(ctx, self.env_desc, self.hosts_desc)
        self._regions = self._plan_regions()
        with self.phase("central", "central: vhosts, databases, control network"):
            self._set_up_fabric_and_regions()
        self._launch_servers()
        central, chassis = side_by_side.build_chassis(
            self, ctx, self.env_desc.datapath,
            [(number, desc) for region in self._regions
             for number, desc in zip(region.host_numbers(), region.hosts_desc, strict=True)])
        self._place_regions(central)
        self.site = self._regions[0].site
        self._build_hosts(self._placed(self._regions), chassis,
                          meanwhile=lambda: self._adopt_central(central))
        # Runs before the hosts' own cleanups.
        self.addCleanup(self._stop_first)
        with self.phase("agents_alive", f"all {self.expected_agents()} agents alive"):
            self.wait_until_env_is_up()

    def _plan_regions(self) -> list[Region]:
        if not self.regions_desc:
            return [Region(self.ctx, self.env_desc, "", self.hosts_desc, 1)]
        first, planned = 1, []
        for desc in self.regions_desc:
            planned.append(Region(self.ctx, self.env_desc, desc.name, desc.hosts, first))
            first += len(desc.hosts)
        return planned

    def _set_up_fabric_and_regions(self) -> None:
        ctx = self.ctx
        self.fabric = self.useFixture(fabric.Fabric(ctx, self.env_desc.datapath))
        databases = []
        if self.regions_desc:   # the central server's own
            databases.append(new_database(self, ctx, ""))
        for region in self._regions:
            self.useFixture(region)
            databases.append(region.database)
        if self.regions_desc:
            self.regions = list(self._regions)
        else:
            only = self._regions[0]
            self.rabbitmq_environment = only.rabbitmq_environment
            self.broker_server, self.database_server = only.broker_server, only.database_server
        self.database = databases[0]
        self.engine = self.database.engine
        for db in databases:
            self.service.prepare_database(ctx, db)
        with open(os.path.join(ctx.log_dir, "database-url.txt"), "w") as f:
            f.write(self.database.url + "\n")

    def _launch_servers(self) -> None:
        """Every server at once (a central one first, with regions), without
        waiting: the central OVS is built while they start."""
        central_url = ""
        if self.regions_desc:
            self.server = launch_server(self, self.service, ServerSpec(
                ctx=self.ctx, env_desc=self.env_desc, bind_host=self.fabric.control_ip,
                bind_port=free_port(self, self.ctx), transport_url="",
                database_url=self.database.url, broker=None, role="central"))
            self._waiters.append(ServerWaiter(self.server, "central server", self._server_up))
            central_url = self.server.url
        for region in self._regions:
            region.launch_server(self.service, self.fabric.control_ip, central_url,
                                 self._server_up)
            self._waiters.append(region.waiter)
        if not self.regions_desc:
            self.server = self._regions[0].server

    def _adopt_central(self, central: side_by_side.CentralFuture) -> None:
        """The central OVS, once built, the fabric's (while the hosts are built)."""
        with self.phase("central_ovs", "central OVS: cnt-data, cnt-ex"):
            self.fabric.add_central(central.result())
        self.central_namespace = self.fabric.namespace
        self.central_ovs = self.fabric.ovs
        self.central_data_bridge = self.fabric.data_bridge
        self.central_external_bridge = self.fabric.external_bridge

    def _place_regions(self, central: side_by_side.CentralFuture) -> None:
        """Each region's site, for its hosts (``central``: the central OVS being
        built); with regions, once the central server answers, each region
        registered with it (the others are awaited by the hosts that need them)."""
        next_machine_number = itertools.count(1).__next__
        for region in self._regions:
            region.site = self._central_site(region, central, next_machine_number)
        if not self.regions_desc:
            return
        self._waiters[0]()
        for region in self._regions:
            # The region's server may still be loading: the central server calls
            # it only once it has work there.
            self.service.register_region(self.server, region.name, region.server)

    @staticmethod
    def _placed(regions: list[Region]) -> Placed:
        return [(region.site, region.first_host + index, desc)
                for region in regions for index, desc in enumerate(region.hosts_desc)]

    def _server_up(self, name: str, server: process.Server, seconds: float) -> None:
        self.timings[name.replace(" ", "-")] = seconds
        self.progress(f"{name}: answering at {server.url} ({seconds:.1f} s after launch)")

    def _central_site(self, region: Region, central: side_by_side.CentralFuture,
                      next_machine_number: Callable[[], int]) -> host_module.CentralSite:
        """What each host of ``region`` is given of the rest: values, and callables."""
        server = region.server
        return host_module.CentralSite(
            ctx=self.ctx, env_desc=self.env_desc, service=self.service,
            control_bridge=self.fabric.control_bridge,
            control_network=self.fabric.control_network,
            tunnel_network=self.fabric.tunnel_network,
            central=central.result,
            transport_url=region.rabbitmq_environment.transport_url(self.fabric.control_ip),
            server=server,
            wait_for_server=region.waiter,
            check_processes=self.check_processes,
            next_machine_number=next_machine_number, region=region.name)

    def _build_hosts(self, placed: Placed,
                     chassis: dict[int, side_by_side.HostFuture] | None = None,
                     meanwhile: Callable[[], None] | None = None) -> list[host_module.Host]:
        """Build hosts side by side, one thread each (on their ``chassis``, if
        being built, as the set-up does), while this thread does ``meanwhile``.

        Most of a host's set-up waits on its own OVS daemons, the kernel and
        the server, not on this process; and a host touches nothing of
        another's.  Each host that was built is registered for cleanup even
        if another failed or the build was interrupted.
        """
        chassis = chassis or {}
        hosts = [host_module.Host(site, number, desc) for site, number, desc in placed]

        built: set[int] = set()

        def build(host: host_module.Host) -> None:
            with self.phase(host.hostname, f"{host.hostname}: wired, agents started"):
                if host.number in chassis:
                    host.chassis = chassis[host.number].result()
                host.setUp()   # a failed set-up unwinds itself
            self.timings.update(host.timings)
            built.add(host.number)

        errors: list[BaseException | None] = []
        try:
            errors = side_by_side.each(build, hosts, meanwhile, name="host")
        finally:
            done = [host for host in hosts if host.number in built]
            if done:
                self.addCleanup(side_by_side.call_all, [host.cleanUp for host in done], "host")
                self.hosts.extend(done)
                for host in done:
                    self._region_named(host.site.region).hosts.append(host)
        for error in errors:
            if error is not None:
                raise error
        return hosts

    def _region_named(self, name: str) -> Region:
        return next(region for region in self._regions if region.name == name)

    def _stop_first(self) -> None:
        """Stop every agent at once (it saves a shutdown per host), and the
        central OVS: its bridges go with it, so the hosts' cables need not
        leave them one port at a time."""
        side_by_side.call_all([*(agent.stop for host in self.hosts
                                 for agent in host.agents.values()), self.fabric.ovs.stop])

    def add_host(self, desc: HostDescription | None = None,
                 region: str | None = None) -> host_module.Host:
        """Add a host to a running environment (it joins without restarting anything);
        with regions, to the region named ``region``."""
        desc = desc or HostDescription()
        if self.regions and region is None:
            raise ValueError("region: name the region the new host joins")
        target = self.region(region) if region is not None else self._regions[0]
        self.hosts_desc.append(desc)
        target.hosts_desc.append(desc)
        number = max(host.number for host in self.hosts) + 1
        host = self._build_hosts([(target.site, number, desc)])[0]
        self.wait_until_env_is_up()
        return host

    # -- using it -------------------------------------------------------------

    def wait_for_server(self) -> None:
        """Block until every server answers; they were launched without waiting."""
        for waiter in self._waiters:
            waiter()

    def expected_agents(self) -> int:
        return sum(len(desc.agent_kinds) for desc in self.hosts_desc)

    def external_network_attrs(self) -> dict:
        """Provider attributes of an external network on the central cnt-ex bridge."""
        return {"router:external": True, "provider:network_type": "flat",
                "provider:physical_network": EXTERNAL_PHYSNET}

    def processes(self) -> list[daemon.ProcessFixture]:
        """Every process of the deployment: the central server's if any, each region's
        (private broker and database servers first), then each host's."""
        central = self.server.processes() if self.regions_desc else []
        return [*central, *(proc for region in self._regions for proc in region.processes()),
                *(proc for host in self.hosts for proc in host.processes())]

    def check_processes(self) -> None:
        """Fail at once, naming the process, if anything we started died on its own."""
        for proc in self.processes():
            proc.check_alive()

    def _note_alive(self, alive: list[dict]) -> None:
        """Record, for the benchmark, how long each agent took from start to alive."""
        now = time.monotonic()
        seen = {(agent["host"], agent["binary"]) for agent in alive}
        for host in self.hosts:
            for agent in host.agents.values():
                key = f"{agent.name}.alive"
                if key not in self.timings and (host.hostname, agent.binary) in seen:
                    self.timings[key] = now - agent.started_at
                    agent.mark_ready()   # an agent is ready once its server lists it alive

    def wait_until_env_is_up(self, timeout: float = 60.0) -> None:
        """Wait until each region's server lists every agent of its hosts alive."""
        alive: list[dict] = []

        def all_alive() -> bool:
            self.check_processes()
            alive[:] = [agent for region in self._regions
                        for agent in region.server.client.list_agents() if agent["alive"]]
            self._note_alive(alive)
            return len(alive) >= self.expected_agents()

        def not_alive() -> str:
            seen = {(agent["host"], agent["binary"]) for agent in alive}
            return ", ".join(agent.name for host in self.hosts
                             for agent in host.agents.values()
                             if (host.hostname, agent.binary) not in seen)

        self.wait_for_server()
        wait.wait_until_true(
            all_alive, timeout=timeout, sleep=0.1,
            exception=lambda: f"not all {self.expected_agents()} agents alive after {timeout} s "
                              f"(not alive: {not_alive() or '?'}); see the agent logs in "
                              f"{self.ctx.log_dir}")
