"""is_default of policies: a project's default policy goes to its new networks."""

from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="qos-default", name="QoS default policy",
    description="is_default of policies: a project's default policy goes to its new networks.",
    updated="2017-04-06T10:00:00-00:00", requires=("qos",))
