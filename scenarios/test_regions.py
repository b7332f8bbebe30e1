"""Several regions, one network: the Tricircle guide's steps, with packets.

A central server owns the networks; RegionOne and RegionTwo each run a
local server, a vhost, a database and two hosts.  A network reaches a
region when a machine there needs it; machines of two regions on one
network ping each other over VXLAN, the regions' agents tunnelling to each
other's hosts through shadow ports.
"""

from __future__ import annotations

import testscenarios

from fullstack import base, environment, wait

load_tests = testscenarios.load_tests_apply_scenarios

SHADOW_OWNER = "compute:shadow"


def two_regions(l2_pop: bool = False) -> environment.Environment:
    hosts = [environment.HostDescription() for _ in range(2)]
    return environment.Environment(
        environment.EnvironmentDescription(network_type="vxlan", l2_pop=l2_pop),
        regions=[environment.RegionDescription("RegionOne", hosts=hosts),
                 environment.RegionDescription("RegionTwo", hosts=hosts)])


class RegionsTestCase(base.BaseFullStackTestCase):
    l2_pop = False

    def setUp(self):
        super().setUp(two_regions(self.l2_pop))
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
        failed: list[dict] = []

        def one_failed() -> bool:
            failed[:] = [job for job in self.jobs() if job["status"] == "FAIL"]
            return bool(failed)

        wait.wait_until_true(one_failed, timeout=60, sleep=0.2,
                             exception="no job failed while RegionOne's server was down")
        self.assertIn("RegionOne", failed[-1]["last_error"])
        self.one.server.start()
        self.assertNotIn(vm_two.port["id"], self.local_port_ids(self.one, network["id"]))
        # Without its shadow, RegionOne's hosts have no tunnel to vm_two's host.
        vm_one.assert_no_ping(vm_two.ip)

        self.client.request("PUT", f"/v1.0/jobs/{failed[-1]['id']}", {"job": {}})
        self.assert_all_jobs_succeeded()
        vm_one.block_until_ping(vm_two.ip)
