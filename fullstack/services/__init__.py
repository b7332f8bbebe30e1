"""The systems the harness can deploy, behind one seam (``base.Service``).

``neutrino`` (the default) and ``neutron`` by short name; any other by the
import path of a ``Service`` class (``package.module.Class`` or
``package.module:Class``), such as a service for a Neutron fork.
"""

from __future__ import annotations

import importlib

from fullstack.services.base import Service

KNOWN = {
    "neutrino": "fullstack.services.neutrino:NeutrinoService",
    "neutron": "fullstack.services.neutron.service:NeutronService",
}


def is_known_or_path(name: str) -> bool:
    """Whether ``name`` can name a service at all (a short name, or a dotted path)."""
    return name in KNOWN or "." in name


def load(name: str) -> Service:
    """The service ``name``; a ValueError naming it if there is none such."""
    path = KNOWN.get(name, name)
    module_name, sep, class_name = path.partition(":")
    if not sep:
        module_name, _, class_name = path.rpartition(".")
    if not module_name:
        raise ValueError(f"service {name!r} is neither one of {', '.join(KNOWN)} nor an "
                         "import path such as package.module.Class")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"service {name!r}: cannot import {module_name} ({error})") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Service)):
        raise ValueError(f"service {name!r}: {module_name} has no Service class {class_name}")
    return cls()
