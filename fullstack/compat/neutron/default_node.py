"""The node a test process reaches without naming a host: its first host.

On a devstack node, Neutron's fullstack hosts shared the machine's root
namespace and its Open vSwitch, and some of the suite's code reaches for
them without naming a host: ``checks.ovs_conntrack_supported()`` (the
security group module's skip condition) makes a bridge through
``ovs_lib.OVSBridge`` and runs ``ovs-ofctl`` by bridge name; the firewall
module builds an ``OVSBridge`` for its host's br-int and reads the node's
iptables through ``IptablesManager()``.  Here every host has a namespace
and an OVS instance of its own, and the machine's root namespace is never
touched: for the test's duration, Neutron's process-wide OVSDB API
(``impl_idl.api_factory()``) is the first host's instance's (the harness's
own connection to it), ``ovs-ofctl`` finds that instance's bridges
(``OVS_RUNDIR``) and ``[OVS] datapath_type`` is its datapath; an
``IptablesManager`` made without a namespace is the first host's
namespace's.
"""

from __future__ import annotations

import fixtures
from neutron.agent.linux import iptables_manager
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
        ovs_conf.register_ovs_agent_opts(cfg.CONF)
        self.useFixture(fixtures.EnvironmentVariable("OVS_RUNDIR", self.instance.run_dir))
        cfg.CONF.set_override("datapath_type", self.instance.datapath_type, group="OVS")
        self.addCleanup(cfg.CONF.clear_override, "datapath_type", group="OVS")
        # Neutron's process-wide OVSDB API (a singleton on a connection kept
        # for the process) is the instance's own, which the harness owns.
        self.useFixture(fixtures.MonkeyPatch(
            "neutron.agent.ovsdb.impl_idl.api_factory", lambda: self.instance.api))
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
