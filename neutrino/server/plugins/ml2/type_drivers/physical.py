"""What types on physical networks (vlan, flat) share: physnet checks and binding."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from neutrino.server.lib import errors
from neutrino.server.plugins.ml2.type_drivers import base


class PhysicalTypeDriver(base.TypeDriver):
    """A type whose segments live on a named physical network.

    An L2 agent can serve such a segment if its bridge_mappings name the
    physical network: it has a bridge plugged into that network.
    """

    def mtu(self, underlay: base.Underlay) -> int:
        return underlay.physnet_mtu

    def agent_can_serve(self, configurations: dict[str, Any], segment: base.Segment) -> bool:
        return segment.physical_network in (configurations.get("bridge_mappings") or {})

    def check_physical_network(self, segment: base.Segment, allowed: Container[str],
                               option: str) -> str:
        """The segment's physical network; 400 if missing or not in ``allowed``."""
        physnet = segment.physical_network
        if not physnet:
            raise errors.invalid_input(
                "provider:physical_network",
                f"required for {self.network_type} networks")
        if physnet not in allowed:
            raise errors.invalid_input(
                "provider:physical_network",
                f"{physnet!r} is not a physical network in {option}")
        return physnet
