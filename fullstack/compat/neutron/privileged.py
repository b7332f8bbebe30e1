"""Neutron's privileged calls in the test process, as the harness's root.

The suite's modules reach ``ip_lib`` (namespaces, devices), ``ovs_lib``
and ``net_helpers`` (ping, tcpdump in a namespace): Neutron's tests start
privsep daemons and run commands through ``sudo`` for them.  The test
process is root already: privileged functions run in it directly
(oslo.privsep's public ``set_client_mode(False)``), so no daemon is left
behind, and the root helper is ``root-helper.sh``, which runs the command
as its child, as sudo does (Neutron finds a command's pid that way).
"""

from __future__ import annotations

import os

import neutron.privileged
from neutron.conf.agent import common as agent_config
from oslo_config import cfg
from oslo_privsep import priv_context

ROOT_HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "root-helper.sh")


def run_in_process() -> None:
    """Idempotent: every Neutron privsep context in-process, sudo's stand-in."""
    for value in vars(neutron.privileged).values():
        if isinstance(value, priv_context.PrivContext):
            value.set_client_mode(False)
    agent_config.register_root_helper(cfg.CONF)
    cfg.CONF.set_override("root_helper", ROOT_HELPER, group="AGENT")
