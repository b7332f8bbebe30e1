"""The REST controller of one resource: list, show, create, update, delete.

Translates between HTTP requests and a resource service: unwraps and checks
bodies ({"network": {...}}), filters lists by query parameters, wraps results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neutrino.server.api.urlmap import Request, Response, UrlMap
from neutrino.server.lib import errors
from neutrino.server.lib.attributes import ResourceAttributes

# Query parameters that shape a list rather than filter it.  Paging and
# sorting are not supported and ignored (the whole list is one page); 'fields'
# picks the attributes each item shows.
_NON_FILTERS = frozenset({"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse"})


def _value_matches(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return wanted.lower() == str(value).lower()
    if value is None:
        return wanted in ("", "None", "null")
    if isinstance(value, list):
        # fixed_ips=ip_address=10.0.0.5 matches a port with that address.
        key, sep, expected = wanted.partition("=")
        if sep:
            return any(isinstance(item, dict) and str(item.get(key)) == expected
                       for item in value)
        return wanted in (str(item) for item in value)
    return str(value) == wanted


def only_fields(item: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """``item`` cut down to the wanted ``fields``; all of it when none are wanted.

    Clients (openstacksdk, the openstack CLI) ask for the columns they show,
    as ``?fields=id&fields=name``; unknown names are ignored, as in Neutron.
    """
    wanted = {name for name in fields if name}
    if not wanted:
        return item
    return {name: value for name, value in item.items() if name in wanted}


def matches(item: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    """True if for every filtered attribute, ``item`` has any of the wanted values."""
    return all(any(_value_matches(item.get(name), wanted) for wanted in values)
               for name, values in filters.items())


@dataclass
class ResourceController:
    """``attributes`` is the extended map: what bodies may hold and what items show."""

    resource: str
    collection: str
    service: Any
    attributes: ResourceAttributes
    allow_create: bool = True

    @property
    def body_key(self) -> str:
        """What a list body is keyed by: the collection with underscores, as Neutron's
        (/security-groups lists {"security_groups": [...]})."""
        return self.collection.replace("-", "_")

    def register(self, urls: UrlMap, prefix: str = "/v2.0") -> None:
        base = f"{prefix}/{self.collection}"
        urls.add("GET", base, self.index)
        urls.add("GET", base + "/{id}", self.show)
        urls.add("PUT", base + "/{id}", self.update)
        urls.add("DELETE", base + "/{id}", self.delete)
        if self.allow_create:
            urls.add("POST", base, self.create)

    @staticmethod
    def _parents(request: Request) -> dict[str, str]:
        """The ids a nested collection's path names before its own (a QoS rule's
        ``policy_id``), given to every call of its service as keywords."""
        return {name: value for name, value in request.params.items() if name != "id"}

    def index(self, request: Request) -> Response:
        filters = {name: values for name, values in request.query.items()
                   if name not in _NON_FILTERS}
        for name in filters:
            if name not in self.attributes.by_name:
                raise errors.BadRequest(
                    f"'{name}' is not an attribute of {self.collection} to filter on")
        fields = request.query.get("fields", [])
        items = [only_fields(self.attributes.view(item), fields)
                 for item in self.service.list(**self._parents(request))
                 if matches(item, filters)]
        return Response(200, {self.body_key: items})

    def show(self, request: Request) -> Response:
        item = self.attributes.view(self.service.get(request.params["id"],
                                                     **self._parents(request)))
        return Response(200, {self.resource: only_fields(item, request.query.get("fields", []))})

    def create(self, request: Request) -> Response:
        body = self.attributes.for_create(self._unwrap(request.body))
        created = self.service.create(body, **self._parents(request))
        return Response(201, {self.resource: self.attributes.view(created)})

    def update(self, request: Request) -> Response:
        body = self.attributes.for_update(self._unwrap(request.body))
        item = self.service.update(request.params["id"], body, **self._parents(request))
        return Response(200, {self.resource: self.attributes.view(item)})

    def delete(self, request: Request) -> Response:
        self.service.delete(request.params["id"], **self._parents(request))
        return Response(204)

    def _unwrap(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or set(body) != {self.resource}:
            if isinstance(body, dict) and self.body_key in body:
                raise errors.BadRequest(f"Bulk {self.collection} requests are not supported")
            raise errors.BadRequest(
                f"The request body must be a JSON object with the one key '{self.resource}'")
        inner = body[self.resource]
        if not isinstance(inner, dict):
            raise errors.BadRequest(f"'{self.resource}' in the request body must be an object")
        return inner
