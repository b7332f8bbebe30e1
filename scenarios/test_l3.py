"""Routing: east-west, SNAT, floating IPs, router removal and L3 agent restarts."""

from __future__ import annotations

import itertools
import re

import testscenarios
from pyroute2 import netns

from fullstack import base, environment, machine, probes, wait

# stestr sees (and spreads over its workers) every scenario as its own test.
load_tests = testscenarios.load_tests_apply_scenarios

EXTERNAL_CIDR = "172.24.4.0/24"
PEER_CIDR = "172.24.4.1/24"   # the external peer is also the external subnet's gateway
# A dead agent's routers move after twice agent_down_time (10 s here) and the
# server's next check (every 5 s); Neutron may wait a dead limit more first.
FAILOVER_TIMEOUT = 120.0


class L3TestCase(base.BaseFullStackTestCase):
    network_type = "vxlan"

    def setUp(self):
        # Host 1 routes; machines live on hosts 2 and 3, so every routed
        # packet crosses hosts.
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type=self.network_type),
            [environment.HostDescription(l3_agent=True), environment.HostDescription(),
             environment.HostDescription()]))
        self.l3_host = self.environment.hosts[0]

    def tenant_subnet(self, cidr: str) -> tuple[dict, dict]:
        net = self.safe_client.create_network(self.tenant_id)
        subnet = self.safe_client.create_subnet(self.tenant_id, net["id"], cidr)
        return net, subnet

    def external_network(self) -> tuple[dict, machine.ExternalMachine]:
        net = self.safe_client.create_network(self.tenant_id, name="public",
                                              **self.environment.external_network_attrs())
        self.safe_client.create_subnet(
            self.tenant_id, net["id"], EXTERNAL_CIDR, gateway_ip=PEER_CIDR.split("/")[0],
            allocation_pools=[{"start": "172.24.4.10", "end": "172.24.4.100"}])
        peer = self.useFixture(machine.ExternalMachine(self.environment, PEER_CIDR))
        return net, peer

    def routed_machine(self, vm_host: int = 1) -> tuple[dict, machine.FakeFullstackMachine,
                                                        dict, machine.ExternalMachine]:
        """A machine (on host ``vm_host``) on a subnet of a router whose gateway is on
        the external network."""
        ext_net, peer = self.external_network()
        net, subnet = self.tenant_subnet("10.0.1.0/24")
        router = self.safe_client.create_router(self.tenant_id, external_network=ext_net["id"])
        self.safe_client.add_router_interface(router["id"], subnet["id"])
        vm = self.boot_machine(self.environment.hosts[vm_host], net["id"])
        return router, vm, ext_net, peer

    def router_namespace(self, router_id: str) -> str:
        return self.l3_host.router_namespace(router_id)

    def wait_for_namespace(self, router_id: str, present: bool = True) -> None:
        name = self.router_namespace(router_id)
        wait.wait_until_true(lambda: (name in netns.listnetns()) == present, timeout=60,
                             sleep=0.1, exception=f"namespace {name} "
                                                  f"{'never appeared' if present else 'stayed'}")


class TestEastWest(L3TestCase):
    scenarios = [("vxlan", {"network_type": "vxlan"}), ("vlan", {"network_type": "vlan"})]

    def test_two_subnets_on_one_router(self):
        net_a, subnet_a = self.tenant_subnet("10.0.1.0/24")
        net_b, subnet_b = self.tenant_subnet("10.0.2.0/24")
        router = self.safe_client.create_router(self.tenant_id)
        self.safe_client.add_router_interface(router["id"], subnet_a["id"])
        self.safe_client.add_router_interface(router["id"], subnet_b["id"])
        vm_a = self.boot_machine(self.environment.hosts[1], net_a["id"])
        vm_b = self.boot_machine(self.environment.hosts[2], net_b["id"])
        vm_a.assert_ping(vm_b.ip)
        vm_b.assert_ping(vm_a.ip)

        self.client.remove_router_interface(router["id"], subnet_id=subnet_b["id"])
        wait.wait_until_true(lambda: not vm_a.ping(vm_b.ip, deadline=1), timeout=60,
                             exception="east-west traffic still flows after the interface "
                                       "was removed")
        vm_a.assert_no_ping(vm_b.ip)


class TestNorthSouth(L3TestCase):
    def test_snat_shows_the_gateway_address(self):
        router, vm, _, peer = self.routed_machine()
        gateway_ip = self.client.show("router", router["id"])[
            "external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
        lines: list[str] = []
        attempts = itertools.count(1)

        def an_echo_from_the_gateway() -> bool:
            """One ping, captured at the peer: does its request come from the gateway?
            (An agent may route a moment before it has written its SNAT rule.)"""
            sniffer = self.useFixture(probes.PacketCapture(
                self.ctx, f"peer-{next(attempts)}", peer.namespace, "eth0",
                "icmp[icmptype] = icmp-echo"))
            vm.assert_ping(peer.ip)
            lines[:] = sniffer.wait_for_packets()
            return any(re.search(rf"\b{re.escape(gateway_ip)} > {re.escape(peer.ip)}", line)
                       for line in lines)

        wait.wait_until_true(an_echo_from_the_gateway, timeout=60, sleep=0.5,
                             exception=lambda: "no echo request from the gateway address "
                                               f"{gateway_ip} reached the peer; the last:\n"
                                               + "\n".join(lines))
        self.assertFalse(any(vm.ip in line for line in lines), "\n".join(lines))

    def test_floating_ip_follows_its_port(self):
        router, vm, ext_net, peer = self.routed_machine()
        other = self.boot_machine(self.environment.hosts[2], vm.network_id)
        fip = self.safe_client.create_floatingip(self.tenant_id, ext_net["id"],
                                                 port_id=vm.port["id"])
        address = fip["floating_ip_address"]
        peer.assert_ping(address)

        self.safe_client.update_floatingip(fip["id"], port_id=None)
        wait.wait_until_true(lambda: not peer.ping(address, deadline=1), timeout=60,
                             exception=f"{address} still answers after disassociation")

        self.safe_client.update_floatingip(fip["id"], port_id=other.port["id"])
        sniffer = self.useFixture(probes.PacketCapture(
            self.ctx, "other", other.namespace, "eth0", "icmp[icmptype] = icmp-echo"))
        peer.assert_ping(address)
        lines = sniffer.wait_for_packets()
        self.assertTrue(any(f"> {other.ip}" in line for line in lines), "\n".join(lines))

    def test_deleting_the_router_removes_what_it_built(self):
        router, vm, _, _ = self.routed_machine()
        self.wait_for_namespace(router["id"])
        router_ports = [p["id"] for p in self.client.list_ports(device_id=router["id"])]
        self.assertEqual(2, len(router_ports))
        self.client.remove_router_interface(router["id"], subnet_id=vm.port["fixed_ips"][0][
            "subnet_id"])
        self.client.delete("router", router["id"])
        self.wait_for_namespace(router["id"], present=False)
        taps = {machine.tap_name(port_id) for port_id in router_ports}
        wait.wait_until_true(lambda: not taps & set(self.l3_host.br_int.port_names()),
                             timeout=60, exception=f"router ports {taps} still on br-int")


class TestRouterChanges(L3TestCase):
    """What an operator changes on a working router: SNAT and floating IPs come
    back each time (Neutron's test_gateway_ip_changed, test_external_subnet_changed)."""

    def floating_machine(self) -> tuple[dict, machine.FakeFullstackMachine, dict,
                                        machine.ExternalMachine, str]:
        router, vm, ext_net, peer = self.routed_machine()
        fip = self.safe_client.create_floatingip(self.tenant_id, ext_net["id"],
                                                 port_id=vm.port["id"])
        vm.block_until_ping(peer.ip)
        peer.block_until_ping(fip["floating_ip_address"])
        return router, vm, ext_net, peer, fip["floating_ip_address"]

    def test_gateway_ip_changed(self):
        router, vm, ext_net, peer, fip = self.floating_machine()
        [gateway] = self.client.list_ports(device_id=router["id"],
                                           device_owner="network:router_gateway")
        old_ip = gateway["fixed_ips"][0]["ip_address"]
        peer.block_until_ping(old_ip)
        subnet_id = gateway["fixed_ips"][0]["subnet_id"]
        new_ips = ["172.24.4.150", "172.24.4.151"]
        self.safe_client.update_port(gateway["id"], fixed_ips=[
            {"subnet_id": subnet_id, "ip_address": address} for address in new_ips])
        for address in new_ips:
            peer.block_until_ping(address)
        peer.block_until_no_ping(old_ip)
        vm.block_until_ping(peer.ip)
        peer.block_until_ping(fip)

    def test_external_subnet_changed(self):
        router, vm, ext_net, peer = self.routed_machine()
        vm.block_until_ping(peer.ip)
        [first] = self.client.list_subnets(network_id=ext_net["id"])
        second = self.safe_client.create_subnet(self.tenant_id, ext_net["id"], "42.0.0.0/24",
                                                gateway_ip="42.0.0.2")
        second_peer = self.useFixture(machine.ExternalMachine(self.environment, "42.0.0.2/24"))
        # Cleanups run last first: the gateway must leave the second subnet before it goes.
        self.safe_client.addCleanup(self.client.update, "router", router["id"],
                                    external_gateway_info={})
        self.client.update("router", router["id"], external_gateway_info={
            "network_id": ext_net["id"],
            "external_fixed_ips": [{"subnet_id": second["id"], "ip_address": "42.0.0.10"}]})
        # SNAT now goes out through the second subnet's gateway...
        vm.block_until_ping(second_peer.ip)
        # ... and a floating IP of the first subnet still answers its peers.
        fip = self.safe_client.create_floatingip(self.tenant_id, ext_net["id"],
                                                 port_id=vm.port["id"], subnet_id=first["id"])
        peer.block_until_ping(fip["floating_ip_address"])

    def test_router_set_down_then_up(self):
        router, vm, ext_net, peer, fip = self.floating_machine()
        self.client.update("router", router["id"], admin_state_up=False)
        self.wait_for_namespace(router["id"], present=False)
        vm.block_until_no_ping(peer.ip)
        peer.block_until_no_ping(fip)
        self.client.update("router", router["id"], admin_state_up=True)
        vm.block_until_ping(peer.ip)
        peer.block_until_ping(fip)


class TestL3AgentFailover(L3TestCase):
    """allow_automatic_l3agent_failover on (it is off by default, as in Neutron)."""

    def setUp(self):
        base.BaseFullStackTestCase.setUp(self, environment.Environment(
            environment.EnvironmentDescription(network_type=self.network_type,
                                               l3_agent_failover=True, agent_down_time=10),
            [environment.HostDescription(l3_agent=True),
             environment.HostDescription(l3_agent=True), environment.HostDescription()]))

    def hosting(self, router_id: str) -> list[str]:
        return [agent["host"] for agent in self.client.request(
            "GET", f"/v2.0/routers/{router_id}/l3-agents")["agents"]]

    def test_routers_of_a_cut_off_l3_agent_move_and_traffic_comes_back(self):
        # The machine on the host without an L3 agent: either L3 host may be cut.
        router, vm, ext_net, peer = self.routed_machine(vm_host=2)
        fip = self.safe_client.create_floatingip(self.tenant_id, ext_net["id"],
                                                 port_id=vm.port["id"])["floating_ip_address"]
        vm.block_until_ping(peer.ip)
        peer.block_until_ping(fip)
        [old_name] = self.hosting(router["id"])
        old, new = sorted(self.environment.hosts[:2], key=lambda h: h.hostname != old_name)

        old.disconnect()
        wait.wait_until_true(
            lambda: self.hosting(router["id"]) == [new.hostname], timeout=FAILOVER_TIMEOUT,
            sleep=1, exception=lambda: f"router still on {self.hosting(router['id'])}, not "
                                       f"{new.hostname}, {FAILOVER_TIMEOUT} s after the cut")
        vm.block_until_ping(peer.ip)
        peer.block_until_ping(fip)

        # Back on the network, the old agent removes the router it no longer hosts.
        old.reconnect()
        old_namespace = old.router_namespace(router["id"])
        wait.wait_until_true(lambda: old_namespace not in netns.listnetns(),
                             timeout=FAILOVER_TIMEOUT, sleep=1,
                             exception=f"{old_namespace} outlived the move")
        vm.block_until_ping(peer.ip)


class TestL3AgentRestart(L3TestCase):
    def test_restart_keeps_floating_ips_and_builds_new_routers(self):
        router, vm, ext_net, peer = self.routed_machine()
        fip = self.safe_client.create_floatingip(self.tenant_id, ext_net["id"],
                                                 port_id=vm.port["id"])
        peer.assert_ping(fip["floating_ip_address"])

        self.l3_host.l3_agent.stop()
        peer.assert_ping(fip["floating_ip_address"])   # the data path needs no agent
        late = self.safe_client.create_router(self.tenant_id, external_network=ext_net["id"])
        self.l3_host.l3_agent.start()
        self.environment.wait_until_env_is_up()
        self.wait_for_namespace(late["id"])
        peer.assert_ping(fip["floating_ip_address"])
        vm.assert_ping(peer.ip)
