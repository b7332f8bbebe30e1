"""A region: the vhost, database, server and hosts of one part of a deployment.

A deployment without regions is one region of role ``standalone``, named
"" (its vhost, database and namespaces carry the test's prefix alone); a
deployment of several (the Tricircle shape) has one of role ``local`` per
``RegionDescription`` and a central server besides.  Either way the
environment builds each the same way.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence

import fixtures
import sqlalchemy

from fullstack import context, process
from fullstack.descriptions import EnvironmentDescription, HostDescription
from fullstack.host import CentralSite, Host
from fullstack.resources import allocator, daemon, database, private_servers, rabbitmq
from fullstack.resources.client import ApiClient, SafeClient
from fullstack.services.base import Role, ServerSpec, Service

Report = Callable[[str, process.Server, float], None]


class ServerWaiter:
    """Waits until a server that was launched answers: a thread of its own
    watches from the launch (so the report says when it was ready, whoever
    asks later), and each caller waits for that thread."""

    def __init__(self, server: process.Server, name: str, report: Report):
        self.server = server
        self.name = name
        self._report = report
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._watch, name=f"waiter-{name or 'server'}",
                                        daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        try:
            self.server.wait_until_ready()
        except BaseException as error:  # noqa: BLE001 - handed to each caller
            self._error = error
            return
        self._report(self.name, self.server, time.monotonic() - self.server.started_at)

    def __call__(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def launch_server(parent: fixtures.Fixture, service: Service, spec: ServerSpec
                  ) -> process.Server:
    """The service's server for ``spec``, its files given the test's ``server_config``,
    launched (not awaited) as a fixture of ``parent``."""
    server = service.server(spec)
    for proc in server.processes():
        if isinstance(proc, process.ServiceProcess):
            proc.apply_overlay(spec.env_desc.server_config)
    return parent.useFixture(server)


def free_port(parent: fixtures.Fixture, ctx: context.RunContext) -> int:
    return parent.useFixture(allocator.PortAllocation(ctx.registry, ctx.prefix)).port


def new_database(parent: fixtures.Fixture, ctx: context.RunContext, suffix: str,
                 admin_url: str | None = None,
                 keep: Callable[[], bool] | None = None) -> database.Database:
    """A database of the run (named after its prefix and ``suffix``), a fixture of ``parent``."""
    return parent.useFixture(database.Database(
        admin_url or ctx.settings.db_admin_url, ctx.prefix + suffix.replace("-", "_"),
        os.path.join(ctx.run_dir, "db"), keep=keep or ctx.keep_on_failure))


class Region(fixtures.Fixture):
    """Its set-up makes the vhost and database (on the test's own RabbitMQ node
    and MariaDB server if the description asks); ``launch_server`` then
    launches its server.  ``client`` and ``safe_client`` speak to that server;
    ``engine`` is its database, for pdb."""

    server: process.Server
    client: ApiClient
    safe_client: SafeClient
    waiter: ServerWaiter
    site: CentralSite
    rabbitmq_environment: rabbitmq.RabbitmqVhost
    database: database.Database
    engine: sqlalchemy.Engine

    def __init__(self, ctx: context.RunContext, env_desc: EnvironmentDescription, name: str,
                 hosts_desc: Sequence[HostDescription], first_host: int):
        super().__init__()
        self.ctx = ctx
        self.env_desc = env_desc
        #: As its RegionDescription names it; "" for a deployment without regions.
        self.name = name
        self.role: Role = "local" if name else "standalone"
        self.hosts_desc = list(hosts_desc)
        #: Host numbers are the environment's: this region's are first_host, ...
        self.first_host = first_host
        self.hosts: list[Host] = []
        self.broker_server: private_servers.PrivateRabbitmq | None = None
        self.database_server: private_servers.PrivateMariadb | None = None

    def __repr__(self) -> str:
        return f"<Region {self.name or '(standalone)'} hosts={len(self.hosts_desc)}>"

    @property
    def suffix(self) -> str:
        """What its vhost, database and server's files add to the test's prefix."""
        return "-" + self.name.lower() if self.name else ""

    def expected_agents(self) -> int:
        return sum(len(desc.agent_kinds) for desc in self.hosts_desc)

    def host_numbers(self) -> range:
        return range(self.first_host, self.first_host + len(self.hosts_desc))

    def _setUp(self) -> None:
        ctx = self.ctx
        rabbit_admin_url, amqp_port = ctx.settings.rabbit_admin_url, rabbitmq.AMQP_PORT
        if self.env_desc.private_broker:
            self.broker_server = self.useFixture(private_servers.PrivateRabbitmq(
                ctx.registry, os.path.join(ctx.run_dir, "rabbitmq"), ctx.owner))
            rabbit_admin_url = self.broker_server.admin_url
            amqp_port = self.broker_server.amqp_port
        db_admin_url = None
        if self.env_desc.private_database:
            self.database_server = self.useFixture(private_servers.PrivateMariadb(
                ctx.registry, os.path.join(ctx.run_dir, "mariadb"), ctx.owner))
            db_admin_url = self.database_server.admin_url
        # A private server takes its vhost or database with it at cleanup.
        self.rabbitmq_environment = self.useFixture(rabbitmq.RabbitmqVhost(
            rabbit_admin_url, ctx.prefix + self.suffix, amqp_port,
            remove=self.broker_server is None))
        self.database = new_database(
            self, ctx, self.suffix, db_admin_url,
            keep=ctx.keep_on_failure if self.database_server is None else lambda: True)
        self.engine = self.database.engine

    def launch_server(self, service: Service, bind_host: str, central_url: str,
                      report: Report) -> process.Server:
        """Its server, launched on a port of its own; ``self.waiter`` awaits it."""
        vhost = self.rabbitmq_environment
        self.server = launch_server(self, service, ServerSpec(
            ctx=self.ctx, env_desc=self.env_desc, bind_host=bind_host,
            bind_port=free_port(self, self.ctx), transport_url=vhost.transport_url("127.0.0.1"),
            database_url=self.database.url, broker=vhost, role=self.role,
            region_name=self.name, central_url=central_url))
        self.client = self.server.client
        self.safe_client = self.useFixture(SafeClient(self.client))
        self.waiter = ServerWaiter(self.server, f"{self.name} server".strip(), report)
        return self.server

    def processes(self) -> list[daemon.ProcessFixture]:
        """Its private servers, if any, and its server's processes (not its hosts')."""
        private = [server.process for server in (self.broker_server, self.database_server)
                   if server is not None]
        return [*private, *self.server.processes()]
