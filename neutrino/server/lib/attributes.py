"""What a client may send for each resource, and how request bodies are checked.

Like Neutron's attribute map: every attribute says whether it may be given
on create and on update, how its value is converted, and its default. Bodies
with unknown or read-only attributes are refused with a 400 naming them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from neutrino.server.lib import errors
from neutrino.server.lib import validators as v

REQUIRED = object()  # no default: the attribute must be given on create
OMITTED = object()  # no default: left out of the body, the service decides


@dataclass(frozen=True)
class Attribute:
    name: str
    convert: v.Converter
    default: Any = OMITTED
    create: bool = True
    update: bool = True


@dataclass(frozen=True)
class ResourceAttributes:
    """The attributes of one resource, e.g. 'network'."""

    resource: str
    attributes: tuple[Attribute, ...]
    by_name: dict[str, Attribute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {a.name: a for a in self.attributes})

    def for_create(self, body: dict[str, Any]) -> dict[str, Any]:
        """The converted body with defaults filled in."""
        result = self._convert(body, "create")
        for attribute in self.attributes:
            if attribute.name in result:
                continue
            if attribute.default is REQUIRED:
                raise errors.BadRequest(
                    f"Failed to parse request. Required attribute '{attribute.name}' "
                    "not specified")
            if attribute.default is not OMITTED:
                # A copy: a default [] or {} must not be shared between requests.
                result[attribute.name] = copy.deepcopy(attribute.default)
        _merge_project(result)
        return result

    def for_update(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._convert(body, "update")

    def _convert(self, body: dict[str, Any], action: str) -> dict[str, Any]:
        result = {}
        for name, value in body.items():
            attribute = self.by_name.get(name)
            if attribute is None:
                raise errors.BadRequest(
                    f"Unrecognized attribute(s) '{name}' for {self.resource}")
            if not getattr(attribute, action):
                raise errors.BadRequest(
                    f"Attribute '{name}' of {self.resource} cannot be set on {action}")
            try:
                result[name] = attribute.convert(value)
            except ValueError as error:
                raise errors.invalid_input(name, str(error)) from None
        return result


def _merge_project(body: dict[str, Any]) -> None:
    """tenant_id is Neutron's old name for project_id; keep one as project_id."""
    tenant_id = body.pop("tenant_id", None)
    project_id = body.pop("project_id", None)
    if tenant_id is not None and project_id is not None and tenant_id != project_id:
        raise errors.invalid_input(
            "project_id", f"'{project_id}' differs from tenant_id '{tenant_id}'")
    body["project_id"] = project_id if project_id is not None else (tenant_id or "")


def _common() -> tuple[Attribute, ...]:
    return (
        Attribute("name", v.string, ""),
        Attribute("description", v.string, ""),
        Attribute("tenant_id", v.string, update=False),
        Attribute("project_id", v.string, update=False),
    )


NETWORK = ResourceAttributes("network", _common() + (
    Attribute("admin_state_up", v.boolean, True),
    Attribute("shared", v.boolean, False),
    Attribute("router:external", v.boolean, False),
    Attribute("provider:network_type", v.string, update=False),
    Attribute("provider:physical_network", v.nullable(v.string), update=False),
    Attribute("provider:segmentation_id", v.nullable(v.integer), update=False),
))

_POOL = v.dict_of({"start": v.ip_address, "end": v.ip_address}, frozenset({"start", "end"}))
_ROUTE = v.dict_of({"destination": v.cidr, "nexthop": v.ip_address},
                   frozenset({"destination", "nexthop"}))

SUBNET = ResourceAttributes("subnet", _common() + (
    Attribute("network_id", v.uuid_string, REQUIRED, update=False),
    Attribute("cidr", v.cidr, REQUIRED, update=False),
    Attribute("ip_version", v.one_of(4, 6), update=False),
    Attribute("gateway_ip", v.nullable(v.ip_address)),
    Attribute("allocation_pools", v.list_of(_POOL)),
    Attribute("enable_dhcp", v.boolean, True),
    Attribute("dns_nameservers", v.list_of(v.ip_address), []),
    Attribute("host_routes", v.list_of(_ROUTE), []),
))

_FIXED_IP = v.dict_of({"subnet_id": v.uuid_string, "ip_address": v.ip_address})

PORT = ResourceAttributes("port", _common() + (
    Attribute("network_id", v.uuid_string, REQUIRED, update=False),
    Attribute("mac_address", v.mac_address, update=False),
    Attribute("fixed_ips", v.list_of(_FIXED_IP)),
    Attribute("device_id", v.string, ""),
    Attribute("device_owner", v.string, ""),
    Attribute("admin_state_up", v.boolean, True),
    Attribute("binding:host_id", v.string, ""),
    Attribute("binding:profile", v.any_dict, {}),
    Attribute("binding:vnic_type", v.one_of("normal"), "normal"),
))

AGENT = ResourceAttributes("agent", (
    Attribute("admin_state_up", v.boolean, create=False),
    Attribute("description", v.string, create=False),
))

_EXTERNAL_GATEWAY = v.dict_of(
    {"network_id": v.uuid_string, "enable_snat": v.boolean,
     "external_fixed_ips": v.list_of(_FIXED_IP)}, frozenset({"network_id"}))


def _external_gateway_info(value: Any) -> dict[str, Any] | None:
    """The gateway a router asks for; null and {} both mean none, as in Neutron."""
    if value is None or value == {}:
        return None
    converted: dict[str, Any] = _EXTERNAL_GATEWAY(value)
    return converted


ROUTER = ResourceAttributes("router", _common() + (
    Attribute("admin_state_up", v.boolean, True),
    Attribute("external_gateway_info", _external_gateway_info),
))

FLOATINGIP = ResourceAttributes("floatingip", (
    Attribute("description", v.string, ""),
    Attribute("tenant_id", v.string, update=False),
    Attribute("project_id", v.string, update=False),
    Attribute("floating_network_id", v.uuid_string, REQUIRED, update=False),
    Attribute("floating_ip_address", v.ip_address, update=False),
    Attribute("subnet_id", v.uuid_string, update=False),
    Attribute("port_id", v.nullable(v.uuid_string)),
    Attribute("fixed_ip_address", v.nullable(v.ip_address)),
))
