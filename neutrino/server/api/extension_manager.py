"""Finding extension descriptors on the extension path and keeping the supported ones.

The path is the server's own ``extensions/`` folder, then the directories of
``api_extensions_path``, then each loaded plugin package's ``extensions/``
folder.  Every ``*.py`` file there (but ``_*.py``) is a descriptor module
(see ``lib.descriptors``).  A descriptor is kept when a loaded plugin
supports its alias, the aliases it requires are kept too, and every
resource it extends is served; its attributes then join those resources'
attribute maps.  The rest are dropped, and the log says which and why.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import sys
from collections.abc import Iterable, Mapping, Sequence

from neutrino.server.lib.attributes import ResourceAttributes
from neutrino.server.lib.descriptors import ExtensionDescriptor

LOG = logging.getLogger(__name__)

IN_TREE_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "extensions")


@dataclasses.dataclass(frozen=True)
class Found:
    descriptor: ExtensionDescriptor
    path: str


def plugin_extension_paths(plugins: Iterable[object]) -> list[str]:
    """Each plugin package's own ``extensions/`` folder, where there is one."""
    paths = []
    for plugin in plugins:
        module = sys.modules[type(plugin).__module__]
        folder = os.path.join(os.path.dirname(module.__file__ or ""), "extensions")
        if os.path.isdir(folder) and folder not in paths:
            paths.append(folder)
    return paths


def _load_descriptor(path: str, module_name: str) -> ExtensionDescriptor:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"extension descriptor {path} cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[module_name]
        raise ValueError(f"extension descriptor {path} failed to load: {error!r}") from None
    descriptor = getattr(module, "DESCRIPTOR", None)
    if not isinstance(descriptor, ExtensionDescriptor):
        raise ValueError(f"extension descriptor {path} defines no DESCRIPTOR = "
                         "ExtensionDescriptor(...)")
    return descriptor


def find_descriptors(paths: Sequence[str]) -> dict[str, Found]:
    """Every descriptor on ``paths``, by alias; a ValueError for a bad or doubled one."""
    found: dict[str, Found] = {}
    for index, directory in enumerate(paths):
        if not os.path.isdir(directory):
            raise ValueError(f"api_extensions_path: {directory!r} is not a directory")
        for file_name in sorted(os.listdir(directory)):
            if not file_name.endswith(".py") or file_name.startswith("_"):
                continue
            path = os.path.join(directory, file_name)
            descriptor = _load_descriptor(path, f"_neutrino_extension_{index}_{file_name[:-3]}")
            if descriptor.alias in found:
                raise ValueError(f"extension alias {descriptor.alias!r} is defined twice: in "
                                 f"{found[descriptor.alias].path} and in {path}")
            found[descriptor.alias] = Found(descriptor, path)
    return found


class ExtensionManager:
    """The descriptors kept, and the attribute maps they extend."""

    def __init__(self, paths: Sequence[str], supported: set[str],
                 attribute_maps: Mapping[str, ResourceAttributes]):
        found = find_descriptors(paths)
        missing = sorted(supported - found.keys())
        if missing:
            raise ValueError(f"loaded plugins support extension(s) {', '.join(missing)}, but no "
                             f"descriptor of them is on the extension path ({', '.join(paths)})")
        self.dropped: dict[str, str] = {}
        kept = {alias: item for alias, item in found.items() if alias in supported}
        for alias in sorted(found.keys() - kept.keys()):
            self._drop(alias, found[alias].path, "no loaded plugin supports it")
        self._drop_unmet(kept, attribute_maps)
        self.loaded = [kept[alias].descriptor for alias in sorted(kept)]
        self.attribute_maps = self._extend(attribute_maps)
        LOG.info("extensions loaded: %s", ", ".join(kept) or "none")

    def _drop(self, alias: str, path: str, reason: str) -> None:
        self.dropped[alias] = reason
        LOG.info("extension %s (%s) dropped: %s", alias, path, reason)

    def _drop_unmet(self, kept: dict[str, Found], attribute_maps: Mapping[str, object]) -> None:
        """Drop what requires a dropped alias or extends a resource nobody serves."""
        changed = True
        while changed:
            changed = False
            for alias, item in sorted(kept.items()):
                lacking = [name for name in item.descriptor.requires if name not in kept]
                unserved = [name for name in sorted(item.descriptor.resources)
                            if name not in attribute_maps]
                if lacking or unserved:
                    reason = (f"it requires {', '.join(lacking)}, which is not loaded" if lacking
                              else f"it extends {', '.join(unserved)}, which no loaded plugin "
                                   "serves")
                    LOG.warning("extension %s is supported but dropped: %s", alias, reason)
                    self._drop(alias, item.path, reason)
                    del kept[alias]
                    changed = True

    def _extend(self, attribute_maps: Mapping[str, ResourceAttributes]
                ) -> dict[str, ResourceAttributes]:
        extended = dict(attribute_maps)
        # Every addition first, so a redefinition finds what it replaces
        # whatever the order the aliases sort in.
        for field in ("attributes", "redefines"):
            for descriptor in self.loaded:
                for resource, attributes in getattr(descriptor, field).items():
                    try:
                        attribute_map = extended[resource]
                        extended[resource] = (attribute_map.extended(attributes)
                                              if field == "attributes"
                                              else attribute_map.redefined(attributes))
                    except ValueError as error:
                        raise ValueError(f"extension {descriptor.alias}: {error}") from None
        return extended

    def descriptor(self, alias: str) -> ExtensionDescriptor | None:
        return next((d for d in self.loaded if d.alias == alias), None)
