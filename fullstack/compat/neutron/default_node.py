"""The node a test process reaches without naming a host: its first host.

On a devstack node, Neutron's fullstack hosts shared the machine's root
namespace and its Open vSwitch, and some of the suite's code reaches for
them without naming a host: ``checks.ovs_conntrack_supported()`` (the
security group module's skip condition) makes a bridge through
``ovs_lib.OVSBridge`` and runs ``ovs-ofctl`` by bridge name; the firewall
module builds an ``OVSBridge`` for its host's br-int and reads the node's
iptables through ``IptablesManager()``.  Here every host has a namespace
and an OVS instance of its own, and the machine's root namespace is never
touched: for the test's duration, Neutron's process-wide OVSDB connection
and ``ovs-ofctl`` point at the first host's instance (``[OVS]
ovsdb_connection``, ``datapath_type``, ``OVS_RUNDIR``; the connection made
there is closed with the test), and an ``IptablesManager`` made without a
namespace is the first host's namespace's.
"""

from __future__ import annotations

import fixtures
from neutron.agent.linux import iptables_manager
from neutron.agent.ovsdb import impl_idl
from neutron.conf.agent import ovsdb_api
from neutron.conf.plugins.ml2.drivers import ovs_conf
from oslo_config import cfg

from fullstack.resources import ovs


class DefaultNode(fixtures.Fixture):
    """Neutron's default OVS is ``instance``, its default namespace ``namespace``,
    while the fixture lasts."""

    def __init__(self, instance: ovs.OvsInstance, namespace: str):
        super().__init__()
        self.instance = instance
        self.namespace = namespace

    def _setUp(self) -> None:
        ovsdb_api.register_ovsdb_api_opts(cfg.CONF)
        ovs_conf.register_ovs_agent_opts(cfg.CONF)
        self.useFixture(fixtures.EnvironmentVariable("OVS_RUNDIR", self.instance.run_dir))
        for option, value in (("ovsdb_connection", self.instance.db_socket),
                              ("datapath_type", self.instance.datapath_type)):
            cfg.CONF.set_override(option, value, group="OVS")
            self.addCleanup(cfg.CONF.clear_override, option, group="OVS")
        self.addCleanup(self._close_connection)
        self.useFixture(fixtures.MonkeyPatch(
            "neutron.agent.linux.iptables_manager.IptablesManager.__init__",
            self._in_namespace(iptables_manager.IptablesManager.__init__)))

    def _in_namespace(self, init):
        node = self.namespace

        def __init__(manager, *args, **kwargs):
            if len(args) < 4 and not kwargs.get("namespace"):
                kwargs["namespace"] = node
            init(manager, *args, **kwargs)

        return __init__

    @staticmethod
    def _close_connection() -> None:
        """Neutron keeps its connection for the process: the next test's first
        host is another OVS."""
        connection = impl_idl._connection
        if connection is not None:
            connection.stop(timeout=5)
            impl_idl._connection = None
            impl_idl._idl_monitor = None
