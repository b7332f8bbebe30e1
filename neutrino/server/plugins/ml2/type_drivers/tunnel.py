"""What tunnel types (vxlan, and later gre) share: id ranges, allocation, binding."""

from __future__ import annotations

import itertools
import logging
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database
from neutrino.server.lib import errors, free_values
from neutrino.server.plugins.ml2.type_drivers import base

LOG = logging.getLogger(__name__)

Range = tuple[int, int]


def parse_ranges(entries: list[str], option: str, maximum: int) -> list[Range]:
    """Turn 'min:max' strings into sorted ranges; ``option`` names them in errors."""
    ranges = []
    for entry in entries:
        first, sep, last = entry.partition(":")
        try:
            low, high = int(first), int(last)
        except ValueError:
            low = high = -1
        if not sep or not 1 <= low <= high <= maximum:
            raise ValueError(f"{option} entry {entry!r} is not 'min:max' with "
                             f"1 <= min <= max <= {maximum}")
        ranges.append((low, high))
    return sorted(ranges)


def lowest_free(ranges: list[Range], taken: set[int], attempt: int = 1) -> int | None:
    """The lowest id of ``ranges`` not taken (after a lost race: one of the lowest few)."""
    candidates = itertools.chain.from_iterable(range(low, high + 1) for low, high in ranges)
    return free_values.first_free(candidates, taken, attempt)


class TunnelTypeDriver(base.TypeDriver):
    """A tunnel type whose allocation table holds one row per id in use.

    Only ids in use are stored, so the table's primary key is what makes
    two concurrent requests unable to take one id: the loser's insert fails
    and its transaction is retried by the caller (``Database.run``).
    """

    allocation_model: ClassVar[Any]
    max_segmentation_id: ClassVar[int]
    encapsulation_overhead: ClassVar[int]

    def __init__(self, ranges: list[Range]):
        self.ranges = ranges

    def validate_provider_segment(self, segment: base.Segment) -> None:
        if segment.physical_network is not None:
            raise errors.invalid_input(
                "provider:physical_network",
                f"{self.network_type} networks have no physical network")
        seg_id = segment.segmentation_id
        if seg_id is not None and not 1 <= seg_id <= self.max_segmentation_id:
            raise errors.invalid_input(
                "provider:segmentation_id",
                f"{seg_id} is outside 1..{self.max_segmentation_id} for {self.network_type}")

    def reserve_provider_segment(self, session: Session, segment: base.Segment,
                                 network_id: str) -> base.Segment:
        """Take the requested id, which may lie outside the configured ranges.

        As in Neutron, a provider request is an administrator's choice: the
        ranges only bound what tenant networks get automatically, so an id
        outside them is accepted as long as no other network has it.
        """
        seg_id = segment.segmentation_id
        if seg_id is None:
            allocated = self.allocate_tenant_segment(session, network_id)
            if allocated is None:
                raise base.no_network_available()
            return allocated
        model = self.allocation_model
        if session.get(model, seg_id) is not None:
            raise errors.Conflict(
                f"Unable to create the network. The tunnel ID {seg_id} is in use.",
                "TunnelIdInUse")
        session.add(model(segmentation_id=seg_id, network_id=network_id))
        session.flush()
        return base.Segment(self.network_type, None, seg_id)

    def allocate_tenant_segment(self, session: Session, network_id: str) -> base.Segment | None:
        model = self.allocation_model
        taken: set[int] = set()
        for low, high in self.ranges:
            query = sa.select(model.segmentation_id).where(
                model.segmentation_id.between(low, high))
            taken.update(session.scalars(query))
        seg_id = lowest_free(self.ranges, taken, database.attempt(session))
        if seg_id is None:
            return None
        session.add(model(segmentation_id=seg_id, network_id=network_id))
        session.flush()
        return base.Segment(self.network_type, None, seg_id)

    def release_segment(self, session: Session, segment: base.Segment) -> None:
        model = self.allocation_model
        session.execute(sa.delete(model).where(
            model.segmentation_id == segment.segmentation_id))

    def mtu(self, underlay: base.Underlay) -> int:
        return underlay.tunnel_path_mtu - self.encapsulation_overhead

    def agent_can_serve(self, configurations: dict[str, Any], segment: base.Segment) -> bool:
        return self.network_type in (configurations.get("tunnel_types") or [])

