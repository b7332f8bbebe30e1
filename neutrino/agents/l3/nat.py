"""The NAT rules of one router, as an ``iptables-restore`` document (pure)."""

from __future__ import annotations


def nat_rules(gateway_device: str | None, gateway_ip: str | None, enable_snat: bool,
              internal_cidrs: list[str], floating_ips: list[dict]) -> str:
    """The whole ``nat`` table of the router's namespace.

    Floating IPs come first (DNAT in, SNAT out as the floating address); then
    the router's SNAT of everything else leaving through the gateway.
    Traffic between two internal subnets leaves by no gateway device and is
    never translated.
    """
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]",
             ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
    if gateway_device:
        for fip in floating_ips:
            outside, inside = fip["floating_ip_address"], fip["fixed_ip_address"]
            lines.append(f"-A PREROUTING -d {outside}/32 -j DNAT --to-destination {inside}")
            lines.append(f"-A OUTPUT -d {outside}/32 -j DNAT --to-destination {inside}")
            lines.append(f"-A POSTROUTING -s {inside}/32 -o {gateway_device} "
                         f"-j SNAT --to-source {outside}")
        if enable_snat and gateway_ip:
            for cidr in internal_cidrs:
                lines.append(f"-A POSTROUTING -s {cidr} -o {gateway_device} "
                             f"-j SNAT --to-source {gateway_ip}")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"
