"""Converters for API attribute values.

Each takes a value from a request body and returns it in canonical form, or
raises ``ValueError`` with a reason that reads well after "Invalid input for
<attribute>: ".
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

Converter = Callable[[Any], Any]

_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def string(value: Any, max_length: int = 255) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a valid string")
    if len(value) > max_length:
        raise ValueError(f"'{value[:20]}...' is longer than {max_length} characters")
    return value


def nullable(convert: Converter) -> Converter:
    def convert_or_none(value: Any) -> Any:
        return None if value is None else convert(value)
    return convert_or_none


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{value!r} is not a valid boolean")


def integer(value: Any) -> int:
    # Some clients send numbers as strings; accept those, but not bools.
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a valid integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a valid integer") from None


def uuid_string(value: Any) -> str:
    try:
        return str(uuid.UUID(string(value)))
    except ValueError:
        raise ValueError(f"{value!r} is not a valid UUID") from None


def ip_address(value: Any) -> str:
    try:
        return str(ipaddress.ip_address(string(value)))
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IP address") from None


def cidr(value: Any) -> str:
    if not isinstance(value, str) or "/" not in value:
        raise ValueError(f"{value!r} is not a valid CIDR")
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid CIDR") from None
    if str(network) != str(ipaddress.ip_interface(value)):
        raise ValueError(f"{value!r} has host bits set; did you mean '{network}'?")
    return str(network)


def mac_address(value: Any) -> str:
    if not isinstance(value, str) or not _MAC.match(value.lower()):
        raise ValueError(f"{value!r} is not a valid MAC address")
    return value.lower()


def one_of(*choices: Any) -> Converter:
    def convert(value: Any) -> Any:
        if value not in choices:
            listed = ", ".join(str(choice) for choice in choices)
            raise ValueError(f"{value!r} is not one of {listed}")
        return value
    return convert


def any_dict(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{value!r} is not a dictionary")
    return value


def list_of(convert: Converter) -> Converter:
    def convert_list(value: Any) -> list:
        if not isinstance(value, list):
            raise ValueError(f"{value!r} is not a list")
        return [convert(item) for item in value]
    return convert_list


def dict_of(fields: Mapping[str, Converter], required: frozenset[str] = frozenset()) -> Converter:
    """A dict with only ``fields`` as keys, each converted; ``required`` must be present."""
    def convert(value: Any) -> dict:
        value = any_dict(value)
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} in {value!r}; "
                             f"expected {', '.join(sorted(fields))}")
        missing = sorted(required - set(value))
        if missing:
            raise ValueError(f"{value!r} lacks the key {missing[0]!r}")
        return {key: fields[key](item) for key, item in value.items()}
    return convert
