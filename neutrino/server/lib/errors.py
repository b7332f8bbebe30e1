"""API errors: exceptions that carry an HTTP status and a Neutron error type.

Any layer of the server raises these; the HTTP layer turns them into
Neutron-style bodies, ``{"NeutronError": {"type", "message", "detail"}}``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error a client caused or must handle; ``status`` is its HTTP code."""

    status = 500
    default_type = "InternalServerError"

    def __init__(self, message: str, error_type: str | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.error_type = error_type or self.default_type
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"NeutronError": {"type": self.error_type, "message": self.message,
                                 "detail": self.detail}}


class BadRequest(ApiError):
    status = 400
    default_type = "HTTPBadRequest"


class NotFound(ApiError):
    status = 404
    default_type = "HTTPNotFound"


class MethodNotAllowed(ApiError):
    status = 405
    default_type = "HTTPMethodNotAllowed"


class Conflict(ApiError):
    status = 409
    default_type = "Conflict"


class ServiceUnavailable(ApiError):
    status = 503
    default_type = "ServiceUnavailable"


def invalid_input(attribute: str, reason: str) -> BadRequest:
    """A 400 for one attribute: the message names it, then says what is wrong."""
    return BadRequest(f"Invalid input for {attribute}: {reason}")


def resource_not_found(resource: str, resource_id: str) -> NotFound:
    """E.g. type NetworkNotFound, "Network 3f2a... could not be found."."""
    label = resource.capitalize()
    return NotFound(f"{label} {resource_id} could not be found.", f"{label}NotFound")
