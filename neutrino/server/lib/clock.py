"""Time as the server stores and shows it: naive UTC in the database, ISO 8601 'Z' in the API."""

from __future__ import annotations

import datetime

API_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> datetime.datetime:
    # Naive UTC: MySQL DATETIME has no time zone, and SQLite would hand
    # back naive values anyway, so both databases compare alike.
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def to_api(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.strftime(API_FORMAT)


def parse(value: str) -> datetime.datetime:
    """Read an ISO 8601 time ('Z', an offset or naive UTC) as naive UTC."""
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return parsed
