"""Security groups and their rules; the groups a port is a member of."""

from typing import Any

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

_group_ids = v.list_of(v.uuid_string)


def _groups(value: Any) -> list[str]:
    """A list of group ids; null is no groups (Neutron's convert_none_to_empty_list)."""
    return [] if value is None else _group_ids(value)


DESCRIPTOR = ExtensionDescriptor(
    alias="security-group", name="security-group",
    description="Security groups and their rules: which traffic may reach and leave a port.",
    updated="2012-10-05T10:00:00-00:00",
    # Left out of a create body: the project's default group (if the port
    # has port security, which a network:* port never has).
    attributes={"port": (Attribute("security_groups", _groups),)})
