"""A bandwidth limit rule limits what leaves the port (egress) or what reaches it (ingress)."""

from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="qos-bw-limit-direction", name="Direction for QoS bandwidth limit rule",
    description="A bandwidth limit rule limits what leaves the port (egress) or what "
                "reaches it (ingress).",
    updated="2017-04-10T10:00:00-00:00", requires=("qos",))
