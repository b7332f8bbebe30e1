"""The QoS service plugin: policies, rules, rule types, and policies of ports and networks."""
