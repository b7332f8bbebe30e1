"""availability_zone_hints of routers: where a router should live.

With regions, a router created centrally with a hint naming a region lives
in that region (its local server runs it); elsewhere the hints are kept
and shown.
"""

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute, read_only
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="router_availability_zone", name="Router Availability Zone",
    description="availability_zone_hints and availability_zones of routers.",
    updated="2015-01-01T10:00:00-00:00",
    requires=("router",),
    attributes={"router": (
        Attribute("availability_zone_hints", v.list_of(v.string), [], update=False),
        *read_only("availability_zones"),
    )})
