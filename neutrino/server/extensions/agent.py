"""The agents table: list, show, update and delete agents."""

from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="agent", name="agent",
    description="The agents table: list, show, update and delete agents.",
    updated="2013-02-03T10:00:00-00:00")
