"""OVSDB access for the agents, through ovsdbapp."""

from __future__ import annotations

from collections.abc import Callable

from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.schema.open_vswitch import impl_idl

OVSDB_TIMEOUT = 30


def connect(db_connection: str, on_change: Callable[[str, str], None] | None = None,
            timeout: float = OVSDB_TIMEOUT) -> impl_idl.OvsdbIdl:
    """An ovsdbapp API on ``db_connection`` (e.g. ``unix:/run/.../db.sock``).

    ``on_change(table, event)`` is called (from ovsdbapp's thread) for every
    row change the database reports, so an agent can wake on events instead
    of polling.  ovsdbapp stores the connection on the API class; a subclass
    per call keeps two APIs in one process from sharing their connections.
    """

    class NotifyingIdl(connection.OvsdbIdl):
        def notify(self, event, row, updates=None):
            super().notify(event, row, updates)
            if on_change is not None:
                on_change(row._table.name, event)

    idl = NotifyingIdl.from_server(db_connection, "Open_vSwitch")
    conn = connection.Connection(idl=idl, timeout=timeout)
    api_class = type("OvsdbApi", (impl_idl.OvsdbIdl,), {})
    return api_class(conn)


def disconnect(api: impl_idl.OvsdbIdl) -> None:
    api.ovsdb_connection.stop()
