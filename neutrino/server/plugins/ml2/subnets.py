"""Subnets: CIDR, gateway and allocation pools, checked on create and update."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from neutrino.server.db import database, models
from neutrino.server.db.lookups import load_network, load_subnet
from neutrino.server.lib import attributes, clock, errors, events
from neutrino.server.lib import validators as v
from neutrino.server.lib.attributes import REQUIRED, Attribute, ResourceAttributes
from neutrino.server.plugins.ml2 import allocation_pools as pools
from neutrino.server.plugins.ml2.core_resource import CoreResourceService
from neutrino.server.plugins.ml2.extension_drivers import ExtensionDrivers
from neutrino.server.plugins.ml2.networks import AUTO_DELETED_OWNERS
from neutrino.server.plugins.ml2.ports import PortService

_COLUMNS = ("name", "description", "enable_dhcp", "dns_nameservers", "host_routes")


_POOL = v.dict_of({"start": v.ip_address, "end": v.ip_address}, frozenset({"start", "end"}))
_ROUTE = v.dict_of({"destination": v.cidr, "nexthop": v.ip_address},
                   frozenset({"destination", "nexthop"}))

SUBNET = ResourceAttributes("subnet", (
    *attributes.common(),
    Attribute("network_id", v.uuid_string, REQUIRED, update=False),
    Attribute("cidr", v.cidr, REQUIRED, update=False),
    Attribute("ip_version", v.one_of(4, 6), update=False),
    Attribute("gateway_ip", v.nullable(v.ip_address)),
    Attribute("allocation_pools", v.list_of(_POOL)),
    Attribute("enable_dhcp", v.boolean, True),
    Attribute("dns_nameservers", v.list_of(v.ip_address), []),
    Attribute("host_routes", v.list_of(_ROUTE), []),
    *attributes.timestamps(),
))


def subnet_dict(subnet: models.Subnet) -> dict[str, Any]:
    return {
        "id": subnet.id,
        "name": subnet.name,
        "description": subnet.description,
        "network_id": subnet.network_id,
        "tenant_id": subnet.project_id,
        "project_id": subnet.project_id,
        "cidr": subnet.cidr,
        "ip_version": subnet.ip_version,
        "gateway_ip": subnet.gateway_ip,
        "allocation_pools": [{"start": p.first_ip, "end": p.last_ip}
                             for p in subnet.allocation_pools],
        "enable_dhcp": subnet.enable_dhcp,
        "dns_nameservers": subnet.dns_nameservers or [],
        "host_routes": subnet.host_routes or [],
        "created_at": clock.to_api(subnet.created_at),
        "updated_at": clock.to_api(subnet.updated_at),
    }


def _pool_rows(ranges: list[pools.Pool]) -> list[models.AllocationPool]:
    return [models.AllocationPool(first_ip=str(first), last_ip=str(last), position=index)
            for index, (first, last) in enumerate(ranges)]


def _gateway(cidr: pools.IPNetwork, body: dict[str, Any]) -> pools.IPAddress | None:
    """The requested gateway (checked), None if asked for none, else the default."""
    if "gateway_ip" not in body:
        return pools.default_gateway(cidr)
    if body["gateway_ip"] is None:
        return None
    gateway = ipaddress.ip_address(body["gateway_ip"])
    pools.check_gateway(cidr, gateway)
    return gateway


def _check_overlap(session: Session, network_id: str, cidr: pools.IPNetwork) -> None:
    query = sa.select(models.Subnet).where(models.Subnet.network_id == network_id)
    for other in session.scalars(query):
        if cidr.overlaps(ipaddress.ip_network(other.cidr)):  # type: ignore[arg-type]
            raise errors.invalid_input(
                "cidr", f"{cidr} overlaps subnet {other.id} ({other.cidr}) "
                        f"on network {network_id}")


class SubnetService(CoreResourceService):
    resource = events.SUBNET
    model = models.Subnet

    def __init__(self, db: database.Database, port_service: PortService,
                 registry: events.Registry, drivers: ExtensionDrivers):
        super().__init__(db, registry, drivers)
        self.ports = port_service

    def view(self, row: models.Subnet) -> dict[str, Any]:
        return subnet_dict(row)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        cidr = ipaddress.ip_network(body["cidr"])
        if body.get("ip_version", cidr.version) != cidr.version:
            raise errors.invalid_input(
                "ip_version", f"{body['ip_version']} does not match cidr {cidr}")
        gateway = _gateway(cidr, body)
        if "allocation_pools" in body:
            ranges = pools.check_pools(
                cidr, pools.pools_from_body(body["allocation_pools"]), gateway)
        else:
            ranges = pools.default_pools(cidr, gateway)

        def work(session: Session) -> dict[str, Any]:
            load_network(session, body["network_id"])
            _check_overlap(session, body["network_id"], cidr)
            subnet = models.Subnet(
                id=body.get("id") or models.new_id(), network_id=body["network_id"],
                project_id=body["project_id"],
                cidr=str(cidr), ip_version=cidr.version,
                gateway_ip=None if gateway is None else str(gateway),
                allocation_pools=_pool_rows(ranges),
                **{column: body[column] for column in _COLUMNS})
            session.add(subnet)
            return self.created(session, subnet, body)

        return self.db.run(work)

    def update(self, subnet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            subnet = load_subnet(session, subnet_id)
            before = self.to_dict(session, subnet)
            for column in _COLUMNS:
                if column in body:
                    setattr(subnet, column, body[column])
            if "gateway_ip" in body or "allocation_pools" in body:
                self._update_addressing(subnet, body)
            return self.updated(session, subnet, body, before)

        return self.db.run(work)

    def delete(self, subnet_id: str) -> None:
        def work(session: Session) -> None:
            subnet = load_subnet(session, subnet_id)
            holders = session.scalars(sa.select(models.Port).join(models.IPAllocation).where(
                models.IPAllocation.subnet_id == subnet_id)).unique().all()
            if any(port.device_owner not in AUTO_DELETED_OWNERS for port in holders):
                raise errors.Conflict(
                    f"Unable to complete operation on subnet {subnet_id}: One or more "
                    "ports have an IP allocation from this subnet.", "SubnetInUse")
            # DHCP ports give their address on the subnet up instead of blocking.
            for port in holders:
                self.ports.drop_addresses(session, port, subnet_id)
            self.deleting(session, subnet)
            session.delete(subnet)
            session.flush()

        self.db.run(work)

    def _update_addressing(self, subnet: models.Subnet, body: dict[str, Any]) -> None:
        cidr = ipaddress.ip_network(subnet.cidr)
        if "gateway_ip" in body:
            gateway = _gateway(cidr, body)
            subnet.gateway_ip = None if gateway is None else str(gateway)
        gateway = None if subnet.gateway_ip is None else ipaddress.ip_address(subnet.gateway_ip)
        if "allocation_pools" in body:
            requested = pools.pools_from_body(body["allocation_pools"])
        else:
            requested = [(ipaddress.ip_address(p.first_ip), ipaddress.ip_address(p.last_ip))
                         for p in subnet.allocation_pools]
        ranges = pools.check_pools(cidr, requested, gateway)
        subnet.allocation_pools = _pool_rows(ranges)
