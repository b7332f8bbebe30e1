"""Several regions, one network: the Tricircle guide's steps, with packets.

A central server owns the networks; RegionOne and RegionTwo each run a
local server, a vhost, a database and two hosts.  A network reaches a
region when a machine there needs it; machines of two regions on one
network ping each other over VXLAN, the regions' agents tunnelling to each
other's hosts through shadow ports.
"""

from __future__ import annotations

import testscenarios

from fullstack import base, environment, machine, wait

load_tests = testscenarios.load_tests_apply_scenarios

SHADOW_OWNER = "compute:shadow"


EXTERNAL_CIDR = "172.24.4.0/24"
PEER_CIDR = "172.24.4.1/24"   # the external peer is also the external subnet's gateway


def two_regions(l2_pop: bool = False, router_in_two: bool = False) -> environment.Environment:
    """RegionOne: host-1, host-2; RegionTwo: host-3 (with an L3 agent if
    ``router_in_two``), host-4."""
    hosts = [environment.HostDescription() for _ in range(2)]
    two = [environment.HostDescription(l3_agent=router_in_two), environment.HostDescription()]
    return environment.Environment(
        environment.EnvironmentDescription(network_type="vxlan", l2_pop=l2_pop),
        regions=[environment.RegionDescription("RegionOne", hosts=hosts),
                 environment.RegionDescription("RegionTwo", hosts=two)])


class RegionsTestCase(base.BaseFullStackTestCase):
    l2_pop = False
    router_in_two = False

    def setUp(self):
        super().setUp(two_regions(self.l2_pop, self.router_in_two))
        self.one = self.environment.region("RegionOne")
        self.two = self.environment.region("RegionTwo")

    def central_network(self, cidr: str = "10.10.0.0/24") -> tuple[dict, dict]:
        network = self.safe_client.create_network(self.tenant_id)
        subnet = self.safe_client.create_subnet(self.tenant_id, network["id"], cidr)
        return network, subnet

    def jobs(self) -> list[dict]:
        return self.client.request("GET", "/v1.0/jobs")["jobs"]

    def wait_for_jobs(self) -> list[dict]:
        """Every job, once none is waiting or running."""
        found: list[dict] = []

        def settled() -> bool:
            found[:] = self.jobs()
            return all(job["status"] in ("SUCCESS", "FAIL") for job in found)

        wait.wait_until_true(settled, timeout=60, sleep=0.1,
                             exception=lambda: f"jobs still waiting or running: {found}")
        return found

    def assert_all_jobs_succeeded(self) -> None:
        jobs = self.wait_for_jobs()
        self.assertNotEqual([], jobs)
        self.assertEqual([], [job for job in jobs if job["status"] != "SUCCESS"])

    def local_port_ids(self, region: environment.Region, network_id: str) -> dict[str, str]:
        """Port id -> device owner, of the network's ports in ``region``."""
        return {port["id"]: port["device_owner"]
                for port in region.client.list_ports(network_id=network_id)}


class TestTwoRegionsOneNetwork(RegionsTestCase):
    scenarios = [("flooding", {"l2_pop": False}), ("l2pop", {"l2_pop": True})]

    def test_machines_of_two_regions_ping_on_one_central_network(self):
        pods = self.client.request("GET", "/v1.0/pods")["pods"]
        self.assertEqual({"RegionOne": self.one.server.url, "RegionTwo": self.two.server.url},
                         {pod["region_name"]: pod["endpoint"] for pod in pods})
        network, subnet = self.central_network()
        for region in (self.one, self.two):
            self.assertEqual([], region.client.list_networks())

        # A machine boots in RegionOne: the network comes there, as it is centrally.
        vm_one = self.boot_machine(self.one.hosts[0], network["id"])
        local_network = self.one.client.show("network", network["id"])
        self.assertEqual(network["provider:segmentation_id"],
                         local_network["provider:segmentation_id"])
        local_subnet = self.one.client.show("subnet", subnet["id"])
        self.assertEqual((subnet["cidr"], subnet["gateway_ip"]),
                         (local_subnet["cidr"], local_subnet["gateway_ip"]))
        central_port = self.client.show("port", vm_one.port["id"])
        self.assertEqual((central_port["mac_address"], central_port["fixed_ips"]),
                         (vm_one.port["mac_address"], vm_one.port["fixed_ips"]))
        self.assertEqual(("RegionOne", vm_one.host.hostname),
                         (central_port["binding:profile"]["region"],
                          central_port["binding:profile"]["host"]))
        self.assertEqual([], self.two.client.list_networks())

        # And one in RegionTwo, on the same network: the two reach each other.
        vm_two = self.boot_machine(self.two.hosts[1], network["id"])
        self.wait_for_jobs()
        self.assertEqual(SHADOW_OWNER,
                         self.local_port_ids(self.one, network["id"])[vm_two.port["id"]])
        self.assertEqual(SHADOW_OWNER,
                         self.local_port_ids(self.two, network["id"])[vm_one.port["id"]])
        vm_one.block_until_ping(vm_two.ip)
        vm_two.block_until_ping(vm_one.ip)

        # A machine gone takes its shadow in the other region with it.
        self.two.safe_client.client.delete("port", vm_two.port["id"])
        wait.wait_until_true(
            lambda: vm_two.port["id"] not in self.local_port_ids(self.one, network["id"]),
            timeout=30, sleep=0.1,
            exception=f"RegionOne still has a shadow of port {vm_two.port['id']}")
        self.assert_all_jobs_succeeded()


class TestRegionOutage(RegionsTestCase):
    def test_a_job_for_a_region_that_was_down_succeeds_when_redone(self):
        network, _ = self.central_network()
        vm_one = self.boot_machine(self.one.hosts[0], network["id"])
        self.wait_for_jobs()
        self.one.server.stop()
        vm_two = self.boot_machine(self.two.hosts[0], network["id"])
        # Every job tried all it could while RegionOne was down.
        failed = [job for job in self.wait_for_jobs() if job["status"] == "FAIL"]
        self.assertNotEqual([], failed)
        self.assertIn("RegionOne", failed[-1]["last_error"])
        self.one.server.start()
        self.assertNotIn(vm_two.port["id"], self.local_port_ids(self.one, network["id"]))
        # Without its shadow, RegionOne's hosts have no tunnel to vm_two's host.
        vm_one.assert_no_ping(vm_two.ip)

        self.client.request("PUT", f"/v1.0/jobs/{failed[-1]['id']}", {"job": {}})
        self.assert_all_jobs_succeeded()
        vm_one.block_until_ping(vm_two.ip)


class TestRouterInOneRegion(RegionsTestCase):
    router_in_two = True

    def test_a_router_in_region_two_gives_both_regions_snat_and_a_floating_ip(self):
        ext = self.safe_client.create_network(self.tenant_id, name="public",
                                              **self.environment.external_network_attrs())
        self.safe_client.create_subnet(
            self.tenant_id, ext["id"], EXTERNAL_CIDR, gateway_ip=PEER_CIDR.split("/")[0],
            allocation_pools=[{"start": "172.24.4.10", "end": "172.24.4.100"}])
        peer = self.useFixture(machine.ExternalMachine(self.environment, PEER_CIDR))
        network, subnet = self.central_network()
        router = self.safe_client.create_router(
            self.tenant_id, external_network=ext["id"], availability_zone_hints=["RegionTwo"])
        self.safe_client.add_router_interface(router["id"], subnet["id"])
        vm_one = self.boot_machine(self.one.hosts[0], network["id"])
        vm_two = self.boot_machine(self.two.hosts[1], network["id"])
        fip = self.safe_client.create_floatingip(self.tenant_id, ext["id"],
                                                 port_id=vm_one.port["id"])
        self.wait_for_jobs()

        # The router lives in RegionTwo alone, on the addresses the central server gave.
        central = self.client.show("router", router["id"])
        local = self.two.client.show("router", router["id"])
        self.assertEqual(central["external_gateway_info"]["external_fixed_ips"],
                         local["external_gateway_info"]["external_fixed_ips"])
        self.assertNotIn(router["id"], {r["id"] for r in self.one.client.list_of("router")})
        self.assertEqual(fip["floating_ip_address"], self.two.client.show(
            "floatingip", fip["id"])["floating_ip_address"])
        # SNAT for both regions' machines (the peer has no route to them), and
        # RegionOne's machine reached by its floating IP through RegionTwo.
        vm_two.block_until_ping(peer.ip)
        vm_one.block_until_ping(peer.ip)
        peer.block_until_ping(fip["floating_ip_address"])

        # Undone centrally, the router goes from RegionTwo too.
        self.client.delete("floatingip", fip["id"])
        self.client.remove_router_interface(router["id"], subnet["id"])
        self.client.delete("router", router["id"])
        self.assert_all_jobs_succeeded()
        self.assertEqual([], self.two.client.list_of("router"))
        vm_one.block_until_no_ping(peer.ip)
