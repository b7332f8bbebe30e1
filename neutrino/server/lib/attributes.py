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
    """One attribute of a resource as the API shows it.

    ``convert`` is None for a read-only attribute (shown, never accepted);
    otherwise ``create`` and ``update`` say when a client may send it.
    """

    name: str
    convert: v.Converter | None = None
    default: Any = OMITTED
    create: bool = True
    update: bool = True

    def __post_init__(self) -> None:
        if self.convert is None:
            object.__setattr__(self, "create", False)
            object.__setattr__(self, "update", False)


def read_only(*names: str) -> tuple[Attribute, ...]:
    """Attributes the server sets and clients only see: id, status, timestamps."""
    return tuple(Attribute(name) for name in names)


@dataclass(frozen=True)
class ResourceAttributes:
    """The attributes of one resource, e.g. 'network', in the order bodies show them."""

    resource: str
    attributes: tuple[Attribute, ...]
    by_name: dict[str, Attribute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Attribute] = {}
        for attribute in self.attributes:
            if attribute.name in by_name:
                raise ValueError(f"attribute {attribute.name!r} of {self.resource} is "
                                 "defined twice")
            by_name[attribute.name] = attribute
        object.__setattr__(self, "by_name", by_name)

    @property
    def names(self) -> tuple[str, ...]:
        """Every attribute a body shows; lists filter on these."""
        return tuple(self.by_name)

    def extended(self, attributes: tuple[Attribute, ...]) -> ResourceAttributes:
        """These attributes and ``attributes`` (an extension's); a name clash raises."""
        return ResourceAttributes(self.resource, self.attributes + tuple(attributes))

    def redefined(self, attributes: tuple[Attribute, ...]) -> ResourceAttributes:
        """These attributes with some replaced by ``attributes`` of the same names."""
        replacing = {attribute.name: attribute for attribute in attributes}
        unknown = sorted(set(replacing) - set(self.by_name))
        if unknown:
            raise ValueError(f"it redefines {', '.join(unknown)} of {self.resource}, which "
                             "no loaded extension defines")
        return ResourceAttributes(self.resource, tuple(
            replacing.get(attribute.name, attribute) for attribute in self.attributes))

    def view(self, item: dict[str, Any]) -> dict[str, Any]:
        """``item`` as the API shows it: only the attributes of this map."""
        return {name: value for name, value in item.items() if name in self.by_name}

    def for_create(self, body: dict[str, Any]) -> dict[str, Any]:
        """The converted body with defaults filled in."""
        result = self._convert(body, "create")
        for attribute in self.attributes:
            if attribute.name in result or not attribute.create:
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
            if not getattr(attribute, action) or attribute.convert is None:
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


def common() -> tuple[Attribute, ...]:
    """What every tenant resource has: id, name, description and its project."""
    return (
        Attribute("id"),
        Attribute("name", v.string, ""),
        Attribute("description", v.string, ""),
        Attribute("tenant_id", v.string, update=False),
        Attribute("project_id", v.string, update=False),
    )


def timestamps() -> tuple[Attribute, ...]:
    return read_only("created_at", "updated_at")
