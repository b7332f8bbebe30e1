"""Names the server and the agents must spell alike on the wire.

One constant each, so the two sides cannot drift apart.
"""

from __future__ import annotations

# The topic agents call the server on (Neutron's name for it).
PLUGIN_TOPIC = "q-plugin"
# The fanout exchange the server notifies every agent on.
NOTIFY_EXCHANGE = "neutrino-notify"

# What each agent reports as its agent_type, and the topic it reports.
OVS_AGENT_TYPE = "Open vSwitch agent"
L3_AGENT_TYPE = "L3 agent"
DHCP_AGENT_TYPE = "DHCP agent"
L3_AGENT_TOPIC = "l3_agent"
DHCP_AGENT_TOPIC = "dhcp_agent"
