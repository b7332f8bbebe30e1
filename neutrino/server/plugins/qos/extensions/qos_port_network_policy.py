"""qos_network_policy_id of ports: the policy of the port's network, read only."""

from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="qos-port-network-policy", name="QoS Port Network Policy",
    description="The QoS policy of a port's network, shown on the port.",
    updated="2019-11-01T10:00:00-00:00", requires=("qos",),
    attributes={"port": (Attribute("qos_network_policy_id"),)})
