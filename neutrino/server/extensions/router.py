"""Routers, their interfaces and gateways, and floating IPs."""

from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="router", name="Neutron L3 Router",
    description="Routers, their interfaces and gateways; floating IPs.",
    updated="2012-07-20T10:00:00-00:00",
    requires=("external-net",))
