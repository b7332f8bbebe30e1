"""A test's own options reach the processes that read them, on either service.

``EnvironmentDescription(server_config=...)`` and ``HostDescription(
agent_config=...)`` are applied last to the files the server and the
agents read, under Neutron's names for the options; the effects are
checked where they show: a network's MTU, the lease a machine is given.
"""

from __future__ import annotations

import re

from fullstack import base, environment

PHYSNET_MTU = 1400
PATH_MTU = 1300
LEASE_SECONDS = 300


class TestConfigOverlays(base.BaseFullStackTestCase):
    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(
                network_type="vxlan",
                server_config={"DEFAULT": {"global_physnet_mtu": PHYSNET_MTU},
                               "ml2": {"path_mtu": PATH_MTU}}),
            [environment.HostDescription(dhcp_agent=True, agent_config={
                "dhcp": {"DEFAULT": {"dhcp_lease_duration": LEASE_SECONDS}}}),
             environment.HostDescription()]))

    def test_network_mtus_follow_the_physical_and_path_mtus(self):
        # Neutron's rule: a tunnel network gets the smaller of the two, less
        # its encapsulation (vxlan 50, gre 42 bytes); a VLAN network the
        # physical network's.
        vxlan = self.safe_client.create_network(self.tenant_id)
        gre = self.safe_client.create_network(self.tenant_id, **{
            "provider:network_type": "gre"})
        vlan = self.safe_client.create_network(self.tenant_id, **{
            "provider:network_type": "vlan", "provider:physical_network": "physnet1"})
        self.assertEqual({"vxlan": PATH_MTU - 50, "gre": PATH_MTU - 42, "vlan": PHYSNET_MTU},
                         {"vxlan": vxlan["mtu"], "gre": gre["mtu"], "vlan": vlan["mtu"]})

    def test_the_dhcp_agents_options_reach_the_lease_a_machine_gets(self):
        net = self.safe_client.create_network(self.tenant_id)
        self.safe_client.create_subnet(self.tenant_id, net["id"], "20.0.0.0/24",
                                       enable_dhcp=True)
        vms = self.boot_machines(self.environment.hosts, net["id"], use_dhcp=True)
        with open(vms[1].lease_path) as f:
            lease_times = re.findall(r"option dhcp-lease-time (\d+);", f.read())
        self.assertEqual(str(LEASE_SECONDS), lease_times[-1])
        vms.ping_all()
