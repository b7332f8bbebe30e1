"""ML2 mechanism drivers: who binds a port, and who hears of its changes.

``[ml2] mechanism_drivers`` lists them in order, by short name
(``openvswitch``, ``l2population``) or import path
(``package.module.Class``).  Binding asks each in turn, as Neutron's ML2
does: the first that binds the port to one of its network's segments wins,
so a second kind of L2 agent is one more driver.  Every driver hears every
committed port change and every port that went up.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from sqlalchemy.orm import Session

from neutrino.common import loading, wire
from neutrino.server.db import agents, database, models
from neutrino.server.plugins.ml2 import binding, l2pop
from neutrino.server.plugins.ml2.notify import L2AgentNotifier
from neutrino.server.plugins.ml2.type_drivers.base import Segment
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DriverContext:
    """What a mechanism driver is given."""

    db: database.Database
    notifier: L2AgentNotifier
    type_manager: TypeManager
    agent_down_time: int


class MechanismDriver:
    """Override what the driver takes part in; the defaults do nothing."""

    def __init__(self, context: DriverContext):
        self.context = context

    def bind(self, session: Session, port: models.Port,
             segments: Sequence[Segment]) -> binding.Binding | None:
        """Bind ``port`` (its host is set) to one of ``segments``, or None to pass."""
        return None

    def port_up(self, network_id: str) -> None:
        """A port of ``network_id`` was reported ACTIVE (again, maybe)."""

    def port_changed(self, before: l2pop.PortFacts, after: l2pop.PortFacts | None) -> None:
        """A port's status, host or addresses changed (``after`` None: it was deleted)."""


class OpenvswitchDriver(MechanismDriver):
    """Binds to a segment that a live OVS agent on the port's host serves."""

    agent_type = wire.OVS_AGENT_TYPE

    def bind(self, session: Session, port: models.Port,
             segments: Sequence[Segment]) -> binding.Binding | None:
        live = agents.alive_agents_on_host(session, self.agent_type, port.binding.host,
                                           self.context.agent_down_time)
        result = binding.choose(port.binding.host, segments,
                                [agent.configurations or {} for agent in live],
                                self.context.type_manager)
        return result if result.bound else None


class L2populationDriver(MechanismDriver):
    """Tells the OVS agents which MACs live behind which tunnel endpoint (l2pop.py)."""

    def __init__(self, context: DriverContext):
        super().__init__(context)
        self.population = l2pop.L2Population(context.db, context.notifier)

    def port_up(self, network_id: str) -> None:
        self.population.port_up(network_id)

    def port_changed(self, before: l2pop.PortFacts, after: l2pop.PortFacts | None) -> None:
        self.population.port_changed(before, after)


KNOWN = {
    "openvswitch": f"{__name__}.OpenvswitchDriver",
    "l2population": f"{__name__}.L2populationDriver",
}


class MechanismManager:
    """The configured drivers, asked in order."""

    def __init__(self, names: Sequence[str], context: DriverContext):
        if not names:
            raise ValueError("[ml2] mechanism_drivers is empty: no port could be bound")
        self.drivers: list[MechanismDriver] = []
        for name in names:
            cls = loading.load_class("[ml2] mechanism_drivers", name, KNOWN)
            if not issubclass(cls, MechanismDriver):
                raise ValueError(f"[ml2] mechanism_drivers {name!r}: {cls.__qualname__} is "
                                 "not a MechanismDriver")
            self.drivers.append(cls(context))

    def bind(self, session: Session, port: models.Port,
             network: models.Network) -> binding.Binding:
        """Set ``port.binding``'s VIF type and details for its host."""
        result = self.binding_for(session, port, network)
        port.binding.vif_type = result.vif_type
        port.binding.vif_details = dict(result.vif_details)
        return result

    def binding_for(self, session: Session, port: models.Port,
                    network: models.Network) -> binding.Binding:
        """What ``port`` binds as on its host: the first driver's binding that binds it."""
        host = port.binding.host
        if not host:
            return binding.Binding(binding.VIF_TYPE_UNBOUND)
        segments = binding.network_segments(network)
        for driver in self.drivers:
            result = driver.bind(session, port, segments)
            if result is not None:
                return result
        LOG.warning("could not bind port %s on host %s: no mechanism driver (%s) serves %s "
                    "there", port.id, host, ", ".join(type(d).__name__ for d in self.drivers),
                    ", ".join(s.network_type for s in segments))
        return binding.Binding(binding.VIF_TYPE_BINDING_FAILED)

    def port_up(self, network_id: str) -> None:
        for driver in self.drivers:
            self._tell(driver, "port_up", network_id)

    def port_changed(self, before: l2pop.PortFacts, after: l2pop.PortFacts | None) -> None:
        for driver in self.drivers:
            self._tell(driver, "port_changed", before, after)

    @staticmethod
    def _tell(driver: MechanismDriver, method: str, *args: object) -> None:
        """The change is committed: a driver that fails is logged, the others still hear."""
        try:
            getattr(driver, method)(*args)
        except Exception:
            LOG.exception("mechanism driver %s: %s failed", type(driver).__name__, method)
