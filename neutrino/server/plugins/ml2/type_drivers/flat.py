"""The flat type driver: untagged networks, one per physical network."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.lib import errors
from neutrino.server.plugins.ml2.type_drivers import base, physical

OPTION = "[ml2_type_flat] flat_networks"


class _AnyName(Container[str]):
    def __contains__(self, name: object) -> bool:
        return True


class FlatTypeDriver(physical.PhysicalTypeDriver):
    network_type = "flat"

    def __init__(self, physical_networks: list[str]):
        self.physical_networks = [name for name in physical_networks if name != "*"]
        self.allowed: Container[str] = (
            _AnyName() if "*" in physical_networks else set(self.physical_networks))

    @classmethod
    def from_conf(cls, conf: Any) -> FlatTypeDriver:
        return cls([name.strip() for name in conf.ml2_type_flat.flat_networks if name.strip()])

    def validate_provider_segment(self, segment: base.Segment) -> None:
        self.check_physical_network(segment, self.allowed, OPTION)
        if segment.segmentation_id is not None:
            raise errors.invalid_input("provider:segmentation_id",
                                       "flat networks have no segmentation id")

    def reserve_provider_segment(self, session: Session, segment: base.Segment,
                                 network_id: str) -> base.Segment:
        physnet = segment.physical_network
        assert physnet is not None  # validate_provider_segment ran first
        if session.get(models.FlatAllocation, physnet) is not None:
            raise errors.Conflict(
                f"Unable to create the flat network. Physical network {physnet} is in use.",
                "FlatNetworkInUse")
        return self._take(session, physnet, network_id)

    def allocate_tenant_segment(self, session: Session, network_id: str) -> base.Segment | None:
        """The first listed physical network without a flat network yet.

        Neutron refuses flat tenant networks; here a test environment whose
        tenant type is flat gets one network per listed physical network.
        """
        taken = set(session.scalars(sa.select(models.FlatAllocation.physical_network)))
        for physnet in self.physical_networks:
            if physnet not in taken:
                return self._take(session, physnet, network_id)
        return None

    def release_segment(self, session: Session, segment: base.Segment) -> None:
        session.execute(sa.delete(models.FlatAllocation).where(
            models.FlatAllocation.physical_network == segment.physical_network))

    def _take(self, session: Session, physnet: str, network_id: str) -> base.Segment:
        session.add(models.FlatAllocation(physical_network=physnet, network_id=network_id))
        session.flush()
        return base.Segment(self.network_type, physnet, None)
