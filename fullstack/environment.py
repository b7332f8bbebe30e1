"""The Environment: a deployment's central part (vhost, database, bridges, server) and hosts."""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator

import fixtures
import sqlalchemy

from fullstack import context, prerequisites, process, services, wait
from fullstack import host as host_module
from fullstack.descriptions import (
    EXTERNAL_PHYSNET,
    EnvironmentDescription,
    HostDescription,
    RegionDescription,
)
from fullstack.resources import (
    allocator,
    client,
    daemon,
    database,
    link,
    namespace,
    ovs,
    private_servers,
    rabbitmq,
)
from fullstack.services.base import ServerSpec

# The descriptions are spelled environment.EnvironmentDescription in tests.
__all__ = ["Environment", "EnvironmentDescription", "HostDescription", "Region",
           "RegionDescription"]

CONTROL_GATEWAY_INDEX = 1


class _ServerWaiter:
    """Waits once, for every host thread, until a server that was launched answers."""

    def __init__(self, server: process.Server, name: str,
                 report: Callable[[str, process.Server, float], None]):
        self.server = server
        self.name = name
        self._report = report
        self._ready = False
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            if self._ready:
                return
            self.server.wait_until_ready()
            self._ready = True
            self._report(self.name, self.server, time.monotonic() - self.server.started_at)


class Region:
    """One region of a multi-region environment: its own vhost, database, local server
    and hosts.  ``client`` and ``safe_client`` speak to its local server."""

    def __init__(self, desc: RegionDescription, first_host: int):
        self.desc = desc
        self.name = desc.name
        self.hosts_desc = list(desc.hosts)
        #: Host numbers are the environment's: this region's are first_host, ...
        self.first_host = first_host
        self.hosts: list[host_module.Host] = []
        self.server: process.Server
        self.client: client.ApiClient
        self.safe_client: client.SafeClient
        self.site: host_module.CentralSite
        self.rabbitmq_environment: rabbitmq.RabbitmqVhost
        self.database: database.Database
        self.engine: sqlalchemy.Engine   # the region's own database, for pdb

    def __repr__(self) -> str:
        return f"<Region {self.name} hosts={len(self.hosts_desc)}>"

    @property
    def suffix(self) -> str:
        """What its vhost, database and namespaces add to the test's prefix."""
        return "-" + self.name.lower()

    def expected_agents(self) -> int:
        return sum(len(desc.agent_kinds) for desc in self.hosts_desc)


class Environment(fixtures.Fixture):
    """The central part (vhost, database, bridges, server) plus the hosts.

    Built with the context of its run (``ctx``: prefix, directories,
    settings).  A test describes its environment before the run exists;
    ``BaseFullStackTestCase.setUp`` then sets up ``environment.for_run(ctx)``.
    """

    def __init__(self, env_desc: EnvironmentDescription,
                 hosts_desc: list[HostDescription] | None = None,
                 ctx: context.RunContext | None = None,
                 regions: list[RegionDescription] | None = None):
        super().__init__()
        if not isinstance(env_desc, EnvironmentDescription):
            raise ValueError("env_desc must be an EnvironmentDescription")
        if regions is not None:
            hosts_desc = self._check_regions(env_desc, hosts_desc, regions)
        if not hosts_desc:
            raise ValueError("hosts_desc: an environment needs at least one host")
        for index, desc in enumerate(hosts_desc):
            if not isinstance(desc, HostDescription):
                raise ValueError(f"hosts_desc[{index}] must be a HostDescription")
        self.env_desc = env_desc
        self.hosts_desc = list(hosts_desc)
        #: The regions' descriptions (empty: one region, the usual deployment).
        self.regions_desc = list(regions or ())
        self.regions: list[Region] = []
        self.hosts: list[host_module.Host] = []
        self._ctx = ctx
        #: Seconds each phase of the set-up took ("central", "server",
        #: "host-N", "host-N.ovs", "agents_alive"), for the benchmark.
        self.timings: dict[str, float] = {}
        #: Called with a line of text as each phase ends (``fullstack up``).
        self.progress: Callable[[str], None] = lambda message: None
        #: The test's own RabbitMQ node and MariaDB server, when it asked for them
        #: (``private_broker``, ``private_database``): ``with env.database_server.outage():``.
        self.broker_server: private_servers.PrivateRabbitmq | None = None
        self.database_server: private_servers.PrivateMariadb | None = None

    @staticmethod
    def _check_regions(env_desc: EnvironmentDescription,
                       hosts_desc: list[HostDescription] | None,
                       regions: list[RegionDescription]) -> list[HostDescription]:
        """Every host of every region, in order (host-1 ... host-N across them)."""
        if hosts_desc:
            raise ValueError("hosts_desc and regions: give the hosts in the regions' "
                             "descriptions only")
        if not isinstance(regions, (list, tuple)) or len(regions) < 1:
            raise ValueError("regions: a list of at least one RegionDescription")
        for index, region in enumerate(regions):
            if not isinstance(region, RegionDescription):
                raise ValueError(f"regions[{index}] must be a RegionDescription")
        names = [region.name.lower() for region in regions]
        if len(set(names)) != len(names):
            raise ValueError(f"regions: names must differ (case aside): "
                             f"{', '.join(region.name for region in regions)}")
        if env_desc.private_broker or env_desc.private_database:
            raise ValueError("private_broker and private_database: not with regions (each "
                             "region has a vhost and a database on the shared servers)")
        if env_desc.network_type not in ("vxlan", "gre"):
            raise ValueError(f"network_type {env_desc.network_type!r}: regions share "
                             "networks over tunnels, vxlan or gre")
        return [desc for region in regions for desc in region.hosts]

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

    def for_run(self, ctx: context.RunContext) -> Environment:
        """The same deployment (descriptions and progress), built for the run ``ctx``."""
        if self.regions_desc:
            env = Environment(self.env_desc, ctx=ctx, regions=self.regions_desc)
        else:
            env = Environment(self.env_desc, self.hosts_desc, ctx=ctx)
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

    def _setUp(self) -> None:
        ctx = self.ctx
        if self.env_desc.datapath == "system" and not os.path.exists("/sys/module/openvswitch"):
            raise prerequisites.MissingPrerequisite(
                "datapath 'system' needs the openvswitch kernel module (modprobe openvswitch); "
                "datapath 'netdev' needs none")
        self.service = services.load(self.env_desc.service or ctx.settings.service)
        self.service.check_settings(ctx.settings)
        self.service.check_config(ctx, self.env_desc, self.hosts_desc)
        if self.regions_desc:
            self._set_up_regions()
            return
        with self.phase("central", "central: vhost, database, control network, OVS"):
            self._set_up_broker_and_database()
            self.engine = self.database.engine
            self.service.prepare_database(ctx, self.database)
            with open(os.path.join(ctx.log_dir, "database-url.txt"), "w") as f:
                f.write(self.database.url + "\n")
            self._set_up_networks()
            self._set_up_central()
        self._start_server()
        self.site = self._central_site(self.rabbitmq_environment, self.server,
                                       self._server_waiter, itertools.count(1).__next__)
        self._build_hosts_and_wait([(self.site, number, desc)
                                    for number, desc in enumerate(self.hosts_desc, start=1)])

    def _set_up_regions(self) -> None:
        """A central server (its database, no agents) and each region's vhost,
        database, local server and hosts; the fabric is one for all."""
        ctx = self.ctx
        reason = self.service.unsupported_regions()
        if reason:
            raise prerequisites.MissingPrerequisite(f"regions: {reason}")
        with self.phase("central", "central: databases, vhosts, control network, OVS"):
            self.database = self._database("")
            self.engine = self.database.engine
            self._set_up_networks()
            self._set_up_central()
            first = 1
            for desc in self.regions_desc:
                region = Region(desc, first)
                first += len(region.hosts_desc)
                region.rabbitmq_environment = self.useFixture(rabbitmq.RabbitmqVhost(
                    ctx.settings.rabbit_admin_url, ctx.prefix + region.suffix))
                region.database = self._database(region.suffix.replace("-", "_"))
                region.engine = region.database.engine
                self.regions.append(region)
        # Launched together; the pods are registered once the central one answers.
        self.server = self._launch_server("central", "", "")
        self._wait_for_central = _ServerWaiter(self.server, "central server", self._server_up)
        next_machine_number = itertools.count(1).__next__
        for region in self.regions:
            region.server = self._launch_server(
                "local", region.name, region.rabbitmq_environment.transport_url("127.0.0.1"),
                region.database.url, broker=region.rabbitmq_environment)
            region.client = region.server.client
            region.safe_client = self.useFixture(client.SafeClient(region.client))
            region.site = self._central_site(
                region.rabbitmq_environment, region.server,
                _ServerWaiter(region.server, f"{region.name} server", self._server_up),
                next_machine_number, region.name)
        self.site = self.regions[0].site
        self._wait_for_central()
        for region in self.regions:
            # The region's server may still be loading: the central server calls
            # it only once it has work there.
            self.service.register_region(self.server, region.name, region.server)
        self._build_hosts_and_wait([(region.site, region.first_host + index, desc)
                                    for region in self.regions
                                    for index, desc in enumerate(region.hosts_desc)])

    def _build_hosts_and_wait(
            self, placed: list[tuple[host_module.CentralSite, int, HostDescription]]) -> None:
        self._build_hosts(placed)
        # Runs before the hosts' own cleanups: stopping every agent at once
        # saves a shutdown per host.
        self.addCleanup(self._stop_agents)
        with self.phase("agents_alive", f"all {self.expected_agents()} agents alive"):
            self.wait_until_env_is_up()

    def _database(self, suffix: str) -> database.Database:
        ctx = self.ctx
        return self.useFixture(database.Database(
            ctx.settings.db_admin_url, ctx.prefix + suffix, os.path.join(ctx.run_dir, "db"),
            keep=ctx.keep_on_failure))

    def _set_up_broker_and_database(self) -> None:
        """The test's vhost and database: on the shared servers, or on private ones
        (``private_broker``, ``private_database``) that the test may stop."""
        ctx = self.ctx
        rabbit_admin_url, amqp_port = ctx.settings.rabbit_admin_url, rabbitmq.AMQP_PORT
        def place(name: str) -> tuple:
            return ctx.registry, os.path.join(ctx.run_dir, name), ctx.owner

        if self.env_desc.private_broker:
            self.broker_server = self.useFixture(
                private_servers.PrivateRabbitmq(*place("rabbitmq")))
            rabbit_admin_url, amqp_port = (self.broker_server.admin_url,
                                           self.broker_server.amqp_port)
        db_admin_url = ctx.settings.db_admin_url
        if self.env_desc.private_database:
            self.database_server = self.useFixture(
                private_servers.PrivateMariadb(*place("mariadb")))
            db_admin_url = self.database_server.admin_url
        # A private server takes its vhost or database with it at cleanup.
        self.rabbitmq_environment = self.useFixture(rabbitmq.RabbitmqVhost(
            rabbit_admin_url, ctx.prefix, amqp_port, remove=self.broker_server is None))
        self.database = self.useFixture(database.Database(
            db_admin_url, ctx.prefix, os.path.join(ctx.run_dir, "db"),
            keep=(ctx.keep_on_failure if self.database_server is None else lambda: True)))

    def _stop_agents(self) -> None:
        agents = [agent for host in self.hosts for agent in host.agents.values()]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(agents))) as pool:
            list(pool.map(lambda agent: agent.stop(), agents))

    def _build_hosts(self, placed: list[tuple[host_module.CentralSite, int, HostDescription]]
                     ) -> list[host_module.Host]:
        """Build hosts side by side, one thread each.

        Most of a host's set-up waits on its own OVS daemons, the kernel and
        the server, not on this process; and a host touches nothing of
        another's.  Each host that was built is registered for cleanup even
        if another failed or the build was interrupted.
        """
        hosts = [host_module.Host(site, number, desc) for site, number, desc in placed]

        def build(host: host_module.Host) -> None:
            with self.phase(host.hostname, f"{host.hostname}: wired, agents started"):
                host.setUp()   # a failed set-up unwinds itself
            self.timings.update(host.timings)

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(hosts),
                                                     thread_name_prefix="host")
        futures = [pool.submit(build, host) for host in hosts]
        try:
            concurrent.futures.wait(futures)
        finally:
            pool.shutdown(wait=True)
            built = [host for host, future in zip(hosts, futures, strict=True)
                     if future.exception() is None]
            if built:
                self.addCleanup(self._clean_up_hosts, built)
                self.hosts.extend(built)
                for host in built:
                    if host.site.region:
                        self.region(host.site.region).hosts.append(host)
        for future in futures:
            if future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        return hosts

    @staticmethod
    def _clean_up_hosts(hosts: list[host_module.Host]) -> None:
        """Tear hosts down side by side too: mostly waits on the kernel and OVS."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(hosts),
                                                   thread_name_prefix="host") as pool:
            futures = [pool.submit(host.cleanUp) for host in hosts]
        for future in futures:
            if future.exception() is not None:
                raise future.exception()  # type: ignore[misc]

    def add_host(self, desc: HostDescription | None = None,
                 region: str | None = None) -> host_module.Host:
        """Add a host to a running environment (it joins without restarting anything);
        with regions, to the region named ``region``."""
        desc = desc or HostDescription()
        if self.regions and region is None:
            raise ValueError("region: name the region the new host joins")
        site = self.region(region).site if region is not None else self.site
        self.hosts_desc.append(desc)
        if region is not None:
            self.region(region).hosts_desc.append(desc)
        number = max(host.number for host in self.hosts) + 1
        host = self._build_hosts([(site, number, desc)])[0]
        self.wait_until_env_is_up()
        return host

    def _set_up_networks(self) -> None:
        ctx = self.ctx
        self.control_network = self.useFixture(
            allocator.NetworkAllocation(ctx.registry, ctx.prefix)).network
        self.tunnel_network = self.useFixture(
            allocator.NetworkAllocation(ctx.registry, ctx.prefix)).network
        self.control_ip = str(self.control_network[CONTROL_GATEWAY_INDEX])
        self.control_bridge = self.useFixture(link.LinuxBridge(
            f"{ctx.prefix}-ctl", f"{self.control_ip}/{self.control_network.prefixlen}"))

    def _set_up_central(self) -> None:
        ctx = self.ctx
        self.central_namespace = self.useFixture(namespace.Namespace(f"{ctx.prefix}-central"))
        self.central_ovs = self.useFixture(ovs.OvsInstance(
            "central", self.central_namespace.name, ctx.ovs_run_dir("central"), ctx.owner,
            self.env_desc.datapath))
        self.central_data_bridge = self.useFixture(self.central_ovs.bridge("cnt-data"))
        self.central_external_bridge = self.useFixture(self.central_ovs.bridge("cnt-ex"))

    def _start_server(self) -> None:
        self.server = self._launch_server(
            "standalone", "", self.rabbitmq_environment.transport_url("127.0.0.1"),
            self.database.url, broker=self.rabbitmq_environment)
        self._server_waiter = _ServerWaiter(self.server, "server", self._server_up)

    def _launch_server(self, role: str, region_name: str, transport_url: str,
                       database_url: str | None = None,
                       broker: rabbitmq.RabbitmqVhost | None = None) -> process.Server:
        """A server of ``role``, launched (not awaited) on a port of its own."""
        ctx = self.ctx
        port = self.useFixture(allocator.PortAllocation(ctx.registry, ctx.prefix)).port
        server = self.service.server(ServerSpec(
            ctx=ctx, env_desc=self.env_desc, bind_host=self.control_ip, bind_port=port,
            transport_url=transport_url, database_url=database_url or self.database.url,
            broker=broker, role=role, region_name=region_name,
            central_url=self.server.url if role == "local" else ""))
        for proc in server.processes():
            if isinstance(proc, process.ServiceProcess):
                proc.apply_overlay(self.env_desc.server_config)
        return self.useFixture(server)

    def _server_up(self, name: str, server: process.Server, seconds: float) -> None:
        self.timings[name.replace(" ", "-")] = seconds
        self.progress(f"{name}: answering at {server.url} ({seconds:.1f} s after launch)")

    def _central_site(self, vhost: rabbitmq.RabbitmqVhost, server: process.Server,
                      wait_for_server: Callable[[], None], next_machine_number: Callable[[], int],
                      region: str = "") -> host_module.CentralSite:
        """What each host is given of the central part: values, and three callables."""
        return host_module.CentralSite(
            ctx=self.ctx, env_desc=self.env_desc, service=self.service,
            control_bridge=self.control_bridge,
            control_network=self.control_network, tunnel_network=self.tunnel_network,
            data_bridge=self.central_data_bridge, external_bridge=self.central_external_bridge,
            transport_url=vhost.transport_url(self.control_ip),
            api_url=server.url,
            wait_for_server=(lambda: None) if server.early_agents else wait_for_server,
            check_processes=self.check_processes,
            next_machine_number=next_machine_number, region=region)

    def wait_for_server(self) -> None:
        """Block until the server (every server, with regions) answers; they were
        launched without waiting."""
        if self.regions:
            self._wait_for_central()
            for region in self.regions:
                region.site.wait_for_server()
        else:
            self._server_waiter()

    def expected_agents(self) -> int:
        return sum(len(desc.agent_kinds) for desc in self.hosts_desc)

    def external_network_attrs(self) -> dict:
        """Provider attributes of an external network on the central cnt-ex bridge."""
        return {"router:external": True, "provider:network_type": "flat",
                "provider:physical_network": EXTERNAL_PHYSNET}

    def processes(self) -> list[daemon.ProcessFixture]:
        """Every process of the deployment: private broker and database servers if
        any, the server, then each host's."""
        private = [server.process for server in (self.broker_server, self.database_server)
                   if server is not None]
        regional = [proc for region in self.regions for proc in region.server.processes()]
        return [*private, *self.server.processes(), *regional,
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

    def wait_until_env_is_up(self, timeout: float = 60.0) -> None:
        """Wait until the server (each region's, with regions) lists every agent of
        every host alive."""
        alive: list[dict] = []
        servers = [region.server for region in self.regions] or [self.server]

        def all_alive() -> bool:
            self.check_processes()
            alive[:] = [a for server in servers for a in server.client.list_agents()
                        if a["alive"]]
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
