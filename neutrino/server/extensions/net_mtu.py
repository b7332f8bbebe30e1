"""mtu: what an instance on the network may send, after the type's overhead."""

from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="net-mtu", name="Network MTU",
    description="mtu attribute of networks: the largest packet an instance on it may send.",
    updated="2015-03-25T10:00:00-00:00",
    attributes={"network": (Attribute("mtu"),)})
