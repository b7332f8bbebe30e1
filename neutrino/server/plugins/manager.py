"""Loading the plugins the configuration names: ``core_plugin`` and ``service_plugins``.

Each is a short name (``ml2``, ``router``, ``dhcp_agent_scheduler``) or the
import path of a class (``package.module.Class`` or ``package.module:Class``),
so an out-of-tree plugin loads like an in-tree one.  Plugins are imported by
name here, never statically: the core plugin does not know which service
plugins run beside it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from neutrino.common.loading import load_class
from neutrino.server.plugins.base import CorePlugin, Plugin, PluginContext, ServicePlugin

LOG = logging.getLogger(__name__)

CORE_PLUGINS = {
    "ml2": "neutrino.server.plugins.ml2.plugin:Ml2Plugin",
    "ml2_local": "neutrino.server.plugins.regions.local:LocalMl2Plugin",
}
SERVICE_PLUGINS = {
    "router": "neutrino.server.plugins.l3.plugin:L3RouterPlugin",
    "router_local": "neutrino.server.plugins.regions.local_l3:LocalL3RouterPlugin",
    "dhcp_agent_scheduler": "neutrino.server.plugins.dhcp.plugin:DhcpAgentSchedulerPlugin",
    "security_group": "neutrino.server.plugins.securitygroup.plugin:SecurityGroupPlugin",
    "qos": "neutrino.server.plugins.qos.plugin:QosPlugin",
    "regions": "neutrino.server.plugins.regions.central:RegionsPlugin",
}


def for_role(role: str, core_plugin: str,
             service_plugins: Sequence[str]) -> tuple[str, list[str]]:
    """The plugins a server of ``role`` loads: a local server's ML2 takes what it lacks
    from the central server; the central server serves pods, routings and jobs."""
    services = list(service_plugins)
    if role == "local":
        if core_plugin not in ("ml2", "ml2_local"):
            raise ValueError(f"role local works with core_plugin ml2, not {core_plugin!r}")
        return "ml2_local", ["router_local" if name == "router" else name for name in services]
    if role == "central" and "regions" not in services:
        services.append("regions")
    return core_plugin, services


def _checked(option: str, name: str, cls: type, base: type) -> type:
    if not issubclass(cls, base):
        raise ValueError(f"{option} {name!r}: {cls.__module__}.{cls.__qualname__} is not a "
                         f"{base.__name__}")
    return cls


def _core_class(name: str) -> type:
    return _checked("core_plugin", name, load_class("core_plugin", name, CORE_PLUGINS),
                    CorePlugin)


def _service_class(name: str) -> type:
    return _checked("service_plugins", name,
                    load_class("service_plugins", name, SERVICE_PLUGINS), ServicePlugin)


def configured_classes(conf: Any) -> list[type[Plugin]]:
    """The plugin classes a server configured so loads (core first), not yet made."""
    core, services = for_role(conf.role, conf.core_plugin, conf.service_plugins)
    return [_core_class(core), *map(_service_class, services)]


def in_tree_classes() -> list[type[Plugin]]:
    """Every plugin class of neutrino's own (for a configuration that may name any)."""
    return [load_class("plugins", path, {}) for path in
            (*CORE_PLUGINS.values(), *SERVICE_PLUGINS.values())]


def register_options(conf: Any, classes: Sequence[type[Plugin]]) -> None:
    """Register the options of ``classes`` (and of their bases) on ``conf``."""
    for cls in classes:
        for owner in reversed(cls.__mro__):
            for group, opts in vars(owner).get("options", {}).items():
                conf.register_opts(list(opts), group=None if group == "DEFAULT" else group)


class PluginManager:
    """The loaded plugins: one core plugin, then the service plugins in configured order."""

    def __init__(self, context: PluginContext, core_plugin: str,
                 service_plugins: Sequence[str]):
        self.core: CorePlugin = _core_class(core_plugin)(context)
        self.services: dict[str, ServicePlugin] = {}
        for name in service_plugins:
            cls = _service_class(name)
            if any(type(plugin) is cls for plugin in self.services.values()):
                raise ValueError(f"service_plugins names {cls.__qualname__} twice")
            self.services[name] = cls(context, self.core)
        self._check_collections()
        LOG.info("plugins loaded: core %s; services %s", type(self.core).__qualname__,
                 ", ".join(type(plugin).__qualname__ for plugin in self.services.values())
                 or "none")

    def __iter__(self) -> Iterator[Plugin]:
        yield self.core
        yield from self.services.values()

    @property
    def supported_aliases(self) -> set[str]:
        aliases = set(self.core.supported_aliases)
        for plugin in self.services.values():
            aliases.update(plugin.supported_extension_aliases)
        return aliases

    def service(self, name: str) -> ServicePlugin:
        """The service plugin loaded as ``name`` (as service_plugins spells it)."""
        try:
            return self.services[name]
        except KeyError:
            raise LookupError(f"no service plugin {name!r} is loaded; loaded: "
                              f"{', '.join(self.services) or 'none'}") from None

    def _check_collections(self) -> None:
        owners: dict[str, Plugin] = {}
        for plugin in self:
            for resource in plugin.resources():
                other = owners.setdefault(resource.collection, plugin)
                if other is not plugin:
                    raise ValueError(f"both {type(other).__qualname__} and "
                                     f"{type(plugin).__qualname__} serve /{resource.collection}")
