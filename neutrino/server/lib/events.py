"""The in-process event registry: how one plugin's change reaches another plugin.

A plugin publishes what happens to its resources; other plugins subscribe
by (resource, event) and never import it.  The core plugin, for example,
publishes ``(SUBNET, PRECOMMIT_CREATE)`` and the DHCP plugin schedules the
network from it; the core plugin publishes ``(PORT, BEFORE_DELETE)`` and
the router plugin refuses to let a router's port go.

Three kinds of event, as in Neutron's callbacks:

- ``BEFORE_*``: before the change, inside its transaction; a subscriber
  refuses it by raising (an ``errors.ApiError`` reaches the client).
- ``PRECOMMIT_*``: the change is made but not committed (a deleted row is
  still there, so what refers to it can be found); a subscriber does its
  own part in the same transaction (or refuses by raising).
- ``AFTER_*``: committed; a subscriber tells agents.  It cannot undo
  anything, so what it raises is logged and the other subscribers still run.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)

# Resources.
NETWORK = "network"
SUBNET = "subnet"
PORT = "port"

# Events.
BEFORE_DELETE = "before_delete"
PRECOMMIT_CREATE = "precommit_create"
PRECOMMIT_UPDATE = "precommit_update"
PRECOMMIT_DELETE = "precommit_delete"
AFTER_CREATE = "after_create"
AFTER_UPDATE = "after_update"
AFTER_DELETE = "after_delete"

_AFTER = (AFTER_CREATE, AFTER_UPDATE, AFTER_DELETE)


@dataclasses.dataclass
class Payload:
    """What an event carries.

    ``states`` are the resource as the API shows it: ``(before,)`` for a
    delete, ``(before, after)`` for an update, ``(after,)`` for a create.
    ``session`` and ``db_object`` are set for BEFORE and PRECOMMIT events
    only.  ``metadata`` is where a PRECOMMIT subscriber leaves what its own
    AFTER subscriber needs: one payload object serves both events.
    """

    resource_id: str
    states: tuple[dict[str, Any], ...] = ()
    request: dict[str, Any] = dataclasses.field(default_factory=dict)
    session: Any = None
    db_object: Any = None
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def latest(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}


Callback = Callable[[Payload], None]


class Registry:
    """Subscribers by (resource, event), called in the order they subscribed."""

    def __init__(self) -> None:
        self._subscribers: dict[tuple[str, str], list[Callback]] = {}

    def subscribe(self, callback: Callback, resource: str, event: str) -> None:
        self._subscribers.setdefault((resource, event), []).append(callback)

    def subscribers(self, resource: str, event: str) -> list[Callback]:
        return list(self._subscribers.get((resource, event), ()))

    def publish(self, resource: str, event: str, payload: Payload) -> None:
        for callback in self.subscribers(resource, event):
            if event not in _AFTER:
                callback(payload)
                continue
            try:
                callback(payload)
            except Exception:  # noqa: BLE001 - committed already; see the module doc
                LOG.exception("%s %s subscriber %s failed for %s", resource, event,
                              getattr(callback, "__qualname__", callback), payload.resource_id)
