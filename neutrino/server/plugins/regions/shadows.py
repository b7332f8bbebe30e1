"""Where a port of a multi-region network lives, as its central copy records it.

A local server that binds a port tells the central server where: the
port's ``binding:profile`` there gets ``region``, ``host`` and
``tunnel_ip``.  Every other region hosting the network then gets a
*shadow* of the port: same id, MAC and addresses, device owner
``compute:shadow``, bound to that remote host, so that its agents tunnel
to the host and learn the port by l2pop.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from neutrino.server.lib import device_owners

PROFILE_KEYS = ("region", "host", "tunnel_ip")


@dataclasses.dataclass(frozen=True)
class Placement:
    region: str
    host: str
    tunnel_ip: str

    @classmethod
    def of(cls, port: dict[str, Any]) -> Placement | None:
        """Where the port is bound, from its profile, or None if it is bound nowhere."""
        profile = port.get("binding:profile") or {}
        if not all(profile.get(key) for key in PROFILE_KEYS):
            return None
        return cls(*(str(profile[key]) for key in PROFILE_KEYS))

    def profile(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def is_shadow(port: dict[str, Any]) -> bool:
    return port.get("device_owner") == device_owners.SHADOW


def shadow_of(port: dict[str, Any], region: str) -> Placement | None:
    """Where ``port`` lives, if a server of ``region`` must stand in for it."""
    placement = Placement.of(port)
    return placement if placement is not None and placement.region != region else None
