"""Packet rate limit rules: packets per second leaving or reaching a port."""

from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="qos-pps", name="QoS packet rate limit rule",
    description="Packet rate limit rules: packets per second leaving or reaching a port.",
    updated="2021-03-26T10:00:00-00:00", requires=("qos",))
