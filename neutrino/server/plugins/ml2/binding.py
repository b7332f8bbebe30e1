"""Port binding: which host's L2 agent wires a port, and with what VIF type."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from neutrino.common import wire
from neutrino.server.db import agents, models
from neutrino.server.plugins.ml2.type_drivers.base import Segment
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager

LOG = logging.getLogger(__name__)

VIF_TYPE_OVS = "ovs"
VIF_TYPE_UNBOUND = "unbound"
VIF_TYPE_BINDING_FAILED = "binding_failed"
UNBOUND_VIF_TYPES = (VIF_TYPE_UNBOUND, VIF_TYPE_BINDING_FAILED)


@dataclass(frozen=True)
class Binding:
    vif_type: str
    vif_details: dict[str, Any] = field(default_factory=dict)
    segment: Segment | None = None

    @property
    def bound(self) -> bool:
        return self.vif_type not in UNBOUND_VIF_TYPES


def choose(host: str, segments: Sequence[Segment],
           agent_configurations: Iterable[dict[str, Any]],
           type_manager: TypeManager) -> Binding:
    """Bind to the first segment some live agent on ``host`` can serve.

    ``agent_configurations`` are those of the live OVS agents on ``host``.
    """
    if not host:
        return Binding(VIF_TYPE_UNBOUND)
    for configurations in agent_configurations:
        for segment in segments:
            if type_manager.agent_can_serve(configurations, segment):
                return Binding(VIF_TYPE_OVS, {"port_filter": False}, segment)
    return Binding(VIF_TYPE_BINDING_FAILED)


def network_segments(network: models.Network) -> list[Segment]:
    return [Segment(s.network_type, s.physical_network, s.segmentation_id)
            for s in network.segments]


class PortBinder:
    """Binds ports to hosts, asking the agents table which host can serve what."""

    def __init__(self, type_manager: TypeManager, agent_down_time: int):
        self.type_manager = type_manager
        self.agent_down_time = agent_down_time

    def bind(self, session: Session, port: models.Port, network: models.Network) -> Binding:
        """Set ``port.binding``'s VIF type and details for its host."""
        result = self.binding_for(session, port, network)
        port.binding.vif_type = result.vif_type
        port.binding.vif_details = dict(result.vif_details)
        return result

    def binding_for(self, session: Session, port: models.Port,
                    network: models.Network) -> Binding:
        """What ``port`` binds as on its host: a live agent there must serve the network."""
        host = port.binding.host
        live = agents.alive_agents_on_host(session, wire.OVS_AGENT_TYPE, host,
                                           self.agent_down_time) if host else []
        result = choose(host, network_segments(network),
                        [agent.configurations or {} for agent in live], self.type_manager)
        if host and not result.bound:
            LOG.warning("could not bind port %s on host %s: no live %s there serves %s",
                        port.id, host, wire.OVS_AGENT_TYPE,
                        ", ".join(s.network_type for s in network_segments(network)))
        return result
