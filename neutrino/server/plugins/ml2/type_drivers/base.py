"""The interface every network type driver implements."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from neutrino.server.lib import errors


@dataclass(frozen=True)
class Underlay:
    """The MTUs of what carries networks, as Neutron's options give them:
    ``[DEFAULT] global_physnet_mtu`` and ``[ml2] path_mtu`` (0: unset)."""

    physnet_mtu: int = 1500
    path_mtu: int = 0

    @property
    def tunnel_path_mtu(self) -> int:
        """What a tunnel between hosts may carry, its encapsulation included."""
        return min(mtu for mtu in (self.physnet_mtu, self.path_mtu) if mtu)


@dataclass(frozen=True)
class Segment:
    """A network's place on the wire: type, physical network, segmentation id."""

    network_type: str
    physical_network: str | None = None
    segmentation_id: int | None = None


class TypeDriver(abc.ABC):
    """Allocates and releases the segments of one network type.

    Tunnel types (vxlan, gre) ignore ``physical_network``; physical types
    (vlan, flat) will use it for the allocation key and for binding.
    """

    network_type: ClassVar[str]

    @classmethod
    @abc.abstractmethod
    def from_conf(cls, conf: Any) -> TypeDriver:
        """Build the driver from the server's configuration."""

    @abc.abstractmethod
    def validate_provider_segment(self, segment: Segment) -> None:
        """Raise errors.BadRequest naming the provider attribute that is wrong."""

    @abc.abstractmethod
    def reserve_provider_segment(self, session: Session, segment: Segment,
                                 network_id: str) -> Segment:
        """Take the requested segment (allocate the id if it has none) or raise Conflict."""

    @abc.abstractmethod
    def allocate_tenant_segment(self, session: Session, network_id: str) -> Segment | None:
        """Take a free segment from the configured ranges; None when all are used."""

    @abc.abstractmethod
    def release_segment(self, session: Session, segment: Segment) -> None:
        """Give the segment back so that a later network can have it."""

    @abc.abstractmethod
    def mtu(self, underlay: Underlay) -> int:
        """The MTU instances on a network of this type can use."""

    @abc.abstractmethod
    def agent_can_serve(self, configurations: dict[str, Any], segment: Segment) -> bool:
        """True if an L2 agent reporting ``configurations`` can wire ``segment``."""


def no_network_available() -> errors.ServiceUnavailable:
    return errors.ServiceUnavailable(
        "Unable to create the network. No tenant network is available for allocation.",
        "NoNetworkAvailable")
