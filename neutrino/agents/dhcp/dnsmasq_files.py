"""dnsmasq's configuration for one network, as file contents (pure functions)."""

from __future__ import annotations

import netaddr


def subnet_tag(subnet: dict) -> str:
    return f"subnet-{subnet['id']}"


def dhcp_subnets(network: dict) -> list[dict]:
    return [s for s in network["subnets"] if s["enable_dhcp"] and s["ip_version"] == 4]


def hosts_file(network: dict) -> str:
    """One line per fixed IP: ``MAC,host-a-b-c-d,ADDRESS`` (static leases only)."""
    served = {s["id"] for s in dhcp_subnets(network)}
    lines = []
    for port in network["ports"]:
        if port["device_owner"] == "network:dhcp" or not port.get("admin_state_up", True):
            continue
        for fixed in port["fixed_ips"]:
            if fixed["subnet_id"] in served:
                name = "host-" + fixed["ip_address"].replace(".", "-")
                lines.append(f"{port['mac_address']},{name},{fixed['ip_address']}")
    return "".join(line + "\n" for line in sorted(lines))


def opts_file(network: dict) -> str:
    """Per-subnet options: the gateway, DNS servers and the network's MTU."""
    lines = []
    for subnet in dhcp_subnets(network):
        tag = f"tag:{subnet_tag(subnet)}"
        if subnet.get("gateway_ip"):
            lines.append(f"{tag},option:router,{subnet['gateway_ip']}")
        else:
            lines.append(f"{tag},option:router")
        if subnet.get("dns_nameservers"):
            lines.append(f"{tag},option:dns-server,{','.join(subnet['dns_nameservers'])}")
        if network.get("mtu"):
            lines.append(f"{tag},option:mtu,{network['mtu']}")
    return "".join(line + "\n" for line in lines)


def range_args(network: dict, lease_seconds: int) -> list[str]:
    """``--dhcp-range`` per DHCP subnet, in static mode: only known MACs get leases."""
    args = []
    for subnet in dhcp_subnets(network):
        cidr = netaddr.IPNetwork(subnet["cidr"])
        args.append(f"--dhcp-range=set:{subnet_tag(subnet)},{cidr.network},static,"
                    f"{cidr.netmask},{lease_seconds}s")
    return args
