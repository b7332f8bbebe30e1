"""Run a test command with Neutron's fullstack harness served by this layer.

stestr starts each test process as ``$PYTHON -m stestr.subunit_runner.run
...``; the ``dsvm-fullstack-neutron-upstream`` tox environment sets
``PYTHON`` to ``python -m fullstack.compat.neutron.boot``, so the test
process installs the aliases below first, then runs what it was asked to,
as ``python -m`` would.  Only the test process sees the aliases: the
server and agents are started by command line and import Neutron's own
modules.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import runpy
import sys
import types

# Neutron's module -> this layer's, which takes its place in sys.modules.
ALIASES = {
    "neutron.tests.fullstack.base": "fullstack.compat.neutron.base",
    "neutron.tests.fullstack.resources.environment": "fullstack.compat.neutron.environment",
    "neutron.tests.fullstack.resources.machine": "fullstack.compat.neutron.machine",
    "neutron.tests.common.net_helpers": "fullstack.compat.neutron.net_helpers",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target
        self._spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system stamped the alias's spec on it; it is still ours.
        module.__spec__ = self._spec


class AliasFinder(importlib.abc.MetaPathFinder):
    """Finds Neutron's harness modules in this layer (see ALIASES)."""

    def find_spec(self, fullname: str, path, target=None):
        wanted = ALIASES.get(fullname)
        if wanted is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(wanted))


def install() -> None:
    """Put the finder first on the import path (once)."""
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[0] != "-m":
        raise SystemExit("usage: python -m fullstack.compat.neutron.boot -m MODULE [ARGS...]")
    install()
    sys.argv = [argv[1], *argv[2:]]
    runpy.run_module(argv[1], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
