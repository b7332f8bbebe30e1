"""neutrino's server as its server zygote (services/zygote.py) forks it.

The zygote imports PRELOAD once: the server and the plugins the harness
always configures (a test that adds another, such as regions, imports it
in its own server).  Each fork runs ``neutrino-server --config-file FILE``
as ``python -m neutrino.server`` would.  Modules are named as strings: the
harness starts neutrino and never imports it.
"""

import os
import sys

MAINS = {"neutrino-server": "neutrino.server.__main__:main"}
PRELOAD = (
    "neutrino.server.__main__",
    "neutrino.server.plugins.ml2.plugin",
    "neutrino.server.plugins.l3.plugin",
    "neutrino.server.plugins.dhcp.plugin",
    "neutrino.server.plugins.securitygroup.plugin",
)


def prepare_zygote():
    """Nothing: the server needs no set-up before its imports."""


def prepare_child():
    """What ``python -m`` gives the program: its working directory first on
    sys.path (where a test's modules named by import path are found)."""
    sys.path.insert(0, os.getcwd())
