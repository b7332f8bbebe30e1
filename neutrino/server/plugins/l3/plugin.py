"""The router service plugin: routers, interfaces, gateways, floating IPs, L3 scheduling.

What it must know of the core plugin's changes arrives as events: a port a
router or floating IP still uses cannot be deleted through /ports; a
deleted port's floating IPs are disassociated (and their routers told); a
network that gateways or floating IPs use cannot stop being external.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import agents, models
from neutrino.server.lib import device_owners, errors, events
from neutrino.server.plugins.base import (
    CorePlugin,
    MemberAction,
    PeriodicTask,
    PluginContext,
    Resource,
    ServicePlugin,
    SubCollection,
)
from neutrino.server.plugins.l3 import models as l3_models
from neutrino.server.plugins.l3 import options
from neutrino.server.plugins.l3.failover import RouterFailover
from neutrino.server.plugins.l3.floating_ips import FLOATINGIP, FloatingIpService
from neutrino.server.plugins.l3.notify import L3AgentNotifier
from neutrino.server.plugins.l3.router_interfaces import RouterInterfaces
from neutrino.server.plugins.l3.routers import ROUTER, RouterService
from neutrino.server.plugins.l3.rpc import L3RpcEndpoint
from neutrino.server.plugins.l3.scheduler import L3Scheduler

# Ports that make a network external in use: it cannot stop being external.
_EXTERNAL_OWNERS = (device_owners.ROUTER_GATEWAY, device_owners.FLOATINGIP)
_ROUTER_OWNERS = (device_owners.ROUTER_INTERFACE, device_owners.ROUTER_GATEWAY)


class L3RouterPlugin(ServicePlugin):
    supported_extension_aliases: ClassVar[tuple[str, ...]] = (
        "router", "ext-gw-mode", "l3_agent_scheduler", "router_availability_zone")
    options = options.OPTIONS

    def __init__(self, context: PluginContext, core: CorePlugin):
        super().__init__(context, core)
        db = context.db
        self.notifier = L3AgentNotifier(context.notifier)
        self.scheduler = L3Scheduler(core, context.conf.agent_down_time)
        self.routers = RouterService(db, core, self.scheduler, self.notifier)
        self.interfaces = RouterInterfaces(db, core, self.scheduler, self.notifier)
        self.floating_ips = FloatingIpService(db, core, self.notifier, context.events)
        self.rpc = L3RpcEndpoint(db, self.scheduler, self.floating_ips, self.notifier)
        self.failover = RouterFailover(db, self.scheduler, self.notifier,
                                       context.conf.agent_down_time)
        registry = context.events
        registry.subscribe(self._refuse_deleting_used_port, events.PORT, events.BEFORE_DELETE)
        registry.subscribe(self._release_floating_ips, events.PORT, events.PRECOMMIT_DELETE)
        registry.subscribe(self._tell_routers, events.PORT, events.AFTER_DELETE)
        registry.subscribe(self._refuse_unexternal_in_use, events.NETWORK,
                           events.PRECOMMIT_UPDATE)
        registry.subscribe(self._find_routers_of_new_mtu, events.NETWORK,
                           events.PRECOMMIT_UPDATE)
        registry.subscribe(self._tell_routers, events.NETWORK, events.AFTER_UPDATE)
        registry.subscribe(self._tell_router_of_new_addresses, events.PORT, events.AFTER_UPDATE)

    def periodic_tasks(self) -> Sequence[PeriodicTask]:
        conf = self.context.conf
        if not conf.allow_automatic_l3agent_failover:
            return ()
        return (PeriodicTask("l3-failover", agents.failover_interval(conf.agent_down_time),
                             self.failover.move_from_dead_agents),)

    def resources(self) -> Sequence[Resource]:
        return (Resource("router", "routers", ROUTER, self.routers),
                Resource("floatingip", "floatingips", FLOATINGIP, self.floating_ips))

    def member_actions(self) -> Sequence[MemberAction]:
        return (MemberAction("routers", "add_router_interface", self.interfaces.add),
                MemberAction("routers", "remove_router_interface", self.interfaces.remove))

    def sub_collections(self) -> Sequence[SubCollection]:
        return (SubCollection("routers", "l3-agents", "agents", self.routers.l3_agents),
                SubCollection("agents", "l3-routers", "routers", self.routers.on_agent))

    def rpc_endpoints(self) -> Sequence[object]:
        return (self.rpc,)

    # -- what the plugin does when the core plugin's resources change -------------
    @staticmethod
    def _refuse_deleting_used_port(payload: events.Payload) -> None:
        """409 for a port its router or floating IP still uses, as Neutron refuses it."""
        session: Session = payload.session
        port: models.Port = payload.db_object
        if port.device_owner == device_owners.FLOATINGIP:
            in_use = session.scalar(sa.select(l3_models.FloatingIP.id).where(
                l3_models.FloatingIP.floating_port_id == port.id)) is not None
            how = "delete the floating IP instead"
        elif port.device_owner in (device_owners.ROUTER_INTERFACE,
                                   device_owners.ROUTER_GATEWAY):
            in_use = session.get(l3_models.RouterPort, port.id) is not None
            how = ("use remove_router_interface" if port.device_owner ==
                   device_owners.ROUTER_INTERFACE else "clear the router's external_gateway_info")
        else:
            return
        if in_use:
            raise errors.Conflict(
                f"Port {port.id} cannot be deleted directly via the port API: has device "
                f"owner {port.device_owner} (device {port.device_id}); {how}.",
                "ServicePortInUse")

    @staticmethod
    def _release_floating_ips(payload: events.Payload) -> None:
        """Disassociate the floating IPs of a port about to go; keep their routers' ids."""
        routers: list[Any] = payload.metadata.setdefault("routers", [])
        session: Session = payload.session
        for fip in session.scalars(sa.select(l3_models.FloatingIP).where(
                l3_models.FloatingIP.fixed_port_id == payload.resource_id)):
            routers.append(fip.router_id)
            fip.fixed_port_id = fip.fixed_ip_address = fip.router_id = None
            fip.status = "DOWN"

    @staticmethod
    def _find_routers_of_new_mtu(payload: events.Payload) -> None:
        """Routers with a port on a network whose MTU changes: their devices follow it."""
        before, after = payload.states
        if before.get("mtu") == after.get("mtu"):
            return
        routers: list[Any] = payload.metadata.setdefault("routers", [])
        routers.extend(payload.session.scalars(
            sa.select(models.Port.device_id).distinct().where(
                models.Port.network_id == payload.resource_id,
                models.Port.device_owner.in_(_ROUTER_OWNERS))))

    def _tell_router_of_new_addresses(self, payload: events.Payload) -> None:
        """A router's port changed addresses through /ports (a gateway IP given by
        hand, say): its agent re-reads the router."""
        before, after = payload.states
        if (after.get("device_owner") in _ROUTER_OWNERS
                and before.get("fixed_ips") != after.get("fixed_ips")):
            self.notifier.routers_updated([after["device_id"]])

    def _tell_routers(self, payload: events.Payload) -> None:
        """Tell the agents of the routers a PRECOMMIT subscriber collected."""
        self.notifier.routers_updated(payload.metadata.get("routers", ()))

    @staticmethod
    def _refuse_unexternal_in_use(payload: events.Payload) -> None:
        """409 if router gateways or floating IPs still need the network to be external."""
        before, after = payload.states
        if not before.get("router:external") or after.get("router:external"):
            return
        in_use = payload.session.scalar(
            sa.select(sa.func.count()).select_from(models.Port).where(
                models.Port.network_id == payload.resource_id,
                models.Port.device_owner.in_(_EXTERNAL_OWNERS)))
        if in_use:
            raise errors.Conflict(
                f"External network {payload.resource_id} cannot be updated, since it has "
                "existing gateway ports or floating IPs.", "ExternalNetworkInUse")
