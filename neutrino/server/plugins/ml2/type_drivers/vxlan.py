"""The vxlan type driver."""

from __future__ import annotations

from typing import Any

from neutrino.server.db import models
from neutrino.server.plugins.ml2.type_drivers import tunnel

MAX_VNI = 2 ** 24 - 1


class VxlanTypeDriver(tunnel.TunnelTypeDriver):
    network_type = "vxlan"
    allocation_model = models.VxlanAllocation
    max_segmentation_id = MAX_VNI
    # Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers.
    encapsulation_overhead = 50

    @classmethod
    def from_conf(cls, conf: Any) -> VxlanTypeDriver:
        ranges = tunnel.parse_ranges(conf.ml2_type_vxlan.vni_ranges,
                                     "[ml2_type_vxlan] vni_ranges", MAX_VNI)
        return cls(ranges)
