"""The gre type driver."""

from __future__ import annotations

from typing import Any

from neutrino.server.db import models
from neutrino.server.plugins.ml2.type_drivers import tunnel

MAX_GRE_KEY = 2 ** 32 - 1


class GreTypeDriver(tunnel.TunnelTypeDriver):
    network_type = "gre"
    allocation_model = models.GreAllocation
    max_segmentation_id = MAX_GRE_KEY
    # Outer IPv4 (20) + GRE with key (8) + inner Ethernet (14) headers.
    encapsulation_overhead = 42

    @classmethod
    def from_conf(cls, conf: Any) -> GreTypeDriver:
        ranges = tunnel.parse_ranges(conf.ml2_type_gre.tunnel_id_ranges,
                                     "[ml2_type_gre] tunnel_id_ranges", MAX_GRE_KEY)
        return cls(ranges)
