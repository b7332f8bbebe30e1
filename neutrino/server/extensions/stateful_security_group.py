"""stateful of security groups: connection tracking, or rules for each direction."""

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="stateful-security-group", name="Stateful security group",
    description="stateful of security groups: a stateless group's rules are applied to "
                "every packet, replies included, without connection tracking.",
    updated="2019-11-26T09:00:00-00:00",
    requires=("security-group",),
    attributes={"security_group": (Attribute("stateful", v.boolean, True),)})
