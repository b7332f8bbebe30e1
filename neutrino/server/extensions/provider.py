"""provider:* attributes of networks: the segment a network has on the wire."""

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="provider", name="Provider Network",
    description="provider:* attributes of networks: type, physical network, segmentation id.",
    updated="2012-09-07T10:00:00-00:00",
    attributes={"network": (
        Attribute("provider:network_type", v.string, update=False),
        Attribute("provider:physical_network", v.nullable(v.string), update=False),
        # Changed on update for VLAN networks only, as in Neutron.
        Attribute("provider:segmentation_id", v.nullable(v.integer)),
    )})
