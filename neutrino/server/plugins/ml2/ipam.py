"""IP address management: which addresses a port gets on its network's subnets.

Addresses are handed out lowest free first, from the subnet's pools. Two
requests racing for one address both pass the "free" check; the primary key
of ip_allocations then fails the loser's insert and its transaction is
retried, choosing among a few free addresses (lib/free_values.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.lib import errors, free_values


@dataclass(frozen=True)
class FixedIp:
    subnet_id: str
    ip_address: str


def allocated_addresses(session: Session, subnet_id: str) -> set[str]:
    query = sa.select(models.IPAllocation.ip_address).where(
        models.IPAllocation.subnet_id == subnet_id)
    return set(session.scalars(query))


def pool_addresses(subnet: models.Subnet) -> Iterator[str]:
    """Every address of the subnet's pools, lowest first."""
    for pool in subnet.allocation_pools:
        first = ipaddress.ip_address(pool.first_ip)
        for offset in range(int(ipaddress.ip_address(pool.last_ip)) - int(first) + 1):
            yield str(first + offset)


def next_free(subnet: models.Subnet, taken: set[str], attempt: int = 1) -> str | None:
    """The lowest address of the subnet's pools not in ``taken`` (or, for a
    request that lost a race for one, one of the lowest few)."""
    return free_values.first_free(pool_addresses(subnet), taken, attempt)


def check_requested(subnet: models.Subnet, ip_address: str, taken: set[str]) -> None:
    """400 if ``ip_address`` cannot be on ``subnet``, 409 if another port has it.

    Any address of the subnet may be asked for, in a pool or not, the gateway
    included: a router's interface port takes the gateway address.
    """
    network = ipaddress.ip_network(subnet.cidr)
    address = ipaddress.ip_address(ip_address)
    if address not in network:
        raise errors.BadRequest(
            f"IP address {ip_address} is not a valid IP for the specified subnet "
            f"{subnet.id} ({subnet.cidr}).", "InvalidIpForSubnet")
    if address == network.network_address or (
            network.version == 4 and address == network.broadcast_address
            and network.prefixlen < 31):
        raise errors.invalid_input(
            "fixed_ips", f"{ip_address} is the network or broadcast address of {subnet.cidr}")
    if ip_address in taken:
        raise errors.Conflict(
            f"IP address {ip_address} already allocated in subnet {subnet.id}",
            "IpAddressAlreadyAllocated")


class AddressPlanner:
    """Decides the fixed IPs of one port, given the network's subnets."""

    def __init__(self, session: Session, network: models.Network, port_id: str | None = None):
        self.session = session
        self.network = network
        self.subnets = {subnet.id: subnet for subnet in network.subnets}
        self.port_id = port_id
        self._taken: dict[str, set[str]] = {}

    def plan(self, requests: Sequence[dict[str, Any]] | None,
             current: Sequence[FixedIp] = ()) -> list[FixedIp]:
        """The port's addresses for ``requests`` (None: the default, one
        address on the first subnet), keeping what ``current`` already holds."""
        if requests is None:
            if not self.network.subnets:
                return []
            requests = [{"subnet_id": self.network.subnets[0].id}]
        keep = list(current)
        planned: list[FixedIp] = []
        for request in requests:
            planned.append(self._plan_one(request, keep))
        return planned

    def _plan_one(self, request: dict[str, Any], keep: list[FixedIp]) -> FixedIp:
        subnet = self._subnet_for(request)
        taken = self._taken_on(subnet.id)
        kept = _take_matching(keep, subnet.id, request.get("ip_address"))
        if kept is not None:
            taken.add(kept.ip_address)
            return kept
        ip_address = request.get("ip_address")
        if ip_address is None:
            ip_address = next_free(subnet, taken, database.attempt(self.session))
            if ip_address is None:
                raise errors.Conflict(
                    f"No more IP addresses available on network {self.network.id}.",
                    "IpAddressGenerationFailure")
        else:
            check_requested(subnet, ip_address, taken)
        taken.add(ip_address)
        return FixedIp(subnet.id, ip_address)

    def _subnet_for(self, request: dict[str, Any]) -> models.Subnet:
        subnet_id = request.get("subnet_id")
        ip_address = request.get("ip_address")
        if subnet_id is not None:
            subnet = self.subnets.get(subnet_id)
            if subnet is None:
                if self.session.get(models.Subnet, subnet_id) is None:
                    raise errors.resource_not_found("subnet", subnet_id)
                raise errors.invalid_input(
                    "fixed_ips", f"subnet {subnet_id} is not on network {self.network.id}")
            return subnet
        if ip_address is None:
            raise errors.invalid_input("fixed_ips", "each entry needs subnet_id or ip_address")
        for subnet in self.subnets.values():
            if ipaddress.ip_address(ip_address) in ipaddress.ip_network(subnet.cidr):
                return subnet
        raise errors.BadRequest(
            f"IP address {ip_address} is not a valid IP for any of the subnets on "
            f"network {self.network.id}.", "InvalidIpForNetwork")

    def _taken_on(self, subnet_id: str) -> set[str]:
        if subnet_id not in self._taken:
            taken = allocated_addresses(self.session, subnet_id)
            if self.port_id is not None:
                # The port's own addresses are free for it to keep or move.
                own = self.session.scalars(sa.select(models.IPAllocation.ip_address).where(
                    models.IPAllocation.subnet_id == subnet_id,
                    models.IPAllocation.port_id == self.port_id))
                taken -= set(own)
            self._taken[subnet_id] = taken
        return self._taken[subnet_id]


def _take_matching(keep: list[FixedIp], subnet_id: str, ip_address: str | None) -> FixedIp | None:
    """Remove from ``keep`` and return a current address the request matches."""
    for fixed_ip in keep:
        if fixed_ip.subnet_id == subnet_id and ip_address in (None, fixed_ip.ip_address):
            keep.remove(fixed_ip)
            return fixed_ip
    return None
