"""Bridges that answer as Neutron's ``ovs_lib.OVSBridge``, on a harness OVS instance.

The suite reads flows, ports and QoS rows through ``ovs_lib`` on the host's
bridges.  Neutron's ``OVSBridge`` talks to the one OVSDB of
``[OVS] ovsdb_connection`` and runs ``ovs-ofctl`` against the machine's
OVS; each harness host has an OVS instance of its own, in its namespace.
``HostBridge`` is Neutron's class, every method its own, with the two
channels pointed at the host's instance: its ovsdbapp API, and
``ovs-ofctl`` with the instance's run directory.
"""

from __future__ import annotations

import logging
import os
import subprocess

from neutron.agent.common import ovs_lib

from fullstack.resources import ovs

LOG = logging.getLogger(__name__)


class _InstanceOVS(ovs_lib.BaseOVS):
    """``BaseOVS`` bound to one harness OVS instance (set by HostBridge)."""

    _instance: ovs.OvsInstance

    def __init__(self) -> None:   # Neutron's reaches for its process-wide connection
        self.ovsdb = self._instance.api
        self._hw_offload = None


class HostBridge(ovs_lib.OVSBridge, _InstanceOVS):
    """Bridge ``name`` of ``instance`` (a host's OVS, or the central one)."""

    def __init__(self, instance: ovs.OvsInstance, name: str, site=None):
        self._instance = instance
        #: The deployment's CentralSite (for what builds on the bridge: FakeMachine).
        self.site = site
        super().__init__(name, datapath_type=instance.datapath_type)  # type: ignore[call-arg]

    @property
    def instance(self) -> ovs.OvsInstance:
        return self._instance

    def harness_bridge(self) -> ovs.OvsBridge:
        """The same bridge as the harness handles it (its namespace, its API)."""
        return self._instance.bridge(self.br_name)

    def run_ofctl(self, cmd, args, process_input=None):
        full = ["ovs-ofctl", cmd, "-O", self._highest_protocol_needed, self.br_name, *args]
        result = subprocess.run(full, input=process_input, capture_output=True, text=True,
                                timeout=60, env=dict(os.environ, **self._instance.env),
                                check=False)
        if result.returncode != 0:
            # As Neutron's: logged, and nothing returned.
            LOG.error("Unable to execute %s: %s", full, result.stderr)
            return None
        return result.stdout
