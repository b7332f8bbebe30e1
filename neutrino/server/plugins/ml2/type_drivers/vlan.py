"""The vlan type driver: VLAN ids on named physical networks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.lib import errors
from neutrino.server.plugins.ml2.type_drivers import base, physical, tunnel

MAX_VLAN = 4094
OPTION = "[ml2_type_vlan] network_vlan_ranges"


def parse_network_vlan_ranges(entries: list[str]) -> dict[str, list[tunnel.Range]]:
    """VLAN ranges by physical network, in configuration order; a bare
    'physnet' entry allows provider networks there but gives no tenant VLANs."""
    ranges: dict[str, list[tunnel.Range]] = {}
    for entry in entries:
        physnet, sep, id_range = entry.strip().partition(":")
        if not physnet:
            raise ValueError(f"{OPTION} entry {entry!r} is not 'physnet' or "
                             "'physnet:min:max'")
        ranges.setdefault(physnet, [])
        if sep:
            ranges[physnet].extend(tunnel.parse_ranges([id_range], OPTION, MAX_VLAN))
    return {physnet: sorted(found) for physnet, found in ranges.items()}


class VlanTypeDriver(physical.PhysicalTypeDriver):
    network_type = "vlan"

    def __init__(self, ranges: dict[str, list[tunnel.Range]]):
        self.ranges = ranges

    @classmethod
    def from_conf(cls, conf: Any) -> VlanTypeDriver:
        return cls(parse_network_vlan_ranges(conf.ml2_type_vlan.network_vlan_ranges))

    def validate_provider_segment(self, segment: base.Segment) -> None:
        self.check_physical_network(segment, self.ranges, OPTION)
        seg_id = segment.segmentation_id
        if seg_id is not None and not 1 <= seg_id <= MAX_VLAN:
            raise errors.invalid_input("provider:segmentation_id",
                                       f"{seg_id} is outside 1..{MAX_VLAN} for vlan")

    def reserve_provider_segment(self, session: Session, segment: base.Segment,
                                 network_id: str) -> base.Segment:
        """Take the requested VLAN, in the configured ranges or not (as for vxlan)."""
        physnet = segment.physical_network
        assert physnet is not None  # validate_provider_segment ran first
        seg_id = segment.segmentation_id
        if seg_id is None:
            allocated = self._allocate_on(session, physnet, network_id)
            if allocated is None:
                raise base.no_network_available()
            return allocated
        if session.get(models.VlanAllocation, (physnet, seg_id)) is not None:
            raise errors.Conflict(
                f"Unable to create the network. The VLAN {seg_id} on physical network "
                f"{physnet} is in use.", "VlanIdInUse")
        return self._take(session, physnet, seg_id, network_id)

    def allocate_tenant_segment(self, session: Session, network_id: str) -> base.Segment | None:
        for physnet in self.ranges:
            segment = self._allocate_on(session, physnet, network_id)
            if segment is not None:
                return segment
        return None

    def release_segment(self, session: Session, segment: base.Segment) -> None:
        model = models.VlanAllocation
        session.execute(sa.delete(model).where(
            model.physical_network == segment.physical_network,
            model.segmentation_id == segment.segmentation_id))

    def _allocate_on(self, session: Session, physnet: str,
                     network_id: str) -> base.Segment | None:
        model = models.VlanAllocation
        taken = set(session.scalars(sa.select(model.segmentation_id).where(
            model.physical_network == physnet)))
        seg_id = tunnel.lowest_free(self.ranges.get(physnet, []), taken,
                                    database.attempt(session))
        return None if seg_id is None else self._take(session, physnet, seg_id, network_id)

    def _take(self, session: Session, physnet: str, seg_id: int,
              network_id: str) -> base.Segment:
        # The (physical_network, VLAN) key makes a concurrent taker's insert fail.
        session.add(models.VlanAllocation(physical_network=physnet, segmentation_id=seg_id,
                                          network_id=network_id))
        session.flush()
        return base.Segment(self.network_type, physnet, seg_id)
