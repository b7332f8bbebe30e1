"""router:external: a network that routers may use as their gateway."""

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="external-net", name="Neutron external network",
    description="router:external attribute of networks.",
    updated="2013-01-14T10:00:00-00:00",
    attributes={"network": (Attribute("router:external", v.boolean, False),)})
