"""ML2 extension drivers: how an API extension adds attributes to networks, subnets, ports.

A driver names the alias it implements; the core plugin then supports that
alias, so the alias's descriptor (which declares the attributes) is kept.
The driver stores what a create or update body gives for its attributes,
in the request's transaction, and adds them to every body the API shows
(the request bodies hold them because the descriptor's attributes joined
the resource's attribute map).
``[ml2] extension_drivers`` lists drivers by import path
(``package.module.Class``); an out-of-tree driver loads the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from neutrino.common import loading
from neutrino.server.db.database import Database
from neutrino.server.plugins.base import ResourceExtension

# In-tree drivers by short name; none yet.
KNOWN: dict[str, str] = {}


class ExtensionDriver(ResourceExtension):
    """Override what the driver's attributes need; the defaults do nothing."""

    extension_alias: ClassVar[str] = ""

    def initialize(self, db: Database) -> None:
        """Called once, after the core tables exist (a driver may add its own)."""


class ExtensionDrivers:
    """The configured drivers, each called in order."""

    def __init__(self, names: Sequence[str]):
        self.drivers: list[ResourceExtension] = []
        for name in names:
            cls = loading.load_class("[ml2] extension_drivers", name, KNOWN)
            if not issubclass(cls, ExtensionDriver) or not cls.extension_alias:
                raise ValueError(f"[ml2] extension_drivers {name!r}: {cls.__qualname__} is not "
                                 "an ExtensionDriver with an extension_alias")
            self.drivers.append(cls())

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(driver.extension_alias for driver in self.drivers
                     if isinstance(driver, ExtensionDriver))

    def add(self, extension: ResourceExtension) -> None:
        """A service plugin's extension, called after the configured drivers."""
        self.drivers.append(extension)

    def initialize(self, db: Database) -> None:
        for driver in self.drivers:
            if isinstance(driver, ExtensionDriver):
                driver.initialize(db)

    def process_create(self, resource: str, session: Session, body: dict[str, Any],
                       db_object: Any) -> None:
        for driver in self.drivers:
            driver.process_create(resource, session, body, db_object)

    def process_update(self, resource: str, session: Session, body: dict[str, Any],
                       db_object: Any) -> None:
        for driver in self.drivers:
            driver.process_update(resource, session, body, db_object)

    def extend_dict(self, resource: str, session: Session, db_object: Any,
                    result: dict[str, Any]) -> dict[str, Any]:
        for driver in self.drivers:
            driver.extend_dict(resource, session, db_object, result)
        return result
