"""The OVS a test process reaches without naming one: its first host's.

Some of the suite's code asks Neutron for "the" Open vSwitch of the
machine: ``checks.ovs_conntrack_supported()`` (the security group module's
skip condition) makes a bridge through ``ovs_lib.OVSBridge`` and runs
``ovs-ofctl`` by bridge name, and the firewall module builds an
``OVSBridge`` for its host's br-int.  On a devstack node that is the
machine's OVS, where the agents are.  Here every host has an OVS instance
of its own and the machine has none: for the test's duration, Neutron's
process-wide OVSDB connection and ``ovs-ofctl`` point at the first host's
instance (``[OVS] ovsdb_connection``, ``datapath_type``, ``OVS_RUNDIR``),
and the connection Neutron made there is closed with the test.
"""

from __future__ import annotations

import fixtures
from neutron.agent.ovsdb import impl_idl
from neutron.conf.agent import ovsdb_api
from neutron.conf.plugins.ml2.drivers import ovs_conf
from oslo_config import cfg

from fullstack.resources import ovs


class DefaultOvs(fixtures.Fixture):
    """Neutron's default OVS is ``instance`` while the fixture lasts."""

    def __init__(self, instance: ovs.OvsInstance):
        super().__init__()
        self.instance = instance

    def _setUp(self) -> None:
        ovsdb_api.register_ovsdb_api_opts(cfg.CONF)
        ovs_conf.register_ovs_agent_opts(cfg.CONF)
        self.useFixture(fixtures.EnvironmentVariable("OVS_RUNDIR", self.instance.run_dir))
        for option, value in (("ovsdb_connection", self.instance.db_socket),
                              ("datapath_type", self.instance.datapath_type)):
            cfg.CONF.set_override(option, value, group="OVS")
            self.addCleanup(cfg.CONF.clear_override, option, group="OVS")
        self.addCleanup(self._close_connection)

    @staticmethod
    def _close_connection() -> None:
        """Neutron keeps its connection for the process: the next test's first
        host is another OVS."""
        connection = impl_idl._connection
        if connection is not None:
            connection.stop(timeout=5)
            impl_idl._connection = None
            impl_idl._idl_monitor = None
