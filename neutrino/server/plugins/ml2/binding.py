"""Port binding's values: what a port binds as, and how an OVS agent's host is chosen.

Who binds is the mechanism drivers' business (mechanisms.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from neutrino.server.db import models
from neutrino.server.plugins.ml2.type_drivers.base import Segment
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager

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
