"""The server as one object, built from its configuration.

config -> plugins (``core_plugin``, ``service_plugins``) -> extensions (the
descriptors the plugins support) -> the API's routes and the RPC endpoint,
started and stopped together with the database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from neutrino.common import wire
from neutrino.server import config
from neutrino.server.api import extension_manager, v2
from neutrino.server.api.http_server import ApiServer
from neutrino.server.db.database import Database
from neutrino.server.lib.events import Registry
from neutrino.server.plugins.base import CorePlugin, PeriodicTask, PluginContext
from neutrino.server.plugins.manager import PluginManager, for_role
from neutrino.server.rpc.dispatch import Endpoints
from neutrino.server.rpc.notifier import Notifier, Sender

LOG = logging.getLogger(__name__)

RPC_WORKERS = 4
# Seconds between attempts to start the RPC server while the broker is away.
RPC_RETRY_INTERVAL = 2.0


class RpcServer(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


RpcServerFactory = Callable[[Endpoints], RpcServer]
SenderFactory = Callable[[], Sender]


def amqp_factories(transport_url: str) -> tuple[RpcServerFactory, SenderFactory]:
    """Factories for the real RPC server and notification sender on ``transport_url``."""
    from neutrino.common import rpc  # only a server with a broker needs pika

    def rpc_server(endpoint: Endpoints) -> RpcServer:
        return rpc.RpcServer(transport_url, wire.PLUGIN_TOPIC, endpoint, workers=RPC_WORKERS)

    def sender() -> Sender:
        return rpc.Notifier(transport_url, exchange=wire.NOTIFY_EXCHANGE)

    return rpc_server, sender


class NeutrinoServer:
    """Everything ``neutrino-server`` runs; tests may inject the RPC side."""

    def __init__(self, conf: Any, rpc_server_factory: RpcServerFactory | None = None,
                 notifier_factory: SenderFactory | None = None):
        if conf.transport_url:
            amqp_rpc_server, amqp_sender = amqp_factories(conf.transport_url)
            rpc_server_factory = rpc_server_factory or amqp_rpc_server
            notifier_factory = notifier_factory or amqp_sender
        self._rpc_server_factory = rpc_server_factory
        self.db = Database(conf.database.connection)
        self.notifier = Notifier(notifier_factory)
        self.events = Registry()
        self.plugins = PluginManager(PluginContext(conf, self.db, self.events, self.notifier),
                                     *for_role(conf.role, conf.core_plugin,
                                               conf.service_plugins))
        self.extensions = extension_manager.ExtensionManager(
            [extension_manager.IN_TREE_PATH, *config.extension_paths(conf),
             *extension_manager.plugin_extension_paths(self.plugins)],
            self.plugins.supported_aliases,
            {resource.name: resource.attributes
             for plugin in self.plugins for resource in plugin.resources()})
        self.rpc_endpoint = Endpoints(
            [endpoint for plugin in self.plugins for endpoint in plugin.rpc_endpoints()],
            on_call_done=self.db.end_scope)
        self.api = ApiServer(v2.build_urls(self.plugins, self.extensions), conf.bind_host,
                             conf.bind_port, on_request_done=self.db.end_scope)
        self._stopping = threading.Event()
        self._rpc_lock = threading.Lock()
        self._rpc_server: RpcServer | None = None

    @property
    def core(self) -> CorePlugin:
        return self.plugins.core

    @property
    def url(self) -> str:
        return self.api.url

    @property
    def rpc_started(self) -> bool:
        return self._rpc_server is not None

    def start(self) -> None:
        self.db.create_schema()
        for plugin in self.plugins:
            plugin.initialize()
        if self._rpc_server_factory is None:
            LOG.warning("no transport_url: serving the API without RPC")
        else:
            threading.Thread(target=self._start_rpc, name="rpc-starter", daemon=True).start()
        for task in (task for plugin in self.plugins for task in plugin.periodic_tasks()):
            threading.Thread(target=self._run_periodically, args=(task,), name=task.name,
                             daemon=True).start()
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

    def _run_periodically(self, task: PeriodicTask) -> None:
        """``task`` every interval until the server stops; a failed run is logged,
        and the next one comes as usual."""
        if task.interval:
            LOG.info("periodic task %s runs every %g s", task.name, task.interval)
        else:   # a worker that blocks waiting for work of its own (region jobs)
            LOG.info("task %s runs again as soon as a run ends", task.name)
        while not self._stopping.wait(task.interval):
            try:
                task.run()
            except Exception:  # noqa: BLE001 - one bad run must not end the task
                LOG.exception("periodic task %s failed", task.name)
            finally:
                self.db.end_scope()

    def _start_rpc(self) -> None:
        """Start the RPC server, retrying until it starts or the server stops.

        Runs in its own thread so that the API comes up while the broker is
        unreachable.
        """
        assert self._rpc_server_factory is not None
        topic = wire.PLUGIN_TOPIC
        while not self._stopping.is_set():
            try:
                server = self._rpc_server_factory(self.rpc_endpoint)
                server.start()
            except Exception as error:  # noqa: BLE001 - any failure means "try again"
                LOG.warning("RPC server for topic %s did not start (%s); retrying in %.0f s",
                            topic, error, RPC_RETRY_INTERVAL)
                self._stopping.wait(RPC_RETRY_INTERVAL)
                continue
            with self._rpc_lock:
                if not self._stopping.is_set():
                    self._rpc_server = server
                    LOG.info("RPC server for topic %s started", topic)
                    return
            server.stop()
            return
