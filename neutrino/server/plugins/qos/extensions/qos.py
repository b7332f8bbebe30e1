"""qos_policy_id of networks and ports: the QoS policy that applies to them."""

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

_POLICY = Attribute("qos_policy_id", v.nullable(v.uuid_string))

DESCRIPTOR = ExtensionDescriptor(
    alias="qos", name="Quality of Service",
    description="QoS policies and their rules, applied to ports and networks.",
    updated="2015-06-08T10:00:00-00:00",
    # Left out of a network's create body: the project's default policy, if any.
    attributes={"port": (_POLICY,), "network": (_POLICY,)})
