"""MAC addresses for ports, generated from the configured base MAC."""

from __future__ import annotations

import random
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.lib import errors

# How many random candidates to try before giving up on a crowded network.
MAX_CANDIDATES = 16


def random_mac(base_mac: str, rng: random.Random | None = None) -> str:
    """Keep the base's first three octets (its OUI) and every non-zero octet
    after them; draw the zero octets at random."""
    rng = rng or random.SystemRandom()
    octets = [int(part, 16) for part in base_mac.split(":")]
    for index in range(3, 6):
        if octets[index] == 0:
            octets[index] = rng.randrange(256)
    return ":".join(f"{octet:02x}" for octet in octets)


class MacGenerator:
    """Picks MACs unique on a network; the (network_id, mac_address) unique
    constraint settles races between concurrent requests."""

    def __init__(self, base_mac: str, candidate: Callable[[str], str] = random_mac):
        self.base_mac = base_mac
        self._candidate = candidate

    def generate(self, session: Session, network_id: str) -> str:
        for _ in range(MAX_CANDIDATES):
            mac = self._candidate(self.base_mac)
            if not in_use(session, network_id, mac):
                return mac
        raise errors.ServiceUnavailable(
            f"Unable to generate a unique MAC address on network {network_id} "
            f"after {MAX_CANDIDATES} tries.", "MacAddressGenerationFailure")


def in_use(session: Session, network_id: str, mac: str) -> bool:
    query = sa.select(models.Port.id).where(
        models.Port.network_id == network_id, models.Port.mac_address == mac)
    return session.scalar(query) is not None


def check_requested(session: Session, network_id: str, mac: str) -> None:
    if in_use(session, network_id, mac):
        raise errors.Conflict(
            f"Unable to complete operation for network {network_id}. The mac address "
            f"{mac} is in use.", "MacAddressInUse")
