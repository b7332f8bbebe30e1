"""Which DHCP agents serve a network: /networks/{id}/dhcp-agents, /agents/{id}/dhcp-networks."""

from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="dhcp_agent_scheduler", name="DHCP Agent Scheduler",
    description="Which DHCP agents serve a network: "
                "/networks/{id}/dhcp-agents, /agents/{id}/dhcp-networks.",
    updated="2013-02-07T10:00:00-00:00",
    requires=("agent",))
