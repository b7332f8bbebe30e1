"""neutrino's agents as its agents' zygote (services/zygote.py) forks them.

Loaded by path in the zygote, which imports PRELOAD once; each fork runs
the agent's own main with its argv (``neutrino-openvswitch-agent
--config-file FILE``), in its host's network namespace, as ``python -m
neutrino.agents.ovs`` would.  Modules are named as strings: the harness
starts neutrino and never imports it.
"""

import os
import sys

MAINS = {
    "neutrino-openvswitch-agent": "neutrino.agents.ovs.__main__:main",
    "neutrino-l3-agent": "neutrino.agents.l3.__main__:main",
    "neutrino-dhcp-agent": "neutrino.agents.dhcp.__main__:main",
}
PRELOAD = tuple(path.partition(":")[0] for path in MAINS.values())
# Any other agent, by the import path of its main (HostExtension agents).
OTHER_MAINS = True


def prepare_zygote():
    """Nothing: neutrino's agents need no set-up before their imports."""


def prepare_child():
    """What ``python -m`` gives the program: its working directory first on
    sys.path (where a test's modules named by import path are found)."""
    sys.path.insert(0, os.getcwd())
