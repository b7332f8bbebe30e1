"""A server's calls to another server's API: the central one, or a region's local one.

Plain JSON over HTTP, as any Neutron client would speak it.  What goes
wrong comes back as the API errors the caller would raise itself: the
other side's 4xx as the same status and message, an unreachable server as
a 503 that names it.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from neutrino.server.lib import errors

LOG = logging.getLogger(__name__)

V1 = "/v1.0"   # the regions' own API (pods, routings, jobs), beside Neutron's /v2.0

_BY_STATUS: dict[int, type[errors.ApiError]] = {
    400: errors.BadRequest, 404: errors.NotFound, 405: errors.MethodNotAllowed,
    409: errors.Conflict, 503: errors.ServiceUnavailable}


class RemoteApi:
    """The API of the server at ``url``; ``who`` names it in errors ("region RegionOne")."""

    def __init__(self, url: str, who: str, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.who = who
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<RemoteApi {self.who} {self.url}>"

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as error:
            raise self._error(method, path, error) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise errors.ServiceUnavailable(
                f"{self.who} at {self.url} is unreachable ({reason}) for {method} {path}",
                "RegionUnreachable") from None
        return json.loads(raw) if raw else None

    def _error(self, method: str, path: str, error: urllib.error.HTTPError) -> errors.ApiError:
        try:
            detail = json.loads(error.read() or b"{}").get("NeutronError", {})
        except ValueError:
            detail = {}
        message = detail.get("message") or f"{error.code} {error.reason}"
        cls = _BY_STATUS.get(error.code, errors.ServiceUnavailable)
        return cls(f"{self.who}: {message}", detail.get("type"),
                   detail=f"{method} {path} answered {error.code}")

    # -- the Neutron API's shapes ---------------------------------------------
    def show(self, collection: str, resource: str, resource_id: str,
             prefix: str = "/v2.0") -> dict[str, Any]:
        return self.request("GET", f"{prefix}/{collection}/{resource_id}")[resource]

    def find(self, collection: str, resource: str, resource_id: str,
             prefix: str = "/v2.0") -> dict[str, Any] | None:
        """The resource, or None where the other side has none."""
        try:
            return self.show(collection, resource, resource_id, prefix)
        except errors.NotFound:
            return None

    def list(self, collection: str, prefix: str = "/v2.0",
             **filters: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode(filters)
        key = collection.replace("-", "_")
        return self.request("GET", f"{prefix}/{collection}" + (f"?{query}" if query else ""))[key]

    def create(self, collection: str, resource: str, body: dict[str, Any],
               prefix: str = "/v2.0") -> dict[str, Any]:
        return self.request("POST", f"{prefix}/{collection}", {resource: body})[resource]

    def update(self, collection: str, resource: str, resource_id: str, body: dict[str, Any],
               prefix: str = "/v2.0") -> dict[str, Any]:
        return self.request("PUT", f"{prefix}/{collection}/{resource_id}",
                            {resource: body})[resource]

    def delete(self, collection: str, resource_id: str, prefix: str = "/v2.0") -> bool:
        """Delete it; False if the other side had no such resource."""
        try:
            self.request("DELETE", f"{prefix}/{collection}/{resource_id}")
        except errors.NotFound:
            return False
        return True
