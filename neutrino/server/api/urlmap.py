"""A URL map: maps (method, path) to a handler and its path parameters.

Templates are paths whose ``{name}`` segments match any one segment, e.g.
``/v2.0/networks/{id}``. A trailing slash and a '.json' suffix (which old
Neutron clients append) are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neutrino.server.lib import errors


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)
    body: Any = None
    base_url: str = ""


@dataclass
class Response:
    status: int = 200
    body: Any = None


Handler = Callable[[Request], Response]


def _segments(path: str) -> list[str]:
    path = path.rstrip("/")
    if path.endswith(".json"):
        path = path[:-len(".json")]
    return [segment for segment in path.split("/") if segment]


@dataclass(frozen=True)
class _Route:
    method: str
    template: tuple[str, ...]
    handler: Handler

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.template):
            return None
        params = {}
        for expected, actual in zip(self.template, segments, strict=True):
            if expected.startswith("{") and expected.endswith("}"):
                params[expected[1:-1]] = actual
            elif expected != actual:
                return None
        return params


class UrlMap:
    def __init__(self) -> None:
        self._routes: list[_Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        self._routes.append(_Route(method.upper(), tuple(_segments(template)), handler))

    def routes(self) -> list[tuple[str, str]]:
        return [(route.method, "/" + "/".join(route.template)) for route in self._routes]

    def dispatch(self, request: Request) -> Response:
        """Call the matching handler; 404 for an unknown path, 405 for a known
        path with another method."""
        segments = _segments(request.path)
        allowed = []
        for route in self._routes:
            params = route.match(segments)
            if params is None:
                continue
            if route.method == request.method:
                request.params = params
                return route.handler(request)
            allowed.append(route.method)
        if allowed:
            raise errors.MethodNotAllowed(
                f"Method {request.method} is not allowed on {request.path}; "
                f"allowed: {', '.join(sorted(set(allowed)))}")
        raise errors.NotFound(f"The resource could not be found: {request.path}")
