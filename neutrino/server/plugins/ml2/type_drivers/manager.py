"""The registry of type drivers and the one object the rest of the server asks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from neutrino.server.lib import errors
from neutrino.server.plugins.ml2.type_drivers import base, flat, gre, vlan, vxlan

# Every driver the server knows, by network type; [ml2] type_drivers picks
# which of them run. A new type is one more class here.
AVAILABLE: dict[str, type[base.TypeDriver]] = {
    driver.network_type: driver for driver in (
        vxlan.VxlanTypeDriver, gre.GreTypeDriver, vlan.VlanTypeDriver, flat.FlatTypeDriver)
}


class TypeManager:
    """The configured type drivers, and segment bookkeeping across them."""

    def __init__(self, drivers: dict[str, base.TypeDriver], tenant_network_types: list[str],
                 underlay: base.Underlay | None = None):
        unknown = [name for name in tenant_network_types if name not in drivers]
        if unknown:
            raise ValueError(f"[ml2] tenant_network_types {unknown[0]!r} is not in "
                             f"[ml2] type_drivers ({', '.join(drivers) or 'empty'})")
        self.drivers = drivers
        self.tenant_network_types = tenant_network_types
        self.underlay = underlay or base.Underlay()

    @classmethod
    def from_conf(cls, conf: Any) -> TypeManager:
        drivers = {}
        for name in conf.ml2.type_drivers:
            if name not in AVAILABLE:
                raise ValueError(f"[ml2] type_drivers {name!r} is not one of "
                                 f"{', '.join(sorted(AVAILABLE))}")
            drivers[name] = AVAILABLE[name].from_conf(conf)
        return cls(drivers, list(conf.ml2.tenant_network_types),
                   base.Underlay(conf.global_physnet_mtu, conf.ml2.path_mtu))

    def driver(self, network_type: str) -> base.TypeDriver:
        """The driver for ``network_type``; a 400 naming the attribute if none."""
        driver = self.drivers.get(network_type)
        if driver is None:
            raise errors.invalid_input(
                "provider:network_type",
                f"network_type {network_type!r} is not one of {', '.join(self.drivers)}")
        return driver

    def validate_provider_segment(self, segment: base.Segment) -> None:
        self.driver(segment.network_type).validate_provider_segment(segment)

    def create_segment(self, session: Session, network_id: str,
                       requested: base.Segment | None) -> base.Segment:
        """Reserve ``requested`` or, when None, a tenant segment of the first
        tenant network type that has one free."""
        if requested is not None:
            driver = self.driver(requested.network_type)
            driver.validate_provider_segment(requested)
            return driver.reserve_provider_segment(session, requested, network_id)
        for network_type in self.tenant_network_types:
            segment = self.drivers[network_type].allocate_tenant_segment(session, network_id)
            if segment is not None:
                return segment
        raise base.no_network_available()

    def update_segment(self, session: Session, network_id: str, segment: base.Segment,
                       segmentation_id: int | None) -> base.Segment:
        """Move a network's segment to another id: only VLAN, as in Neutron's ML2."""
        if segment.network_type != "vlan":
            raise errors.invalid_input("provider:segmentation_id",
                                       "Only VLAN type networks can be updated.")
        if segmentation_id is None:
            raise errors.invalid_input("provider:segmentation_id",
                                       "an update must give the new VLAN id")
        new = base.Segment(segment.network_type, segment.physical_network, segmentation_id)
        driver = self.driver(segment.network_type)
        driver.validate_provider_segment(new)
        reserved = driver.reserve_provider_segment(session, new, network_id)
        driver.release_segment(session, segment)
        return reserved

    def release_segment(self, session: Session, segment: base.Segment) -> None:
        driver = self.drivers.get(segment.network_type)
        # A type dropped from the configuration since has nothing to release into.
        if driver is not None:
            driver.release_segment(session, segment)

    def mtu(self, segment: base.Segment) -> int:
        return self.driver(segment.network_type).mtu(self.underlay)

    def agent_can_serve(self, configurations: dict[str, Any], segment: base.Segment) -> bool:
        driver = self.drivers.get(segment.network_type)
        return driver is not None and driver.agent_can_serve(configurations, segment)
