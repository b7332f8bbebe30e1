"""enable_snat in a router's external_gateway_info.

The router plugin's external_gateway_info takes the key; this descriptor
tells clients that it may be given.
"""

from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="ext-gw-mode", name="Neutron L3 Configurable external gateway mode",
    description="enable_snat in a router's external_gateway_info.",
    updated="2013-03-28T10:00:00-00:00",
    requires=("router",))
