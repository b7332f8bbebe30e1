"""The sending end of the server's notifications to agents, shared by every plugin.

Each plugin says what it notifies (its own small notify module: ml2's
port_update and fdb_add, the router plugin's routers_updated, ...) and sends
through this one connection.  Notifications go out after the change is
committed, and a failure to send one never fails the API call that caused
it: agents resynchronise on their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

LOG = logging.getLogger(__name__)


class Sender(Protocol):
    def notify(self, event: str, **kwargs: Any) -> None: ...

    def close(self) -> None: ...


class Notifier:
    """Sends notifications through a sender created on first use."""

    def __init__(self, sender_factory: Callable[[], Sender] | None):
        # None: the server runs without RPC, and notifications are dropped.
        self._factory = sender_factory
        self._sender: Sender | None = None
        # Guards the lazy creation only: API and RPC threads may notify at once.
        self._lock = threading.Lock()

    def notify(self, event: str, **kwargs: Any) -> None:
        if self._factory is None:
            LOG.debug("no transport_url: dropping notification %s", event)
            return
        try:
            self._get_sender().notify(event, **kwargs)
        except Exception:  # noqa: BLE001 - the change is committed; see module doc
            LOG.warning("could not send notification %s %s", event, kwargs, exc_info=True)

    def close(self) -> None:
        with self._lock:
            sender, self._sender = self._sender, None
        if sender is not None:
            sender.close()

    def _get_sender(self) -> Sender:
        with self._lock:
            if self._sender is None:
                assert self._factory is not None
                # Created on first use, so a broker that is down while the
                # server starts only delays notifications.
                self._sender = self._factory()
            return self._sender


def unique(ids: Iterable[str | None]) -> list[str]:
    """The ids once each, in order, without empty ones: one notification names each once."""
    return list(dict.fromkeys(i for i in ids if i))
