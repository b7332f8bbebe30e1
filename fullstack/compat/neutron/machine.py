"""``neutron.tests.fullstack.resources.machine``, on this harness.

A machine is the harness's (``fullstack.machine.FakeFullstackMachine``: a
namespace named with the run's prefix, its NIC a veth whose other end is a
port of its host's br-int, with the iface-id Nova would set), seen through
Neutron's ``FakeMachineBase``: ``port`` is the NIC as an ``ip_lib.IPDevice``,
``neutron_port`` the API's port, and pinging is Neutron's own
(``net_helpers``).
"""

from __future__ import annotations

import itertools
import os
import socket

import netaddr
from neutron.agent.linux import ip_lib
from neutron.common import utils as common_utils
from neutron.tests.common import machine_fixtures
from neutron_lib import constants
from neutron_lib.api.definitions import portbindings as pbs

from fullstack import machine as harness_machine
from fullstack.resources import cable, daemon, link, namespace

IFA_F_TENTATIVE = 0x40   # linux/if_addr.h: duplicate address detection not done yet


class FakeFullstackMachinesList(list):
    """Machines, with what the suite does to all of them."""

    def block_until_all_boot(self):
        for vm in self:
            vm.block_until_boot()

    def block_until_all_dhcp_config_done(self):
        for vm in self:
            vm.block_until_dhcp_config_done()

    def ping_all(self):
        for vm_1, vm_2 in itertools.permutations(self, 2):
            vm_1.block_until_ping(vm_2.ip)

    def ping6_all(self):
        for vm_1, vm_2 in itertools.permutations(self, 2):
            vm_1.block_until_ping(vm_2.ipv6)


class FakeFullstackMachine(machine_fixtures.FakeMachineBase):
    """A machine on ``host`` with a port on ``network_id`` (Neutron's arguments)."""

    def __init__(self, host, network_id, tenant_id, safe_client, neutron_port=None,
                 bridge_name=None, use_dhcp=False, use_dhcp6=False):
        super().__init__()
        self.host = host
        self.tenant_id = tenant_id
        self.network_id = network_id
        self.safe_client = safe_client
        self.neutron_port = neutron_port
        self.bridge_name = bridge_name
        self.use_dhcp = use_dhcp
        self.use_dhcp6 = use_dhcp6
        self._ip = self._ip_cidr = self._ipv6 = None
        self._dhclient6: daemon.ProcessFixture | None = None
        self.gateway_ip = self.gateway_ipv6 = None

    def _setUp(self):
        # Not Neutron's FakeMachineBase._setUp: the harness names the namespace.
        if self.bridge_name is not None:
            raise NotImplementedError(
                f"bridge_name={self.bridge_name!r}: machines on trunk bridges are not "
                "built by this harness")
        self.bridge = self.host.get_bridge()
        if not self.neutron_port:
            # Neutron's client fixture: the port goes with the test.
            self.neutron_port = self.safe_client.create_port(
                network_id=self.network_id, tenant_id=self.tenant_id,
                hostname=self.host.hostname)
        self.inner = self.useFixture(harness_machine.FakeFullstackMachine(
            self.host.harness_host, self.network_id, self.tenant_id,
            self.host.environment.harness_safe_client, use_dhcp=self.use_dhcp,
            neutron_port=self.neutron_port, nic_named_as_tap=True, claim_as_compute=False))
        self.neutron_port = self.inner.port
        self.namespace = self.inner.namespace
        # Named as its br-int port: the suite looks the port up by this name.
        self.port = ip_lib.IPDevice(self.inner.nic, namespace=self.namespace)
        for fixed_ip in self.neutron_port["fixed_ips"]:
            subnet = self.safe_client.client.show_subnet(fixed_ip["subnet_id"])["subnet"]
            if netaddr.IPAddress(fixed_ip["ip_address"]).version == constants.IP_VERSION_6:
                self._ipv6 = fixed_ip["ip_address"]
                self.gateway_ipv6 = subnet["gateway_ip"]
            elif self._ip is None:
                self._ip = fixed_ip["ip_address"]
                prefixlen = netaddr.IPNetwork(subnet["cidr"]).prefixlen
                self._ip_cidr = f"{self._ip}/{prefixlen}"
                self.gateway_ip = subnet["gateway_ip"]

    @property
    def ip(self):
        return self._ip

    @property
    def ip_cidr(self):
        return self._ip_cidr

    @property
    def ipv6(self):
        return self._ipv6

    def ip_configured(self):
        return any(addr.get("cidr") == self.ip_cidr
                   for addr in self.port.addr.list(ip_version=constants.IP_VERSION_4))

    def gateway_configured(self):
        gateway = self.port.route.get_gateway()
        return bool(gateway) and gateway.get("via") == self.gateway_ip

    def block_until_boot(self):
        """ACTIVE in the API (and, with DHCP, its lease taken: the harness starts
        dhclient once the port is wired, as an instance boots once Nova hears so;
        with DHCPv6, dhclient -6 starts then too)."""
        self.inner.block_until_boot()
        if self.use_dhcp6 and self._dhclient6 is None:
            # dhclient -6 binds to the link-local address: it exits if that is
            # still tentative (duplicate address detection, a second or two).
            common_utils.wait_until_true(
                self._link_local_ready, timeout=30, sleep=0.1,
                exception=machine_fixtures.FakeMachineException(
                    f"{self.port.name} has no usable link-local address after 30 s"))
            self._dhclient6 = self.useFixture(self._dhcpv6_client())

    def _link_local_ready(self) -> bool:
        with link.netlink(self.namespace) as ipr:
            index = link.link_index(ipr, self.inner.nic)
            return any(addr.get_attr("IFA_ADDRESS", "").startswith("fe80:")
                       and not addr.get_attr("IFA_FLAGS", addr["flags"]) & IFA_F_TENTATIVE
                       for addr in ipr.get_addr(index=index, family=socket.AF_INET6))

    def _dhcpv6_client(self) -> daemon.ProcessFixture:
        ctx = self.inner.ctx
        state = os.path.join(ctx.run_dir, "dhclient6", self.namespace)
        os.makedirs(state, exist_ok=True)
        return daemon.ProcessFixture(
            f"dhclient6-{self.namespace}",
            ["dhclient", "-d", "-v", "-6", "-sf", harness_machine.DHCLIENT_SCRIPT,
             "-pf", os.path.join(state, "dhclient.pid"),
             "-lf", os.path.join(state, "dhclient.leases"), self.inner.nic],
            ctx.owner, namespace=self.namespace)

    def block_until_dhcp_config_done(self):
        common_utils.wait_until_true(
            lambda: self.ip_configured() and self.gateway_configured(),
            exception=machine_fixtures.FakeMachineException(
                f"Address {self.ip_cidr} or gateway {self.gateway_ip} not configured "
                f"properly on port {self.port.name}"))

    def destroy(self, delete_port=False):
        """As an instance deleted: its port deleted or unbound, its NIC and
        namespace gone (the fixtures' cleanups then find nothing left)."""
        client = self.safe_client.client
        if delete_port:
            client.delete_port(self.neutron_port["id"])
        else:
            client.update_port(self.neutron_port["id"], {"port": {pbs.HOST_ID: ""}})
        self.bridge.delete_port(self.inner.ovs_port)
        ip_lib.delete_network_namespace(self.namespace)


class FabricMachine(machine_fixtures.FakeMachineBase):
    """Neutron's ``FakeMachine`` on a central bridge: a namespace whose NIC is a
    port of ``bridge`` (both ends share the port's name, so ``port.name`` names
    the OVS port too, as Neutron's internal port does)."""

    def __init__(self, bridge, ip_cidr, gateway_ip=None):
        super().__init__()
        self.bridge = bridge
        self._ip_cidr = ip_cidr
        self.gateway_ip = gateway_ip

    def _setUp(self):
        site = self.bridge.site
        ctx, number = site.ctx, site.next_machine_number()
        name = f"fab{number}"
        self.namespace = self.useFixture(
            namespace.Namespace(f"{ctx.prefix}-fab{number}")).name
        self.useFixture(cable.Cable(self.bridge.harness_bridge(), name, name,
                                    peer_namespace=self.namespace))
        self.port = ip_lib.IPDevice(name, namespace=self.namespace)
        link.add_address(name, self._ip_cidr, self.namespace)
        if self.gateway_ip:
            link.add_route(self.namespace, "0.0.0.0/0", gateway=self.gateway_ip)

    @property
    def ip(self):
        return self._ip_cidr.partition("/")[0]

    @property
    def ip_cidr(self):
        return self._ip_cidr
