"""The JSON bodies on the wire, and finding the endpoint method a message names.

A request (call, cast or notification) is ``{"method": name, "kwargs": {...}}``;
a reply is ``{"result": value}`` or ``{"error": {"type": name, "message": text}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from neutrino.common.rpc.errors import RemoteError

CONTENT_TYPE = "application/json"


class MalformedMessage(ValueError):
    """A body that is not a request or reply of this protocol."""


class NoSuchMethod(AttributeError):
    """The message names no public method of the endpoint."""


def _dumps(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedMessage(f"body is not JSON: {exc}") from exc


def encode_request(method: str, kwargs: dict[str, Any]) -> bytes:
    return _dumps({"method": method, "kwargs": kwargs})


def decode_request(body: bytes) -> tuple[str, dict[str, Any]]:
    document = _loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("method"), str):
        raise MalformedMessage(f"request has no method name: {body[:200]!r}")
    kwargs = document.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise MalformedMessage(f"request kwargs are not an object: {body[:200]!r}")
    return document["method"], kwargs


def encode_result(result: object) -> bytes:
    try:
        return _dumps({"result": result})
    except (TypeError, ValueError) as exc:
        # The caller learns why instead of waiting for a reply that never comes.
        return encode_error(exc)


def encode_error(exc: BaseException) -> bytes:
    return _dumps({"error": {"type": type(exc).__name__, "message": str(exc)}})


def decode_reply(body: bytes) -> Any:
    """The result a reply carries; raises RemoteError if it carries an error."""
    document = _loads(body)
    if not isinstance(document, dict):
        raise MalformedMessage(f"reply is not an object: {body[:200]!r}")
    if "error" in document:
        error = document["error"] if isinstance(document["error"], dict) else {}
        raise RemoteError(str(error.get("type", "Error")), str(error.get("message", "")))
    return document.get("result")


def public_methods(endpoint: object) -> list[str]:
    return sorted(
        name
        for name in dir(endpoint)
        if not name.startswith("_") and callable(getattr(endpoint, name, None))
    )


def find_handler(endpoint: object, method: str) -> Callable[..., Any]:
    # Underscore names stay private so a message cannot reach __init__ or helpers.
    handler = None if method.startswith("_") else getattr(endpoint, method, None)
    if not callable(handler):
        raise NoSuchMethod(f"{type(endpoint).__name__} has no public method {method!r}")
    return handler
