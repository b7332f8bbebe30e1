"""Classes named in config files: a short name the code knows, or an import path.

So an out-of-tree plugin, driver or agent extension loads like an in-tree
one: ``package.module.Class`` or ``package.module:Class``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping


def load_class(option: str, name: str, known: Mapping[str, str]) -> type:
    """The class ``name`` stands for; a ValueError naming ``option`` if there is none."""
    path = known.get(name, name)
    module_name, sep, class_name = path.partition(":")
    if not sep:
        module_name, _, class_name = path.rpartition(".")
    if not module_name or not class_name:
        raise ValueError(f"{option} {name!r} is neither one of {', '.join(sorted(known))} "
                         "nor an import path such as package.module.Class")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"{option} {name!r}: cannot import {module_name} ({error})") from None
    found = getattr(module, class_name, None)
    if not isinstance(found, type):
        raise ValueError(f"{option} {name!r}: {module_name} has no class {class_name}")
    return found
