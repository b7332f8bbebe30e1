"""GET /qos/rule-types/{type} names the drivers that enforce it and their parameters."""

from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="qos-rule-type-details", name="Details of QoS rule types",
    description="GET /qos/rule-types/{type} names the drivers that enforce it and their "
                "parameters.",
    updated="2017-06-22T10:00:00-00:00", requires=("qos",))
