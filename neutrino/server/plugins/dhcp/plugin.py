"""The DHCP agent scheduler service plugin: which DHCP agents serve which networks.

It schedules a network when one of its subnets has DHCP (events of the
core plugin's subnets, inside their transaction), serves the DHCP agents'
RPC methods, and tells DHCP agents of every change to what they serve: a
network's DHCP-served attributes, its subnets and its ports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy.orm import Session

from neutrino.server.db import agents, models
from neutrino.server.lib import events
from neutrino.server.plugins.base import (
    CorePlugin,
    PeriodicTask,
    PluginContext,
    ServicePlugin,
    SubCollection,
)
from neutrino.server.plugins.dhcp import options
from neutrino.server.plugins.dhcp.hosting import DhcpNetworks
from neutrino.server.plugins.dhcp.notify import DhcpAgentNotifier
from neutrino.server.plugins.dhcp.ports import DhcpPorts
from neutrino.server.plugins.dhcp.rpc import PORT_FACTS, DhcpRpcEndpoint
from neutrino.server.plugins.dhcp.scheduler import DhcpScheduler

# Attributes of a network that a DHCP agent's view (get_network_info) shows.
_SERVED_NETWORK_ATTRIBUTES = {"name", "admin_state_up", "mtu"}


class DhcpAgentSchedulerPlugin(ServicePlugin):
    supported_extension_aliases: ClassVar[tuple[str, ...]] = ("dhcp_agent_scheduler",)
    options = options.OPTIONS

    def __init__(self, context: PluginContext, core: CorePlugin):
        super().__init__(context, core)
        conf, db = context.conf, context.db
        self.notifier = DhcpAgentNotifier(context.notifier)
        self.scheduler = DhcpScheduler(conf.agent_down_time, conf.dhcp_agents_per_network)
        self.dhcp_ports = DhcpPorts(core)
        self.hosting = DhcpNetworks(db, core, self.scheduler, self.dhcp_ports, self.notifier,
                                    conf.agent_down_time)
        self.rpc = DhcpRpcEndpoint(db, self.scheduler, self.dhcp_ports, self.notifier)
        subscribe = context.events.subscribe
        subscribe(self._schedule_new_subnet, events.SUBNET, events.PRECOMMIT_CREATE)
        subscribe(self._schedule_updated_subnet, events.SUBNET, events.PRECOMMIT_UPDATE)
        for event in (events.AFTER_CREATE, events.AFTER_UPDATE, events.AFTER_DELETE):
            subscribe(self._subnet_changed, events.SUBNET, event)
        subscribe(self._network_updated, events.NETWORK, events.AFTER_UPDATE)
        subscribe(self._network_deleted, events.NETWORK, events.AFTER_DELETE)
        subscribe(self._port_changed, events.PORT, events.AFTER_CREATE)
        subscribe(self._port_updated, events.PORT, events.AFTER_UPDATE)
        subscribe(self._port_changed, events.PORT, events.AFTER_DELETE)

    def periodic_tasks(self) -> Sequence[PeriodicTask]:
        conf = self.context.conf
        if not conf.allow_automatic_dhcp_failover:
            return ()
        return (PeriodicTask("dhcp-failover", agents.failover_interval(conf.agent_down_time),
                             self.hosting.move_from_dead_agents),)

    def sub_collections(self) -> Sequence[SubCollection]:
        return (SubCollection("networks", "dhcp-agents", "agents", self.hosting.dhcp_agents),
                SubCollection("agents", "dhcp-networks", "networks", self.hosting.on_agent,
                              add=self.hosting.add, remove=self.hosting.remove))

    def rpc_endpoints(self) -> Sequence[object]:
        return (self.rpc,)

    # -- what the plugin does when the core plugin's resources change -------------
    def _schedule_new_subnet(self, payload: events.Payload) -> None:
        subnet: models.Subnet = payload.db_object
        if subnet.enable_dhcp:
            session: Session = payload.session
            network = subnet.network
            session.refresh(network, ["subnets"])
            self.scheduler.schedule(session, network)

    def _schedule_updated_subnet(self, payload: events.Payload) -> None:
        if payload.request.get("enable_dhcp"):
            self.scheduler.schedule(payload.session, payload.db_object.network)

    def _subnet_changed(self, payload: events.Payload) -> None:
        self.notifier.dhcp_networks_changed([payload.latest["network_id"]])

    def _network_updated(self, payload: events.Payload) -> None:
        if payload.request.keys() & _SERVED_NETWORK_ATTRIBUTES:
            self.notifier.dhcp_networks_changed([payload.resource_id])

    def _network_deleted(self, payload: events.Payload) -> None:
        self.notifier.dhcp_network_deleted(payload.resource_id)

    def _port_changed(self, payload: events.Payload) -> None:
        """A port came or went: DHCP agents serve every port of their networks."""
        self.notifier.dhcp_networks_changed([payload.latest["network_id"]])

    def _port_updated(self, payload: events.Payload) -> None:
        before, after = payload.states
        if any(before[name] != after[name] for name in PORT_FACTS):
            self.notifier.dhcp_networks_changed([after["network_id"]])
