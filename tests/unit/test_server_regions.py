"""The central and local roles, three real servers in this process (SQLite, no RPC)."""

from __future__ import annotations

import time
from typing import Any

from neutrino.server.lib import device_owners
from tests.unit import test_server_support as support

TUNNEL_IPS = {"host-1": "240.0.0.11", "host-2": "240.0.0.12", "host-3": "240.0.0.13"}
L3_HOST = "host-2"   # RegionTwo's L3 agent
TYPES = {"ml2.type_drivers": ["vxlan", "flat"]}


class RegionsTestCase(support.ServerTestCase):
    """A central server and two regions, RegionOne (host-1) and RegionTwo (host-2, host-3)."""

    regions = {"RegionOne": ("host-1",), "RegionTwo": ("host-2", "host-3")}

    def setUp(self) -> None:
        super().setUp()
        self.central = self.useFixture(support.ServerFixture(
            {"role": "central", "region.job_retry_delay": 0.05,
             "region.failed_job_redo_interval": 0.0, **TYPES},
            connection=self.database_url("central")))
        self.client = self.central.client
        self.local: dict[str, support.ServerFixture] = {}
        for name, hosts in self.regions.items():
            server = self.local[name] = self.useFixture(support.ServerFixture(
                {"role": "local", "region.region_name": name,
                 "region.central_url": self.central.server.url,
                 "region.request_timeout": 2.0, **TYPES},
                connection=self.database_url(name)))
            for host in hosts:
                rpc = server.server.core.rpc
                rpc.report_state(support.agent_state(host))
                rpc.tunnel_sync(TUNNEL_IPS[host], "vxlan", host)
                if host == L3_HOST:
                    rpc.report_state(support.l3_agent_state(host))
            self.ok("POST", "/v1.0/pods", {"pod": {"region_name": name,
                                                   "endpoint": server.server.url}})
        self.network = self.ok("POST", "/v2.0/networks", {"network": {"name": "net"}})["network"]
        self.subnet = self.ok("POST", "/v2.0/subnets", {"subnet": {
            "network_id": self.network["id"], "cidr": "10.0.0.0/24", "ip_version": 4,
            "enable_dhcp": False}})["subnet"]

    def database_url(self, server: str) -> str | None:
        """The database of the central server or of a region's: by default a
        SQLite file of its own."""
        return None

    def region(self, name: str) -> support.ApiClient:
        return self.local[name].client

    def in_region(self, name: str, method: str, path: str, body: Any = None) -> Any:
        status, result = self.region(name).request(method, path, body)
        self.assertIn(status, (200, 201, 204), result)
        return result

    def boot(self, region: str, host: str) -> dict[str, Any]:
        return self.in_region(region, "POST", "/v2.0/ports", {"port": {
            "network_id": self.network["id"], "binding:host_id": host,
            "device_owner": "compute:fullstack"}})["port"]

    def ports_in(self, region: str) -> dict[str, dict[str, Any]]:
        return {port["id"]: port for port in self.in_region(region, "GET", "/v2.0/ports")["ports"]}

    def wait_for_jobs(self) -> list[dict[str, Any]]:
        """Every job, once none is waiting or running."""
        deadline = time.monotonic() + 30
        while True:
            found = self.ok("GET", "/v1.0/jobs")["jobs"]
            if all(job["status"] in ("SUCCESS", "FAIL") for job in found):
                return found
            if time.monotonic() > deadline:
                self.fail(f"jobs still running after 30 s: {found}")
            time.sleep(0.02)


class TestCentralAndLocal(RegionsTestCase):
    def test_pods_are_listed_and_a_region_name_is_unique(self) -> None:
        pods = self.ok("GET", "/v1.0/pods")["pods"]
        self.assertEqual(["RegionOne", "RegionTwo"], [pod["region_name"] for pod in pods])
        self.assertError(409, "PodExists", self.client.request("POST", "/v1.0/pods", {
            "pod": {"region_name": "RegionOne", "endpoint": "http://240.0.0.1:1"}}))
        self.assertError(400, "HTTPBadRequest", self.client.request("POST", "/v1.0/pods", {
            "pod": {"region_name": "RegionThree", "endpoint": "ftp://x"}}), "endpoint")
        # As Tricircle's guide makes them: a name and an availability zone.
        three = self.ok("POST", "/v1.0/pods", {"pod": {"region_name": "RegionThree",
                                                       "az_name": "az3"}})["pod"]
        self.assertEqual(("az3", None), (three["az_name"], three["endpoint"]))
        self.ok("DELETE", f"/v1.0/pods/{three['pod_id']}")
        self.assertEqual(["RegionOne", "RegionTwo"],
                         [pod["region_name"] for pod in self.ok("GET", "/v1.0/pods")["pods"]])
        # A region that has the central server's resources stays.
        self.boot("RegionOne", "host-1")
        self.assertError(409, "PodInUse", self.client.request(
            "DELETE", f"/v1.0/pods/{pods[0]['pod_id']}"))

    def test_a_central_network_is_absent_from_the_regions_until_a_port_needs_it(self) -> None:
        for region in self.regions:
            self.assertEqual([], self.in_region(region, "GET", "/v2.0/networks")["networks"])
        port = self.boot("RegionOne", "host-1")
        local = self.in_region("RegionOne", "GET", f"/v2.0/networks/{self.network['id']}")
        self.assertEqual(self.network["provider:segmentation_id"],
                         local["network"]["provider:segmentation_id"])
        self.assertEqual([self.subnet["id"]], local["network"]["subnets"])
        central_port = self.ok("GET", f"/v2.0/ports/{port['id']}")["port"]
        self.assertEqual((central_port["mac_address"], central_port["fixed_ips"]),
                         (port["mac_address"], port["fixed_ips"]))
        self.assertEqual({"region": "RegionOne", "host": "host-1",
                          "tunnel_ip": TUNNEL_IPS["host-1"]}, central_port["binding:profile"])
        self.assertEqual([], self.in_region("RegionTwo", "GET", "/v2.0/networks")["networks"])
        routings = self.ok("GET", "/v1.0/routings")["routings"]
        self.assertIn(("network", self.network["id"], "RegionOne"),
                      {(r["resource_type"], r["top_id"], r["region_name"]) for r in routings})

    def test_ports_of_one_region_are_shadows_in_the_other(self) -> None:
        one = self.boot("RegionOne", "host-1")
        two = self.boot("RegionTwo", "host-3")
        self.wait_for_jobs()
        shadow = self.ports_in("RegionTwo")[one["id"]]
        self.assertEqual(device_owners.SHADOW, shadow["device_owner"])
        self.assertEqual(("host-1", "ovs", "ACTIVE"), (shadow["binding:host_id"],
                                                       shadow["binding:vif_type"],
                                                       shadow["status"]))
        self.assertEqual((one["mac_address"], one["fixed_ips"]),
                         (shadow["mac_address"], shadow["fixed_ips"]))
        self.assertEqual(device_owners.SHADOW,
                         self.ports_in("RegionOne")[two["id"]]["device_owner"])
        endpoints = self.local["RegionOne"].server.core.tunnels.sync(
            TUNNEL_IPS["host-1"], "vxlan", "host-1")
        self.assertIn({"ip_address": TUNNEL_IPS["host-3"], "host": "host-3"}, endpoints)
        self.assertEqual({"SUCCESS"}, {job["status"] for job in self.wait_for_jobs()})

        self.in_region("RegionOne", "DELETE", f"/v2.0/ports/{one['id']}")
        self.assertEqual(404, self.client.request("GET", f"/v2.0/ports/{one['id']}")[0])
        # Each job did its work at its first attempt, the removal too.
        self.assertEqual({(1, "SUCCESS")}, {(job["attempts"], job["status"])
                                            for job in self.wait_for_jobs()})
        self.assertNotIn(one["id"], self.ports_in("RegionTwo"))

    def test_a_region_that_cannot_be_reached_fails_the_job_until_it_is_redone(self) -> None:
        self.boot("RegionOne", "host-1")   # RegionOne has the network
        self.wait_for_jobs()
        one = self.local["RegionOne"]
        endpoint = one.server.url
        pod = next(p for p in self.ok("GET", "/v1.0/pods")["pods"]
                   if p["region_name"] == "RegionOne")
        # Nothing listens there: the region is down.
        self.ok("PUT", f"/v1.0/pods/{pod['pod_id']}", {"pod": {"endpoint": "http://127.0.0.1:9"}})
        two = self.boot("RegionTwo", "host-2")
        # RegionTwo's copy of the network and the port's binding each queued one.
        failed = [job for job in self.wait_for_jobs() if job["status"] == "FAIL"]
        self.assertNotEqual([], failed)
        self.assertEqual(3, failed[-1]["attempts"])
        self.assertIn("RegionOne", failed[-1]["last_error"])
        self.assertNotIn(two["id"], self.ports_in("RegionOne"))

        self.ok("PUT", f"/v1.0/pods/{pod['pod_id']}", {"pod": {"endpoint": endpoint}})
        redone = self.ok("PUT", f"/v1.0/jobs/{failed[-1]['id']}", {"job": {}})["job"]
        self.assertEqual("NEW", redone["status"])
        # The redone job succeeds, and the failed one before it is superseded.
        self.assertEqual([(failed[-1]["id"], "SUCCESS")],
                         [(job["id"], job["status"]) for job in self.wait_for_jobs()
                          if job["id"] in {f["id"] for f in failed}])
        self.assertIn(two["id"], self.ports_in("RegionOne"))
        self.assertError(409, "JobNotFailed", self.client.request(
            "PUT", f"/v1.0/jobs/{failed[-1]['id']}", {"job": {}}))

    def test_deleting_a_network_centrally_deletes_its_copies(self) -> None:
        one = self.boot("RegionOne", "host-1")
        two = self.boot("RegionTwo", "host-2")
        self.wait_for_jobs()
        self.assertError(409, "NetworkInUse", self.client.request(
            "DELETE", f"/v2.0/networks/{self.network['id']}"))
        self.in_region("RegionOne", "DELETE", f"/v2.0/ports/{one['id']}")
        self.in_region("RegionTwo", "DELETE", f"/v2.0/ports/{two['id']}")
        self.ok("DELETE", f"/v2.0/subnets/{self.subnet['id']}")
        self.ok("DELETE", f"/v2.0/networks/{self.network['id']}")
        for region in self.regions:
            self.assertEqual([], self.in_region(region, "GET", "/v2.0/networks")["networks"])
        self.assertEqual([], [r for r in self.ok("GET", "/v1.0/routings")["routings"]
                              if r["top_id"] == self.network["id"]])

    def test_a_local_server_needs_its_region_and_the_central_url(self) -> None:
        from neutrino.server import config
        error = self.assertRaises(ValueError, config.load, [
            "--config-file", self._config({"role": "local"})])
        self.assertIn("central_url", str(error))

    def _config(self, options: dict[str, str]) -> str:
        import os
        import tempfile
        handle, path = tempfile.mkstemp(suffix=".ini")
        self.addCleanup(os.unlink, path)
        with os.fdopen(handle, "w") as f:
            f.write("[DEFAULT]\n" + "".join(f"{k} = {v}\n" for k, v in options.items())
                    + "[database]\nconnection = sqlite://\n")
        return path


class TestRoutersAcrossRegions(RegionsTestCase):
    def test_a_central_router_lives_in_its_hinted_region_with_the_central_addresses(self):
        ext = self.ok("POST", "/v2.0/networks", {"network": {
            "name": "public", "router:external": True, "provider:network_type": "flat",
            "provider:physical_network": "extnet"}})["network"]
        self.ok("POST", "/v2.0/subnets", {"subnet": {
            "network_id": ext["id"], "cidr": "172.24.4.0/24", "ip_version": 4,
            "gateway_ip": "172.24.4.1", "enable_dhcp": False}})
        router = self.ok("POST", "/v2.0/routers", {"router": {
            "name": "r", "availability_zone_hints": ["RegionTwo"],
            "external_gateway_info": {"network_id": ext["id"]}}})["router"]
        self.assertEqual(["RegionTwo"], router["availability_zone_hints"])
        interface = self.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
                            {"subnet_id": self.subnet["id"]})
        vm = self.boot("RegionOne", "host-1")
        fip = self.ok("POST", "/v2.0/floatingips", {"floatingip": {
            "floating_network_id": ext["id"], "port_id": vm["id"]}})["floatingip"]
        self.assertEqual({"SUCCESS"}, {job["status"] for job in self.wait_for_jobs()})

        local = self.in_region("RegionTwo", "GET", f"/v2.0/routers/{router['id']}")["router"]
        self.assertEqual(router["external_gateway_info"]["external_fixed_ips"],
                         local["external_gateway_info"]["external_fixed_ips"])
        ports = self.ports_in("RegionTwo")
        self.assertEqual(("network:router_interface", L3_HOST),
                         (ports[interface["port_id"]]["device_owner"],
                          ports[interface["port_id"]]["binding:host_id"]))
        local_fip = self.in_region("RegionTwo", "GET",
                                   f"/v2.0/floatingips/{fip['id']}")["floatingip"]
        self.assertEqual((fip["floating_ip_address"], vm["id"], router["id"]),
                         (local_fip["floating_ip_address"], local_fip["port_id"],
                          local_fip["router_id"]))
        self.assertEqual(device_owners.SHADOW, ports[vm["id"]]["device_owner"])
        # The interface, bound to RegionTwo's L3 host, is a shadow in RegionOne.
        self.assertEqual(device_owners.SHADOW,
                         self.ports_in("RegionOne")[interface["port_id"]]["device_owner"])
        self.assertNotIn(router["id"], {r["id"] for r in self.in_region(
            "RegionOne", "GET", "/v2.0/routers")["routers"]})

        self.ok("DELETE", f"/v2.0/floatingips/{fip['id']}")
        self.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface",
                {"subnet_id": self.subnet["id"]})
        self.ok("DELETE", f"/v2.0/routers/{router['id']}")
        self.assertEqual({"SUCCESS"}, {job["status"] for job in self.wait_for_jobs()})
        self.assertEqual([], self.in_region("RegionTwo", "GET", "/v2.0/routers")["routers"])
        self.assertEqual([], self.in_region("RegionTwo", "GET",
                                            "/v2.0/floatingips")["floatingips"])

    def test_an_interface_added_by_port_reaches_the_region_too(self):
        router = self.ok("POST", "/v2.0/routers", {"router": {
            "name": "r", "availability_zone_hints": ["RegionTwo"]}})["router"]
        port = self.ok("POST", "/v2.0/ports", {"port": {
            "network_id": self.network["id"],
            "fixed_ips": [{"subnet_id": self.subnet["id"], "ip_address": "10.0.0.254"}]}})["port"]
        self.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
                {"port_id": port["id"]})
        self.assertEqual({"SUCCESS"}, {job["status"] for job in self.wait_for_jobs()})
        local = self.ports_in("RegionTwo")[port["id"]]
        self.assertEqual(("network:router_interface", router["id"], port["fixed_ips"]),
                         (local["device_owner"], local["device_id"], local["fixed_ips"]))
