"""Where the Neutron the harness deploys is installed: beside the harness's own Python.

``tox -e dsvm-fullstack-neutron`` installs Neutron into the environment the
harness runs in, so its console scripts are next to ``sys.executable`` and
its shipped config files under ``sys.prefix``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import sys

from fullstack import prerequisites

TOX_ENV = "tox -e dsvm-fullstack-neutron"


class NeutronNotInstalled(prerequisites.MissingPrerequisite):
    """What is missing, and the tox environment that installs it (not the configure script)."""

    def __init__(self, what: str):
        Exception.__init__(self, f"{what}: run the suite with {TOX_ENV}, which installs "
                                 "Neutron and its pinned dependencies")


def bin_dir() -> str:
    return os.path.dirname(sys.executable)


def script(name: str) -> str:
    return os.path.join(bin_dir(), name)


@functools.cache
def version() -> str:
    return importlib.metadata.version("neutron")


def api_paste_config() -> str:
    return os.path.join(sys.prefix, "etc", "neutron", "api-paste.ini")


def check() -> None:
    """One clear message if Neutron (or a piece the harness runs) is not installed here."""
    try:
        version()
    except importlib.metadata.PackageNotFoundError:
        raise NeutronNotInstalled(
            f"Neutron is not installed beside this Python ({sys.executable})") from None
    missing = [name for name in ("uwsgi", "neutron-rpc-server", "neutron-periodic-workers",
                                 "neutron-db-manage") if not os.path.exists(script(name))]
    if not os.path.exists(api_paste_config()):
        missing.append(api_paste_config())
    if missing:
        raise NeutronNotInstalled(f"Neutron {version()} lacks {', '.join(missing)}")
