"""The server as one object: database, type drivers, API and RPC, started and stopped together."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from neutrino.server.api import v2 as api
from neutrino.server.api.http_server import ApiServer
from neutrino.server.db.database import Database
from neutrino.server.plugins.dhcp.hosting import DhcpNetworks
from neutrino.server.plugins.dhcp.ports import DhcpPorts
from neutrino.server.plugins.dhcp.rpc import DhcpRpc
from neutrino.server.plugins.dhcp.scheduler import DhcpScheduler
from neutrino.server.plugins.l3.floating_ips import FloatingIpService
from neutrino.server.plugins.l3.router_interfaces import RouterInterfaces
from neutrino.server.plugins.l3.routers import RouterService
from neutrino.server.plugins.l3.rpc import L3Rpc
from neutrino.server.plugins.l3.scheduler import L3Scheduler
from neutrino.server.plugins.ml2 import l2pop, mac_address
from neutrino.server.plugins.ml2.agents import AgentService
from neutrino.server.plugins.ml2.binding import PortBinder
from neutrino.server.plugins.ml2.networks import NetworkService
from neutrino.server.plugins.ml2.ports import PortService
from neutrino.server.plugins.ml2.rpc import TOPIC, PluginRpcEndpoint
from neutrino.server.plugins.ml2.subnets import SubnetService
from neutrino.server.plugins.ml2.tunnel_endpoints import TunnelEndpoints
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager
from neutrino.server.rpc import notifier as notifications

LOG = logging.getLogger(__name__)

RPC_WORKERS = 4
# Seconds between attempts to start the RPC server while the broker is away.
RPC_RETRY_INTERVAL = 2.0


class RpcServer(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


RpcServerFactory = Callable[[PluginRpcEndpoint], RpcServer]
NotifierFactory = Callable[[], notifications.Notifier]


def amqp_factories(transport_url: str) -> tuple[RpcServerFactory, NotifierFactory]:
    """Factories for the real RPC server and notifier on ``transport_url``."""
    from neutrino.common import rpc  # only a server with a broker needs pika

    def rpc_server(endpoint: PluginRpcEndpoint) -> RpcServer:
        return rpc.RpcServer(transport_url, TOPIC, endpoint, workers=RPC_WORKERS)

    def notifier() -> notifications.Notifier:
        return rpc.Notifier(transport_url, exchange=notifications.EXCHANGE)

    return rpc_server, notifier


class NeutrinoServer:
    """Everything ``neutrino-server`` runs; tests may inject the RPC side."""

    def __init__(self, conf: Any, rpc_server_factory: RpcServerFactory | None = None,
                 notifier_factory: NotifierFactory | None = None):
        if conf.transport_url:
            amqp_rpc_server, amqp_notifier = amqp_factories(conf.transport_url)
            rpc_server_factory = rpc_server_factory or amqp_rpc_server
            notifier_factory = notifier_factory or amqp_notifier
        self._rpc_server_factory = rpc_server_factory
        self.db = Database(conf.database.connection)
        self.type_manager = TypeManager.from_conf(conf)
        self.notifier = notifications.AgentNotifier(notifier_factory)
        self.agents = AgentService(self.db, conf.agent_down_time)
        binder = PortBinder(self.type_manager, conf.agent_down_time)
        self.l2pop = l2pop.L2Population(self.db, self.notifier, conf.ml2.l2_population)
        self.networks = NetworkService(self.db, self.type_manager, self.notifier)
        self.dhcp_scheduler = DhcpScheduler(conf.agent_down_time, conf.dhcp_agents_per_network)
        self.subnets = SubnetService(self.db, self.notifier, self.dhcp_scheduler)
        self.ports = PortService(self.db, binder, mac_address.MacGenerator(conf.base_mac),
                                 self.notifier, self.l2pop)
        dhcp_ports = DhcpPorts(self.ports)
        self.dhcp_networks = DhcpNetworks(self.db, self.dhcp_scheduler, dhcp_ports,
                                          self.notifier)
        self.l3_scheduler = L3Scheduler(binder, conf.agent_down_time)
        self.routers = RouterService(self.db, self.ports, self.l3_scheduler, self.notifier)
        self.router_interfaces = RouterInterfaces(self.db, self.ports, self.l3_scheduler,
                                                  self.notifier)
        self.floating_ips = FloatingIpService(self.db, self.ports, self.notifier)
        self.rpc_endpoint = PluginRpcEndpoint(
            self.db, self.agents, binder, TunnelEndpoints(self.db), self.type_manager,
            self.notifier, self.l2pop,
            L3Rpc(self.db, self.l3_scheduler, self.floating_ips, self.notifier),
            DhcpRpc(self.db, self.dhcp_scheduler, dhcp_ports, self.notifier))
        router = api.build_router(self.networks, self.subnets, self.ports, self.agents,
                                  self.routers, self.router_interfaces, self.floating_ips,
                                  self.dhcp_networks)
        self.api = ApiServer(router, conf.bind_host, conf.bind_port,
                             on_request_done=self.db.end_scope)
        self._stopping = threading.Event()
        self._rpc_lock = threading.Lock()
        self._rpc_server: RpcServer | None = None

    @property
    def url(self) -> str:
        return self.api.url

    @property
    def rpc_started(self) -> bool:
        return self._rpc_server is not None

    def start(self) -> None:
        self.db.create_schema()
        if self._rpc_server_factory is None:
            LOG.warning("no transport_url: serving the API without RPC")
        else:
            threading.Thread(target=self._start_rpc, name="rpc-starter", daemon=True).start()
        self.api.start()

    def stop(self) -> None:
        self._stopping.set()
        self.api.stop()
        # No join of the starter: RpcServer.start may wait seconds for a broker
        # that is down, and a starter that finishes after this stops its server.
        with self._rpc_lock:
            server, self._rpc_server = self._rpc_server, None
        if server is not None:
            server.stop()
        self.notifier.close()
        self.db.dispose()

    def _start_rpc(self) -> None:
        """Start the RPC server, retrying until it starts or the server stops.

        Runs in its own thread so that the API comes up while the broker is
        unreachable.
        """
        assert self._rpc_server_factory is not None
        while not self._stopping.is_set():
            try:
                server = self._rpc_server_factory(self.rpc_endpoint)
                server.start()
            except Exception as error:  # noqa: BLE001 - any failure means "try again"
                LOG.warning("RPC server for topic %s did not start (%s); retrying in %.0f s",
                            TOPIC, error, RPC_RETRY_INTERVAL)
                self._stopping.wait(RPC_RETRY_INTERVAL)
                continue
            with self._rpc_lock:
                if not self._stopping.is_set():
                    self._rpc_server = server
                    LOG.info("RPC server for topic %s started", TOPIC)
                    return
            server.stop()
            return
