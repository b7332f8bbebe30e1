"""IP protocols by the names security group rules may give them (Neutron's names).

In Neutron's order (its error messages list them so); the server checks
rules against it and the agents turn names into numbers with it.
"""

from __future__ import annotations

NUMBERS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
    "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58,
    "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89,
    "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}


def number(protocol: str | int | None) -> int | None:
    """The protocol number of a name or of a number (as text or not); None for none."""
    if protocol is None:
        return None
    if isinstance(protocol, int):
        return protocol
    if protocol in NUMBERS:
        return NUMBERS[protocol]
    return int(protocol)
