"""Security groups and their rules; the groups a port is a member of."""

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="security-group", name="security-group",
    description="Security groups and their rules: which traffic may reach and leave a port.",
    updated="2012-10-05T10:00:00-00:00",
    # Left out of a create body: the project's default group (if the port
    # has port security and is not a network:* port).
    attributes={"port": (Attribute("security_groups", v.list_of(v.uuid_string)),)})
