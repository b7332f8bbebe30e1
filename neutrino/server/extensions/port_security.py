"""port_security_enabled of networks and ports: whether a port is filtered at all."""

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="port-security", name="Port Security",
    description="port_security_enabled of networks and ports: without it, a port's "
                "traffic is neither filtered nor checked against its addresses.",
    updated="2012-07-23T10:00:00-00:00",
    attributes={
        "network": (Attribute("port_security_enabled", v.boolean, True),),
        # Left out of a create body: the network's.  A network:* port never has it,
        # whatever the body says (ML2's port_security extension driver).
        "port": (Attribute("port_security_enabled", v.boolean),),
    })
