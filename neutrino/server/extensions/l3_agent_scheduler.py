"""Which L3 agent hosts a router: /routers/{id}/l3-agents, /agents/{id}/l3-routers."""

from neutrino.server.lib.descriptors import ExtensionDescriptor

DESCRIPTOR = ExtensionDescriptor(
    alias="l3_agent_scheduler", name="L3 Agent Scheduler",
    description="Which L3 agent hosts a router: "
                "/routers/{id}/l3-agents, /agents/{id}/l3-routers.",
    updated="2013-02-07T10:00:00-00:00",
    requires=("router", "agent"))
