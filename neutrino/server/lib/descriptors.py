"""Extension descriptors: what an API extension is, and what it adds.

A descriptor is a small module on the server's extension path that defines
``DESCRIPTOR = ExtensionDescriptor(...)``.  It is loaded only if a loaded
plugin lists its alias in ``supported_extension_aliases``; then its
attributes join the named resources' attribute maps, and it is listed in
``/v2.0/extensions``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from neutrino.server.lib.attributes import Attribute

# What Neutron's descriptors give as "updated": an ISO 8601 time with an offset.
_UPDATED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
_ALIAS = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclasses.dataclass(frozen=True)
class ExtensionDescriptor:
    alias: str
    name: str
    description: str
    updated: str
    # Resource name ('network', 'port', ...) -> the attributes this adds to it.
    attributes: Mapping[str, tuple[Attribute, ...]] = dataclasses.field(default_factory=dict)
    # Aliases that must be loaded too; without them this one is dropped.
    requires: tuple[str, ...] = ()
    # Resource name -> attributes, each replacing one of the same name that
    # another extension (one this requires) added: net-mtu-writable makes
    # net-mtu's read-only mtu writable, as Neutron's does.
    redefines: Mapping[str, tuple[Attribute, ...]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.alias, str) or not _ALIAS.match(self.alias):
            raise ValueError(f"alias {self.alias!r} must be lower case letters, digits, "
                             "'-' and '_'")
        for field in ("name", "description"):
            if not isinstance(getattr(self, field), str) or not getattr(self, field):
                raise ValueError(f"{field} of extension {self.alias!r} must be a non-empty "
                                 "string")
        if not isinstance(self.updated, str) or not _UPDATED.match(self.updated):
            raise ValueError(f"updated {self.updated!r} of extension {self.alias!r} must be "
                             "a time like 2012-09-07T10:00:00-00:00")
        for field in ("attributes", "redefines"):
            for resource, attributes in getattr(self, field).items():
                if not all(isinstance(a, Attribute) for a in attributes):
                    raise ValueError(f"{field}[{resource!r}] of extension {self.alias!r} "
                                     "must be a tuple of Attribute")

    @property
    def resources(self) -> set[str]:
        """The resources it extends or redefines attributes of."""
        return set(self.attributes) | set(self.redefines)

    def api_view(self) -> dict[str, object]:
        """The entry /v2.0/extensions shows for it."""
        return {"alias": self.alias, "name": self.name, "description": self.description,
                "updated": self.updated, "links": []}
