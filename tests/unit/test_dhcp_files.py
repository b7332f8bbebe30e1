from __future__ import annotations

import testtools

from neutrino.agents.dhcp import dnsmasq_files

NETWORK = {
    "id": "net-1", "mtu": 1450,
    "subnets": [
        {"id": "sub-a", "cidr": "20.0.0.0/24", "ip_version": 4, "gateway_ip": "20.0.0.1",
         "enable_dhcp": True, "dns_nameservers": ["20.0.0.53"], "host_routes": []},
        {"id": "sub-b", "cidr": "20.0.1.0/24", "ip_version": 4, "gateway_ip": "20.0.1.1",
         "enable_dhcp": False, "dns_nameservers": [], "host_routes": []},
    ],
    "ports": [
        {"id": "p1", "mac_address": "fa:16:3e:00:00:01", "device_owner": "compute:x",
         "admin_state_up": True, "fixed_ips": [{"subnet_id": "sub-a", "ip_address": "20.0.0.5"},
                                               {"subnet_id": "sub-b", "ip_address": "20.0.1.5"}]},
        {"id": "dhcp", "mac_address": "fa:16:3e:00:00:02", "device_owner": "network:dhcp",
         "admin_state_up": True, "fixed_ips": [{"subnet_id": "sub-a", "ip_address": "20.0.0.2"}]},
    ],
}


class TestDnsmasqFiles(testtools.TestCase):
    def test_hosts_only_for_dhcp_subnets_and_not_the_dhcp_port(self):
        self.assertEqual("fa:16:3e:00:00:01,host-20-0-0-5,20.0.0.5\n",
                         dnsmasq_files.hosts_file(NETWORK))

    def test_options_name_gateway_dns_and_mtu(self):
        opts = dnsmasq_files.opts_file(NETWORK).splitlines()
        self.assertEqual(["tag:subnet-sub-a,option:router,20.0.0.1",
                          "tag:subnet-sub-a,option:dns-server,20.0.0.53",
                          "tag:subnet-sub-a,option:mtu,1450"], opts)

    def test_static_ranges(self):
        self.assertEqual(["--dhcp-range=set:subnet-sub-a,20.0.0.0,static,255.255.255.0,600s"],
                         dnsmasq_files.range_args(NETWORK, 600))
