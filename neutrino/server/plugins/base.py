"""What a plugin is: the resources, actions and RPC endpoints it serves, and its aliases.

The server is assembled from its plugins (see ``manager``): each declares
what it serves and which API extensions it implements, and the API and RPC
sides are built from those declarations.  A service plugin reaches the core
plugin only through ``CorePlugin``'s methods, and other service plugins not
at all: what it must learn of their changes arrives as events.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from oslo_config import cfg
from sqlalchemy.orm import Session

from neutrino.server.db import models
from neutrino.server.db.database import Database, after_commit
from neutrino.server.lib import events as events_module
from neutrino.server.lib.attributes import ResourceAttributes
from neutrino.server.lib.events import Registry
from neutrino.server.rpc.notifier import Notifier


class ResourceService(Protocol):
    """What a collection's controller calls."""

    def list(self) -> list[dict[str, Any]]: ...

    def get(self, resource_id: str) -> dict[str, Any]: ...

    def create(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def update(self, resource_id: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete(self, resource_id: str) -> None: ...


class NestedResourceService(Protocol):
    """What a nested collection's controller calls (``/qos/policies/{policy_id}/
    bandwidth_limit_rules``): ResourceService's methods, each also given the ids
    its path names before its own as keywords (``policy_id=...``)."""

    def list(self, *args: Any, **parents: Any) -> list[dict[str, Any]]: ...

    def get(self, *args: Any, **parents: Any) -> dict[str, Any]: ...

    def create(self, *args: Any, **parents: Any) -> dict[str, Any]: ...

    def update(self, *args: Any, **parents: Any) -> dict[str, Any]: ...

    def delete(self, *args: Any, **parents: Any) -> None: ...


@dataclasses.dataclass(frozen=True)
class Resource:
    """A collection: <prefix>/<collection> and <prefix>/<collection>/{id}.

    ``attributes`` are the plugin's own; loaded extensions add theirs.  A
    ``prefix`` with a ``{name}`` segment makes a nested collection, whose
    service is a NestedResourceService.
    """

    name: str
    collection: str
    attributes: ResourceAttributes
    service: ResourceService | NestedResourceService
    allow_create: bool = True
    # Where the collection lives: Neutron's API, or another (the regions' /v1.0).
    prefix: str = "/v2.0"


@dataclasses.dataclass(frozen=True)
class MemberAction:
    """``PUT /v2.0/<collection>/{id}/<name>``: ``handler(id, body)`` gives the reply body."""

    collection: str
    name: str
    handler: Callable[[str, Any], Any]


@dataclasses.dataclass(frozen=True)
class SubCollection:
    """``/v2.0/<parent>/{id}/<name>``: what a parent resource relates to.

    GET lists (``{key: list_items(id)}``); with ``add``, POST adds (201);
    with ``remove``, ``DELETE .../<name>/{child_id}`` removes (204).
    """

    parent: str
    name: str
    key: str
    list_items: Callable[[str], list[dict[str, Any]]]
    add: Callable[[str, Any], None] | None = None
    remove: Callable[[str, str], None] | None = None


@dataclasses.dataclass(frozen=True)
class PeriodicTask:
    """Work the server runs every ``interval`` s in a thread of its own, as
    Neutron's plugins add workers: rescheduling from dead agents, say."""

    name: str
    interval: float
    run: Callable[[], object]   # what it returns is ignored


class ResourceExtension:
    """Attributes a plugin adds to the core resources (networks, subnets, ports).

    It stores what a create or update body gives for them, in the request's
    transaction (before the change's PRECOMMIT event), and adds them to
    every body the API shows, events and agents' notifications included.
    Override what the attributes need; the defaults do nothing.
    """

    def process_create(self, resource: str, session: Session, body: dict[str, Any],
                       db_object: Any) -> None:
        """Store these attributes of the new ``db_object`` from its create ``body``."""

    def process_update(self, resource: str, session: Session, body: dict[str, Any],
                       db_object: Any) -> None:
        """Store the attributes an update ``body`` gives."""

    def extend_dict(self, resource: str, session: Session, db_object: Any,
                    result: dict[str, Any]) -> None:
        """Add these attributes to ``result``, the API body of ``db_object``."""


@dataclasses.dataclass(frozen=True)
class PluginContext:
    """What every plugin is built from."""

    conf: Any
    db: Database
    events: Registry
    notifier: Notifier


class Plugin:
    """A plugin: override what it serves; the defaults serve nothing."""

    supported_extension_aliases: ClassVar[tuple[str, ...]] = ()
    # Its options by group ("DEFAULT" too), registered when the server's
    # configuration names the plugin: an option of a plugin not loaded is
    # unknown to the server.  A subclass has its bases' as well.
    options: ClassVar[Mapping[str, Sequence[cfg.Opt]]] = {}

    def initialize(self) -> None:
        """Called once the server's tables exist, before it serves anything."""

    def resources(self) -> Sequence[Resource]:
        return ()

    def member_actions(self) -> Sequence[MemberAction]:
        return ()

    def sub_collections(self) -> Sequence[SubCollection]:
        return ()

    def rpc_endpoints(self) -> Sequence[object]:
        """Objects whose public methods agents call on the plugin topic."""
        return ()

    def periodic_tasks(self) -> Sequence[PeriodicTask]:
        return ()


class CorePlugin(Plugin, abc.ABC):
    """Networks, subnets and ports, and what service plugins may ask of them.

    The ``*_port`` methods work in the caller's transaction and publish the
    port's events as the API's own calls do, so every plugin hears of a
    port a service plugin made, changed or removed.
    """

    def __init__(self, context: PluginContext):
        self.context = context

    @property
    def supported_aliases(self) -> tuple[str, ...]:
        """This plugin's aliases and those of what it loaded (ML2's extension drivers)."""
        return self.supported_extension_aliases

    @abc.abstractmethod
    def add_resource_extension(self, extension: ResourceExtension) -> None:
        """A service plugin's attributes on networks, subnets or ports (security
        groups on ports, say), handled from now on as the core's own."""

    @abc.abstractmethod
    def add_port(self, session: Session, fields: dict[str, Any]) -> models.Port:
        """A new port: ``network_id`` and any of the API's port attributes, the rest default."""

    @abc.abstractmethod
    def update_port(self, session: Session, port: models.Port, changes: dict[str, Any]) -> None:
        """Apply ``changes`` (API attributes, already checked) to ``port``."""

    @abc.abstractmethod
    def remove_port(self, session: Session, port: models.Port) -> None:
        """Delete ``port``, whoever owns it (no BEFORE_DELETE check)."""

    @abc.abstractmethod
    def port_dict(self, session: Session, port: models.Port) -> dict[str, Any]:
        """The port as the API shows it."""

    @abc.abstractmethod
    def network_dict(self, session: Session, network: models.Network) -> dict[str, Any]:
        """The network as the API shows it."""

    @abc.abstractmethod
    def agent_dict(self, agent: models.Agent) -> dict[str, Any]:
        """The agent as the API shows it (alive or not, now)."""


class ServicePlugin(Plugin):
    """A plugin beside the core one, such as routers or DHCP scheduling."""

    def __init__(self, context: PluginContext, core: CorePlugin):
        self.context = context
        self.core = core


def publish_change(events: Registry, resource: str, change: str,
                   payload: events_module.Payload) -> None:
    """Publish ``PRECOMMIT_<change>`` now, inside the change's transaction
    (``payload.session``), and ``AFTER_<change>`` once that has committed.

    The AFTER event carries the same states, request and metadata, but no
    session or database object: those belong to the finished transaction.
    """
    events.publish(resource, f"precommit_{change}", payload)
    committed = dataclasses.replace(payload, session=None, db_object=None)
    after_commit(payload.session, lambda: events.publish(resource, f"after_{change}", committed))
