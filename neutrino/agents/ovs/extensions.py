"""L2 agent extensions: code that rides along with the OVS agent's port wiring.

``[agent] extensions`` names them, as Neutron's does: each is an import
path (``package.module.Class``), the name of an entry point in the
``neutrino.agent.l2.extensions`` group, so a package installed later
brings its own, or the name of one of neutrino's own (``qos``).  The agent
calls every extension from its one wiring thread, in order:
``handle_port`` once a port is wired (and again after every update of it),
``delete_port`` once it left br-int; ``close`` as the agent stops.  An
extension that raises is logged; the port stays wired.  Work an extension
must do later (a notification of its own came) it hands to the wiring
thread with ``AgentApi.call_soon``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from typing import Any, ClassVar

from oslo_config import cfg

from neutrino.agents.ovs import ports
from neutrino.common import loading

LOG = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "neutrino.agent.l2.extensions"
BUILT_IN = {"qos": "neutrino.agents.ovs.qos:QosExtension"}


@dataclasses.dataclass(frozen=True)
class AgentApi:
    """What an extension may use of the agent."""

    host: str
    conf: Any                   # the agent's oslo.config options
    br_int: Any                 # OpenFlow on br-int: add_flows, delete_flows (ofctl.OfctlBridge)
    ovsdb: Any                  # the host's OVSDB (ovsdbapp's Open_vSwitch API)
    plugin: Any = None          # the server's RPC (rpc.RpcClient): call, cast
    # Runs ``function(*args)`` on the wiring thread, soon.
    call_soon: Callable[..., None] | None = None
    # The physical bridges by physical network (bridges.PhysicalBridge: name, ofctl).
    physical: Mapping[str, Any] = dataclasses.field(default_factory=dict)


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

    def close(self) -> None:
        """The agent stops: end what the extension started (its own listener, say)."""


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
        if cls is None and name in BUILT_IN:
            cls = loading.load_class("[agent] extensions", BUILT_IN[name], {})
        if cls is None and "." not in name and ":" not in name:
            raise ValueError(f"[agent] extensions {name!r} is neither one of neutrino's own "
                             f"({', '.join(BUILT_IN)}), an entry point of {ENTRY_POINT_GROUP} "
                             "nor an import path (package.module.Class)")
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

    def close(self) -> None:
        for extension in self.extensions:
            try:
                extension.close()
            except Exception:   # the others must close too
                LOG.exception("extension %s: close failed", type(extension).__name__)

    def _each(self, method: str, port: ports.WiredPort) -> None:
        for extension in self.extensions:
            try:
                getattr(extension, method)(port)
            except Exception:   # an extension's bug must not unwire the port
                LOG.exception("extension %s: %s of port %s failed",
                              type(extension).__name__, method, port.iface_id)
