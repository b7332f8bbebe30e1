"""Choosing a free value (an address, a segmentation id) that racers also want.

Lowest free first keeps allocation predictable; but every request racing
for one subnet then wants the same address, and all but one lose and try
again, for the same next one. A request that already lost a race picks at
random among the first few free values instead, a window that doubles
with each loss, as Neutron's IPAM spreads concurrent requests over a window
of free addresses.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Container, Iterable
from typing import TypeVar

T = TypeVar("T")

MAX_WINDOW = 64


def window_for(attempt: int) -> int:
    """How many free values an attempt chooses among: 1 for the first."""
    return min(2 ** (attempt - 1), MAX_WINDOW)


def first_free(candidates: Iterable[T], taken: Container[T], attempt: int = 1) -> T | None:
    """The lowest candidate not taken (first attempt) or one of the lowest few."""
    free = (candidate for candidate in candidates if candidate not in taken)
    window = list(itertools.islice(free, window_for(attempt)))
    if not window:
        return None
    return window[0] if len(window) == 1 else random.choice(window)
