"""binding:* attributes of ports: which host's agent wires a port, and how."""

from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import Attribute
from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="binding", name="Port Binding",
    description="binding:* attributes of ports: the host whose agent wires a port, and how.",
    updated="2014-02-03T10:00:00-00:00",
    attributes={"port": (
        Attribute("binding:host_id", v.string, ""),
        Attribute("binding:vif_type"),
        Attribute("binding:vif_details"),
        Attribute("binding:profile", v.any_dict, {}),
        Attribute("binding:vnic_type", v.one_of("normal"), "normal"),
    )})
