"""mtu of networks made writable: set on create, changed later, within the type's limit."""

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="net-mtu-writable", name="Network MTU (writable)",
    description="mtu of networks may be given on create and changed on update.",
    updated="2017-07-12T00:00:00-00:00",
    requires=("net-mtu",),
    redefines={"network": (Attribute("mtu", v.integer),)})
