"""The fabric every host of a deployment hangs off: control and tunnel networks, central OVS.

One per environment, whatever its regions::

    root ns:    <prefix>-ctl, a Linux bridge holding the control network's
                gateway address (the servers and RabbitMQ are reached there)
    central ns: an OVS instance of its own with cnt-data (tunnels, VLAN and
                flat networks) and cnt-ex (the external network)
"""

from __future__ import annotations

import fixtures
import netaddr

from fullstack import context
from fullstack.descriptions import Datapath
from fullstack.resources import allocator, link, namespace, ovs
from fullstack.resources.namespace import Namespace
from fullstack.resources.ovs import OvsBridge, OvsInstance

CONTROL_GATEWAY_INDEX = 1


class CentralChassis(fixtures.Fixture):
    """The central namespace and its OVS instance with cnt-data and cnt-ex.

    It needs nothing else of the fabric, so an environment builds it while
    it makes the rest; ``adopted`` once a Fabric owns it (and cleans it up).
    """

    def __init__(self, ctx: context.RunContext, datapath: Datapath):
        super().__init__()
        self.ctx = ctx
        self.datapath = datapath
        self.adopted = False

    def __repr__(self) -> str:
        return f"<CentralChassis {self.ctx.prefix}>"

    def _setUp(self) -> None:
        ctx = self.ctx
        self.namespace = self.useFixture(namespace.Namespace(f"{ctx.prefix}-central"))
        namespace.set_sysctls(self.namespace.name, namespace.NO_IPV6)
        self.ovs = self.useFixture(ovs.OvsInstance(
            "central", self.namespace.name, ctx.ovs_run_dir("central"), ctx.owner,
            self.datapath))
        self.data_bridge = self.useFixture(self.ovs.bridge("cnt-data"))
        self.external_bridge = self.useFixture(self.ovs.bridge("cnt-ex"))
        self.addCleanup(self.ovs.stop)   # first: its bridges go with it


class Fabric(fixtures.Fixture):
    """Addresses from the allocator, the control bridge, the central namespace and OVS.

    Set-up makes the addresses and the control bridge, all a server needs to
    listen; ``add_central`` the rest (a CentralChassis made here if not given).
    """

    control_network: netaddr.IPNetwork
    tunnel_network: netaddr.IPNetwork
    control_ip: str            # the control bridge's: servers listen there
    control_bridge: link.LinuxBridge
    namespace: Namespace
    ovs: OvsInstance
    data_bridge: OvsBridge       # cnt-data
    external_bridge: OvsBridge   # cnt-ex

    def __init__(self, ctx: context.RunContext, datapath: Datapath):
        super().__init__()
        self.ctx = ctx
        self.datapath = datapath

    def __repr__(self) -> str:
        return f"<Fabric {self.ctx.prefix}>"

    def _setUp(self) -> None:
        ctx = self.ctx
        self.control_network = self.useFixture(
            allocator.NetworkAllocation(ctx.registry, ctx.prefix)).network
        self.tunnel_network = self.useFixture(
            allocator.NetworkAllocation(ctx.registry, ctx.prefix)).network
        self.control_ip = str(self.control_network[CONTROL_GATEWAY_INDEX])
        self.control_bridge = self.useFixture(link.LinuxBridge(
            f"{ctx.prefix}-ctl", f"{self.control_ip}/{self.control_network.prefixlen}"))

    def add_central(self, central: CentralChassis | None = None) -> None:
        """The central namespace and OVS, from then on the fabric's."""
        if central is None:
            central = self.useFixture(CentralChassis(self.ctx, self.datapath))
        else:
            central.adopted = True
            self.addCleanup(central.cleanUp)
        self.namespace = central.namespace
        self.ovs = central.ovs
        self.data_bridge = central.data_bridge
        self.external_bridge = central.external_bridge
