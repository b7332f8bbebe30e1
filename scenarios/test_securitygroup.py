"""Security groups end to end: rules decide which real packets cross real hosts.

Every host's L2 agent runs the ``openvswitch`` firewall (conntrack flows on
br-int), on neutrino and on Neutron alike.  The cases are those of
Neutron's ``TestSecurityGroupsSameNetwork.test_securitygroup``, grouped so
that one environment serves the checks that read well together.  Each
"allowed" is TCP, UDP or SCTP data echoed back (``probes.NetcatTester``) or
an answered ping; each "blocked" is the same probe failing.
"""

from __future__ import annotations

import testscenarios

from fullstack import base, environment, machine, probes, wait

load_tests = testscenarios.load_tests_apply_scenarios

RULE_TIMEOUT = 30.0   # for a rule change to reach the flows; it takes well under a second
PORT = 3333


class SecurityGroupTestCase(base.BaseFullStackTestCase):
    network_type = "vxlan"
    host_count = 2

    def setUp(self):
        hosts = [environment.HostDescription(firewall_driver="openvswitch")
                 for _ in range(self.host_count)]
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type=self.network_type), hosts))
        self.network = self.safe_client.create_network(self.tenant_id)
        self.subnet = self.safe_client.create_subnet(self.tenant_id, self.network["id"],
                                                     "20.0.0.0/24")

    # -- what the tests are made of -----------------------------------------------
    def group(self, name: str = "sg") -> dict:
        return self.safe_client.create_security_group(self.tenant_id, name=name)

    def rule(self, group: dict, **attrs) -> dict:
        return self.safe_client.create_security_group_rule(self.tenant_id, group["id"],
                                                           **attrs)

    def machine(self, host_index: int, network: dict | None = None,
                **port_attrs) -> machine.FakeFullstackMachine:
        """A machine on host ``host_index`` whose port is made with ``port_attrs``
        (security_groups, port_security_enabled, mac_address), booted."""
        return self.machines((host_index, network, port_attrs))[0]

    def machines(self, *specs: tuple[int, dict | None, dict]) -> list:
        """Machines of (host index, network or None, port attributes), plugged side by
        side, then booted: as Nova boots several, and as ``boot_machines`` does."""
        vms = []
        for host_index, network, port_attrs in specs:
            network = network or self.network
            port = self.safe_client.create_port(self.tenant_id, network["id"], **port_attrs)
            vms.append(self.useFixture(machine.FakeFullstackMachine(
                self.environment.hosts[host_index], network["id"], self.tenant_id,
                self.safe_client, neutron_port=port)))
        for vm in vms:
            vm.block_until_boot()
        return vms

    def netcat(self, client: machine.PingingMachine, server: machine.PingingMachine,
               protocol: str = "tcp", port: int = PORT) -> probes.NetcatTester:
        return self.useFixture(probes.NetcatTester(client, server, port, protocol=protocol))

    def assert_connects(self, client, server, protocol: str = "tcp", port: int = PORT,
                        timeout: float = RULE_TIMEOUT) -> None:
        """Wait until data goes both ways on a new connection (a rule took effect)."""
        def connected() -> bool:
            tester = probes.NetcatTester(client, server, port, protocol=protocol)
            with tester:
                return tester.test_connectivity()

        wait.wait_until_true(
            connected, timeout=timeout, sleep=0.2,
            exception=f"{protocol} {client.describe()} -> {server.describe()}:{port} still "
                      f"blocked after {timeout} s")

    def assert_blocked(self, client, server, protocol: str = "tcp", port: int = PORT) -> None:
        tester = self.netcat(client, server, protocol, port)
        self.assertTrue(tester.test_no_connectivity(),
                        f"{protocol} {client.describe()} -> {server.describe()}:{port} passes")
        tester.stop_processes()


class TestPortSecurity(SecurityGroupTestCase):
    def test_port_security_off_lets_everything_through(self):
        # The sender is in a group of its own (no rules): only a receiver that
        # filters nothing lets it in.
        client, server, outsider = self.machines(
            (0, None, {"port_security_enabled": False}),
            (1, None, {"port_security_enabled": False}),
            (0, None, {"security_groups": [self.group("outsider")["id"]]}))
        shown = self.client.show("port", server.port["id"])
        self.assertEqual(([], False), (shown["security_groups"], shown["port_security_enabled"]))
        self.assert_connects(client, server, "tcp")
        self.assert_connects(client, server, "udp")
        self.assert_connects(outsider, server, "tcp")
        client.assert_ping(server.ip)
        server.assert_ping(client.ip)
        outsider.assert_ping(client.ip)


class TestRules(SecurityGroupTestCase):
    def test_rules_open_exactly_what_they_say(self):
        sg = self.group()
        client = self.machine(0, security_groups=[sg["id"]])
        server = self.machine(1, security_groups=[sg["id"]])
        # A group without rules of its own lets out, not in.
        self.assert_blocked(client, server, "tcp")
        client.assert_no_ping(server.ip)

        tcp = self.rule(sg, protocol="tcp", port_range_min=PORT, port_range_max=PORT,
                        remote_group_id=sg["id"])
        self.assert_connects(client, server, "tcp")
        self.assert_blocked(client, server, "tcp", PORT + 1)
        self.assert_blocked(client, server, "udp")
        self.safe_client.delete_security_group_rule(tcp["id"])

        self.rule(sg, protocol="tcp", port_range_min=1, port_range_max=65535,
                  remote_group_id=sg["id"])
        self.assert_connects(client, server, "tcp", PORT + 1)
        self.assert_connects(client, server, "tcp", 65535)
        self.assert_blocked(client, server, "udp")

        self.rule(sg, protocol="icmp", remote_group_id=sg["id"])
        client.block_until_ping(server.ip, timeout=RULE_TIMEOUT)

        self.assert_blocked(client, server, "sctp")
        self.rule(sg, protocol="sctp", port_range_min=PORT, port_range_max=PORT,
                  remote_group_id=sg["id"])
        self.assert_connects(client, server, "sctp")

    def test_ethertype_only_remote_group_rule_opens_everything_from_the_group(self):
        sg = self.group()
        client = self.machine(0, security_groups=[sg["id"]])
        server = self.machine(1, security_groups=[sg["id"]])
        outsider = self.machine(0, security_groups=[self.group("other")["id"]])
        self.rule(sg, ethertype="IPv4", remote_group_id=sg["id"])
        self.assert_connects(client, server, "tcp")
        self.assert_connects(client, server, "udp", PORT + 7)
        client.assert_ping(server.ip)
        self.assert_blocked(outsider, server, "tcp")
        outsider.assert_no_ping(server.ip)

    def test_several_groups_on_one_port(self):
        web, mail = self.group("web"), self.group("mail")
        client = self.machine(0, port_security_enabled=False)
        server = self.machine(1, security_groups=[web["id"], mail["id"]])
        self.rule(web, protocol="tcp", port_range_min=PORT, port_range_max=PORT)
        self.rule(mail, protocol="udp", port_range_min=PORT + 1, port_range_max=PORT + 1,
                  remote_ip_prefix=f"{client.ip}/32")
        self.assert_connects(client, server, "tcp")
        self.assert_connects(client, server, "udp", PORT + 1)
        self.assert_blocked(client, server, "tcp", PORT + 1)
        self.safe_client.update_port(server.port["id"], security_groups=[mail["id"]])
        self.assert_connects(client, server, "udp", PORT + 1)
        wait.wait_until_true(lambda: self._blocked(client, server, "tcp"), timeout=RULE_TIMEOUT,
                             sleep=0.2, exception="tcp still passes without its group")

    def _blocked(self, client, server, protocol: str, port: int = PORT) -> bool:
        tester = probes.NetcatTester(client, server, port, protocol=protocol)
        with tester:
            return tester.test_no_connectivity()


class TestEstablishedConnections(SecurityGroupTestCase):
    def test_deleting_a_rule_cuts_an_established_connection(self):
        sg = self.group()
        client, server = self.machines((0, None, {"security_groups": [sg["id"]]}),
                                       (1, None, {"security_groups": [sg["id"]]}))
        rule = self.rule(sg, protocol="tcp", port_range_min=PORT, port_range_max=PORT,
                         remote_group_id=sg["id"])
        self.assert_connects(client, server)
        tester = self.netcat(client, server)
        tester.establish_connection()
        self.assertTrue(tester.test_connectivity())
        self.safe_client.delete_security_group_rule(rule["id"])
        wait.wait_until_true(tester.test_no_connectivity, timeout=RULE_TIMEOUT, sleep=0.2,
                             exception="the connection still passes data after its rule went")

    def test_overlapping_rules_from_two_remote_groups(self):
        """Two rules allow the same ports, each from its own remote group: removing
        one cuts only the connection that needed it."""
        first, second, server_group = self.group("a"), self.group("b"), self.group("srv")
        client_a, client_b, server = self.machines(
            (0, None, {"security_groups": [first["id"]]}),
            (0, None, {"security_groups": [second["id"]]}),
            (1, None, {"security_groups": [server_group["id"]]}))
        rule_a = self.rule(server_group, protocol="tcp", port_range_min=PORT,
                           port_range_max=PORT + 1, remote_group_id=first["id"])
        self.rule(server_group, protocol="tcp", port_range_min=PORT, port_range_max=PORT + 1,
                  remote_group_id=second["id"])
        self.assert_connects(client_a, server, port=PORT)
        self.assert_connects(client_b, server, port=PORT + 1)
        via_a = self.netcat(client_a, server, port=PORT)
        via_b = self.netcat(client_b, server, port=PORT + 1)
        via_a.establish_connection()
        via_b.establish_connection()
        self.safe_client.delete_security_group_rule(rule_a["id"])
        wait.wait_until_true(via_a.test_no_connectivity, timeout=RULE_TIMEOUT, sleep=0.2,
                             exception="client a still passes data without its rule")
        self.assertTrue(via_b.test_connectivity(), "client b lost its connection too")


class TestSameMacTwoNetworks(SecurityGroupTestCase):
    def test_same_mac_in_two_networks_is_filtered_by_its_own_port(self):
        other_net = self.safe_client.create_network(self.tenant_id, name="net2")
        self.safe_client.create_subnet(self.tenant_id, other_net["id"], "20.0.1.0/24")
        open_sg, closed_sg = self.group("open"), self.group("closed")
        self.rule(open_sg, protocol="tcp", port_range_min=PORT, port_range_max=PORT)
        server = self.machine(1, security_groups=[open_sg["id"]])
        twin = self.machine(1, network=other_net, security_groups=[closed_sg["id"]],
                            mac_address=server.mac_address)
        # One client beside them on host 2 (switched there), one over the tunnel.
        local_client = self.machine(1, port_security_enabled=False)
        remote_client = self.machine(0, port_security_enabled=False)
        twin_client = self.machine(0, network=other_net, port_security_enabled=False)
        local_twin_client = self.machine(1, network=other_net, port_security_enabled=False)
        self.assert_connects(local_client, server)
        self.assert_connects(remote_client, server)
        self.assert_blocked(twin_client, twin)
        self.assert_blocked(local_twin_client, twin)


class TestStatelessGroup(SecurityGroupTestCase):
    def test_stateless_group_needs_rules_for_replies(self):
        self.require_feature("stateless-security-groups",
                             "Neutron's openvswitch firewall ignores stateful=False (only its "
                             "iptables_hybrid driver honours it)")
        sg = self.safe_client.create_security_group(self.tenant_id, name="stateless",
                                                    stateful=False)
        client = self.machine(0, security_groups=[sg["id"]])
        server = self.machine(1, port_security_enabled=False)
        # Out is allowed, but nothing tracks the connection: the replies are
        # new packets, and no ingress rule lets them in.
        self.assert_blocked(client, server, "tcp")
        self.rule(sg, protocol="tcp", remote_ip_prefix=f"{server.ip}/32")
        self.assert_connects(client, server, "tcp")
        self.assert_blocked(client, server, "udp")


class TestThreeHosts(SecurityGroupTestCase):
    host_count = 3
    scenarios = [("vxlan", {"network_type": "vxlan"}), ("vlan", {"network_type": "vlan"})]

    def test_default_group_across_three_hosts(self):
        vms = machine.FakeFullstackMachinesList(
            self.machines(*((index, None, {}) for index in range(3))))
        vms.ping_all()
        stranger = self.machine(2, security_groups=[self.group()["id"]])
        for vm in vms:
            vm.assert_no_ping(stranger.ip)
        self.assert_connects(vms[0], vms[2], "tcp")


class TestAntiSpoofing(SecurityGroupTestCase):
    def test_a_machine_that_changes_its_address_loses_its_traffic(self):
        # The peer filters nothing, and both know each other's MAC without
        # ARP (ARP is checked on its own): only the spoofer's port's IP and MAC
        # checks can stop it.
        honest, spoofer = self.machines((0, None, {"port_security_enabled": False}),
                                        (1, None, {}))
        spoofer.assert_ping(honest.ip)
        fake_ip, fake_mac = "20.0.0.200", "fa:16:3e:00:00:99"
        honest.set_neighbor(fake_ip, spoofer.mac_address)
        # The checks are there from the port's first flow: nothing to wait for.
        spoofer.set_address(f"{fake_ip}/24")
        spoofer.set_neighbor(honest.ip, honest.mac_address)   # the address change flushed it
        spoofer.assert_no_ping(honest.ip)
        spoofer.set_address(spoofer.ip_cidr)
        spoofer.block_until_ping(honest.ip, timeout=RULE_TIMEOUT)
        honest.set_neighbor(spoofer.ip, fake_mac)
        spoofer.set_mac(fake_mac)
        spoofer.set_neighbor(honest.ip, honest.mac_address)
        spoofer.assert_no_ping(honest.ip)
