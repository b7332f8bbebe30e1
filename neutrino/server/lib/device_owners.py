"""Device owners: the values of a port's device_owner that the server itself sets.

A port with one of these belongs to a server-side resource (a router, a
floating IP, a DHCP server) rather than to a machine.
"""

from __future__ import annotations

DHCP = "network:dhcp"
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"
FLOATINGIP = "network:floatingip"
# What every one of them starts with: ports the network itself owns.
NETWORK_PREFIX = "network:"
# A port of another region, stood in for here so agents tunnel to it.
SHADOW = "compute:shadow"
