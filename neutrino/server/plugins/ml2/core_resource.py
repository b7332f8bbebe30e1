"""What networks, subnets and ports share: their API view, get and list, change events.

Each view is the resource's own dict extended by the ML2 extension drivers;
each change ends the same way in its transaction: the drivers store their
attributes, then the PRECOMMIT event goes out (its AFTER twin once the
transaction committed), carrying the resource as it was and as it is.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy.orm import Session

from neutrino.server.db import database, lookups, models
from neutrino.server.lib import events
from neutrino.server.plugins.base import publish_change
from neutrino.server.plugins.ml2.extension_drivers import ExtensionDrivers


class CoreResourceService:
    resource: ClassVar[str]                 # as events and the API name it: "network", ...
    model: ClassVar[type[models.Base]]

    def __init__(self, db: database.Database, registry: events.Registry,
                 drivers: ExtensionDrivers):
        self.db = db
        self.events = registry
        self.drivers = drivers

    def view(self, row: Any) -> dict[str, Any]:
        """The resource's own attributes, as the API shows them."""
        raise NotImplementedError

    def to_dict(self, session: Session, row: Any) -> dict[str, Any]:
        return self.drivers.extend_dict(self.resource, session, row, self.view(row))

    def get(self, resource_id: str) -> dict[str, Any]:
        return self.db.run(lambda session: self.to_dict(
            session, lookups.load(session, self.model, self.resource, resource_id)))

    def list(self) -> list[dict[str, Any]]:
        return self.db.list_all(self.model, self.to_dict)

    def created(self, session: Session, row: Any, body: dict[str, Any]) -> dict[str, Any]:
        """End a create: the drivers' attributes, then the events; the new view."""
        self.drivers.process_create(self.resource, session, body, row)
        session.flush()
        result = self.to_dict(session, row)
        publish_change(self.events, self.resource, "create",
                       events.Payload(row.id, (result,), body, session, row))
        return result

    def updated(self, session: Session, row: Any, body: dict[str, Any],
                before: dict[str, Any]) -> dict[str, Any]:
        """End an update (``before`` is the view before it): drivers, events; the new view."""
        self.drivers.process_update(self.resource, session, body, row)
        session.flush()
        after = self.to_dict(session, row)
        publish_change(self.events, self.resource, "update",
                       events.Payload(row.id, (before, after), body, session, row))
        return after

    def deleting(self, session: Session, row: Any) -> dict[str, Any]:
        """Publish a delete before the row goes (subscribers still find what refers to
        it); the view it had."""
        before = self.to_dict(session, row)
        publish_change(self.events, self.resource, "delete",
                       events.Payload(row.id, (before,), session=session, db_object=row))
        return before
