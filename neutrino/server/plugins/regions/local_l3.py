"""A region's router plugin (role local): routers and floating IPs of the central server.

A router or floating IP asked for by id and missing here is copied from the
central server with the same id: the central server's router_setup and
floatingip_setup jobs ask for it, then give it its gateway, interfaces and
association through this region's API.  The ports that brings about are
the central server's own (see ``LocalMl2Plugin.add_port``): the gateway
and floating addresses the central server handed out are the ones used.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from neutrino.server.plugins.base import CorePlugin, PluginContext, Resource
from neutrino.server.plugins.l3.floating_ips import FLOATINGIP
from neutrino.server.plugins.l3.plugin import L3RouterPlugin
from neutrino.server.plugins.l3.routers import ROUTER
from neutrino.server.plugins.regions.local import LocalMl2Plugin

LOG = logging.getLogger(__name__)

_ROUTER_FIELDS = ("id", "name", "description", "project_id", "admin_state_up",
                  "availability_zone_hints")
_FIP_FIELDS = ("id", "description", "project_id", "floating_network_id",
               "floating_ip_address", "port_id", "fixed_ip_address")


class LocalL3RouterPlugin(L3RouterPlugin):
    def __init__(self, context: PluginContext, core: CorePlugin):
        if not isinstance(core, LocalMl2Plugin):
            raise ValueError("service plugin router_local needs core plugin ml2_local "
                             "(role local)")
        super().__init__(context, core)
        self.local_core = core

    def resources(self) -> Sequence[Resource]:
        return (Resource("router", "routers", ROUTER, _Copied(self, self.routers, "router")),
                Resource("floatingip", "floatingips", FLOATINGIP,
                         _Copied(self, self.floating_ips, "floatingip")))

    def copy(self, resource: str, resource_id: str) -> dict[str, Any]:
        core = self.local_core
        service = self.routers if resource == "router" else self.floating_ips

        def make(central: dict[str, Any]) -> None:
            if resource == "router":
                body = {name: central[name] for name in _ROUTER_FIELDS if name in central}
            else:
                core.network_copy(central["floating_network_id"])
                if central.get("port_id"):
                    core.port_copy(central["port_id"])
                body = {name: central[name] for name in _FIP_FIELDS
                        if central.get(name) is not None}
            service.create(body)
            LOG.info("%s %s copied from the central server", resource, resource_id)

        return core.copied(service, resource, resource_id, make)


class _Copied:
    """A router or floating IP service whose get copies what is missing."""

    def __init__(self, plugin: LocalL3RouterPlugin, service: Any, resource: str):
        self.plugin = plugin
        self.service = service
        self.resource = resource

    def list(self) -> list[dict[str, Any]]:
        return self.service.list()

    def get(self, resource_id: str) -> dict[str, Any]:
        return self.plugin.copy(self.resource, resource_id)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.service.create(body)

    def update(self, resource_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.service.update(resource_id, body)

    def delete(self, resource_id: str) -> None:
        self.service.delete(resource_id)
