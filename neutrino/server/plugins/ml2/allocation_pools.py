"""A subnet's allocation pools: the default ones, and checks on requested ones."""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

from neutrino.server.lib import errors

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Pool = tuple[IPAddress, IPAddress]


def _address(network: IPNetwork, value: int) -> IPAddress:
    # ip_address(int) would read a small IPv6 value such as ::1 as IPv4.
    if network.version == 4:
        return ipaddress.IPv4Address(value)
    return ipaddress.IPv6Address(value)


def _usable(network: IPNetwork) -> tuple[int, int] | None:
    """First and last address a port may get, as integers: the network
    address is never one; for IPv4 neither is broadcast (IPv6 has none)."""
    first = int(network.network_address) + 1
    last = int(network.broadcast_address) - (1 if network.version == 4 else 0)
    return (first, last) if first <= last else None


def default_gateway(network: IPNetwork) -> IPAddress | None:
    usable = _usable(network)
    return _address(network, usable[0]) if usable else None


def default_pools(network: IPNetwork, gateway: IPAddress | None) -> list[Pool]:
    """The usable range, split around the gateway when it lies inside."""
    usable = _usable(network)
    if usable is None:
        return []
    first, last = usable
    ranges = [usable]
    if gateway is not None and gateway.version == network.version:
        gw = int(gateway)
        if first <= gw <= last:
            ranges = [r for r in ((first, gw - 1), (gw + 1, last)) if r[0] <= r[1]]
    return [(_address(network, low), _address(network, high)) for low, high in ranges]


def check_gateway(network: IPNetwork, gateway: IPAddress) -> None:
    usable = _usable(network)
    if (gateway.version != network.version or usable is None
            or not usable[0] <= int(gateway) <= usable[1]):
        raise errors.invalid_input(
            "gateway_ip", f"{gateway} is not a usable address of {network}")


def check_pools(network: IPNetwork, pools: list[Pool], gateway: IPAddress | None) -> list[Pool]:
    """The pools sorted; 400 if one is malformed, outside or overlapping, 409
    if one holds the gateway (Neutron's GatewayConflictWithAllocationPools)."""
    # Compared as integers once the versions are known to match.
    low, high = _usable(network) or (1, 0)
    for start, end in pools:
        if start.version != network.version or end.version != network.version:
            raise errors.invalid_input(
                "allocation_pools", f"{start}-{end} is not IPv{network.version}")
        if int(start) > int(end):
            raise errors.invalid_input("allocation_pools", f"start {start} is after end {end}")
        if int(start) < low or int(end) > high:
            raise errors.invalid_input(
                "allocation_pools", f"{start}-{end} is not within the usable part of {network}")
    ordered = sorted(pools, key=lambda pool: int(pool[0]))
    for (_, previous_end), (start, end) in itertools.pairwise(ordered):
        if int(start) <= int(previous_end):
            raise errors.invalid_input(
                "allocation_pools", f"{start}-{end} overlaps another pool")
    if gateway is not None:
        for start, end in ordered:
            if int(start) <= int(gateway) <= int(end):
                raise errors.Conflict(
                    f"Gateway ip {gateway} conflicts with allocation pool {start}-{end}",
                    "GatewayConflictWithAllocationPools")
    return ordered


def pools_from_body(pools: list[dict[str, Any]]) -> list[Pool]:
    return [(ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"]))
            for pool in pools]
