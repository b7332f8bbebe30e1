"""L2 agent extensions: code that rides along with the OVS agent's port wiring.

``[agent] extensions`` names them, as Neutron's does: each is an import
path (``package.module.Class``), or the name of an entry point in the
``neutrino.agent.l2.extensions`` group, so a package installed later
brings its own.  The agent calls every extension from its one wiring
thread, in order: ``handle_port`` once a port is wired (and again after
every update of it), ``delete_port`` once it left br-int.  An extension
that raises is logged; the port stays wired.  QoS will be one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any, ClassVar

from oslo_config import cfg

from neutrino.agents.ovs import ports
from neutrino.common import loading

LOG = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "neutrino.agent.l2.extensions"


@dataclasses.dataclass(frozen=True)
class AgentApi:
    """What an extension may use of the agent."""

    host: str
    conf: Any                   # the agent's oslo.config options
    br_int: Any                 # OpenFlow on br-int: add_flows, delete_flows (bridges.OfBridge)
    ovsdb: Any                  # the host's OVSDB (ovsdbapp's Open_vSwitch API)


class AgentExtension:
    """Subclass and override what the extension needs; the defaults do nothing."""

    # Its options by group ("DEFAULT" too): the agent's config file may set
    # them once ``[agent] extensions`` names it.
    options: ClassVar[Mapping[str, Sequence[cfg.Opt]]] = {}

    def initialize(self, api: AgentApi) -> None:
        """Once, before the agent wires its first port."""

    def handle_port(self, port: ports.WiredPort) -> None:
        """``port`` was wired (on ``port.lvid``), or set dead, with fresh details."""

    def delete_port(self, port: ports.WiredPort) -> None:
        """``port`` left br-int (or was deleted): undo what handle_port did."""


def _entry_point(name: str) -> type | None:
    for found in metadata.entry_points(group=ENTRY_POINT_GROUP, name=name):
        loaded = found.load()
        return loaded if isinstance(loaded, type) else None
    return None


def classes(names: Sequence[str]) -> list[type[AgentExtension]]:
    """The extension classes ``names`` stand for; a ValueError naming the bad one."""
    found = []
    for name in names:
        cls = _entry_point(name)
        if cls is None and "." not in name and ":" not in name:
            raise ValueError(f"[agent] extensions {name!r} is neither an entry point of "
                             f"{ENTRY_POINT_GROUP} nor an import path (package.module.Class)")
        cls = cls or loading.load_class("[agent] extensions", name, {})
        if not issubclass(cls, AgentExtension):
            raise ValueError(f"[agent] extensions {name!r}: {cls.__module__}."
                             f"{cls.__qualname__} is not an AgentExtension")
        found.append(cls)
    return found


def options_of(names: Sequence[str]) -> dict[str | None, list[cfg.Opt]]:
    """The options the extensions ``names`` bring, by group (None: DEFAULT)."""
    every: dict[str | None, list[cfg.Opt]] = {}
    for cls in classes(names):
        for group, opts in cls.options.items():
            every.setdefault(None if group == "DEFAULT" else group, []).extend(opts)
    return every


def load(names: Sequence[str]) -> list[AgentExtension]:
    """The extensions ``names`` stand for, made."""
    return [cls() for cls in classes(names)]


class Extensions:
    """The loaded extensions, each called in turn; one failing never stops the rest."""

    def __init__(self, names: Sequence[str]):
        self.extensions = load(names)

    def initialize(self, api: AgentApi) -> None:
        for extension in self.extensions:
            extension.initialize(api)

    def handle_port(self, port: ports.WiredPort) -> None:
        self._each("handle_port", port)

    def delete_port(self, port: ports.WiredPort) -> None:
        self._each("delete_port", port)

    def _each(self, method: str, port: ports.WiredPort) -> None:
        for extension in self.extensions:
            try:
                getattr(extension, method)(port)
            except Exception:   # an extension's bug must not unwire the port
                LOG.exception("extension %s: %s of port %s failed",
                              type(extension).__name__, method, port.iface_id)
