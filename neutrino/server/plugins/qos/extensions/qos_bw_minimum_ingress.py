"""A minimum bandwidth rule may be for what reaches the port (ingress)."""

from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="qos-bw-minimum-ingress", name="Ingress direction for QoS minimum bandwidth rule",
    description="A minimum bandwidth rule may be for what reaches the port (ingress).",
    updated="2018-12-14T10:00:00-00:00", requires=("qos",))
