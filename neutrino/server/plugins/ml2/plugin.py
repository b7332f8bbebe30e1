"""ML2, the core plugin: networks, subnets, ports and agents, with type drivers and l2pop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.plugins.base import CorePlugin, PluginContext, Resource, ResourceExtension
from neutrino.server.plugins.ml2 import mac_address, mechanisms, options
from neutrino.server.plugins.ml2.agents import AGENT, AgentService
from neutrino.server.plugins.ml2.extension_drivers import ExtensionDrivers
from neutrino.server.plugins.ml2.networks import NETWORK, NetworkService
from neutrino.server.plugins.ml2.notify import L2AgentNotifier
from neutrino.server.plugins.ml2.ports import PORT, PortService, internal_body
from neutrino.server.plugins.ml2.rpc import L2RpcEndpoint
from neutrino.server.plugins.ml2.subnets import SUBNET, SubnetService
from neutrino.server.plugins.ml2.tunnel_endpoints import TunnelEndpoints
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager


class Ml2Plugin(CorePlugin):
    supported_extension_aliases: ClassVar[tuple[str, ...]] = (
        "agent", "binding", "external-net", "net-mtu", "net-mtu-writable", "provider")
    options = options.OPTIONS

    def __init__(self, context: PluginContext):
        super().__init__(context)
        conf, db = context.conf, context.db
        self.type_manager = TypeManager.from_conf(conf)
        self.extension_drivers = ExtensionDrivers(conf.ml2.extension_drivers)
        self.notifier = L2AgentNotifier(context.notifier)
        self.agents = AgentService(db, conf.agent_down_time)
        self.mechanisms = self.make_mechanisms(mechanisms.DriverContext(
            db, self.notifier, self.type_manager, conf.agent_down_time))
        drivers = self.extension_drivers
        self.networks = NetworkService(db, self.type_manager, self.notifier, context.events,
                                       drivers)
        self.ports = PortService(db, self.mechanisms, mac_address.MacGenerator(conf.base_mac),
                                 self.notifier, context.events, drivers)
        self.subnets = SubnetService(db, self.ports, context.events, drivers)
        self.rpc = L2RpcEndpoint(db, self.agents, self.mechanisms, TunnelEndpoints(db),
                                 self.type_manager, self.notifier)

    def make_mechanisms(self, context: mechanisms.DriverContext) -> mechanisms.MechanismManager:
        """The mechanism drivers, in order (a region's server binds shadow ports first)."""
        return mechanisms.MechanismManager(self.context.conf.ml2.mechanism_drivers, context)

    @property
    def supported_aliases(self) -> tuple[str, ...]:
        return self.supported_extension_aliases + self.extension_drivers.aliases

    def initialize(self) -> None:
        """Once the core tables exist: extension drivers may add tables of their own."""
        self.extension_drivers.initialize(self.context.db)

    def resources(self) -> Sequence[Resource]:
        return (
            Resource("network", "networks", NETWORK, self.networks),
            Resource("subnet", "subnets", SUBNET, self.subnets),
            Resource("port", "ports", PORT, self.ports),
            Resource("agent", "agents", AGENT, self.agents, allow_create=False),
        )

    def rpc_endpoints(self) -> Sequence[object]:
        return (self.rpc,)

    # -- what service plugins ask of the core plugin -------------------------
    def add_resource_extension(self, extension: ResourceExtension) -> None:
        self.extension_drivers.add(extension)

    def add_port(self, session: Session, fields: dict[str, Any]) -> models.Port:
        return self.ports.add(session, internal_body(fields))

    def update_port(self, session: Session, port: models.Port, changes: dict[str, Any]) -> None:
        self.ports.modify(session, port, changes)

    def remove_port(self, session: Session, port: models.Port) -> None:
        self.ports.remove(session, port)

    def port_dict(self, session: Session, port: models.Port) -> dict[str, Any]:
        return self.ports.to_dict(session, port)

    def network_dict(self, session: Session, network: models.Network) -> dict[str, Any]:
        return self.networks.to_dict(session, network)

    def agent_dict(self, agent: models.Agent) -> dict[str, Any]:
        return self.agents.to_dict(agent)
