"""The central and local roles on MySQL (MariaDB), as the harness deploys them.

Here a region may call the central server back while a central request is
still in its transaction: on SQLite every transaction takes the database's
write lock (BEGIN IMMEDIATE), so such a call would wait for it.
"""

from __future__ import annotations

import sqlalchemy as sa

from neutrino.server.plugins.regions.models import JobLock
from tests.functional.test_server_mysql import make_database
from tests.unit import test_server_regions


class TestRegionsOnMySql(test_server_regions.RegionsTestCase):
    def database_url(self, server: str) -> str | None:
        return make_database(self)

    def test_deletes_before_the_router_job_ran_take_the_router_out_of_the_region(self):
        """A test's cleanup order: floating IP, interface, router, machine, subnets,
        networks, each at once.  The router's and floating IP's jobs have not
        run yet (held by their locks, as behind a busy worker); the region's
        copies still have the floating IP, the interface and the gateway, and
        the central deletes take them out rather than fail on them."""
        ext = self.ok("POST", "/v2.0/networks", {"network": {
            "name": "public", "router:external": True, "provider:network_type": "flat",
            "provider:physical_network": "extnet"}})["network"]
        ext_subnet = self.ok("POST", "/v2.0/subnets", {"subnet": {
            "network_id": ext["id"], "cidr": "172.24.4.0/24", "ip_version": 4,
            "enable_dhcp": False}})["subnet"]
        router = self.ok("POST", "/v2.0/routers", {"router": {
            "name": "r", "availability_zone_hints": ["RegionTwo"],
            "external_gateway_info": {"network_id": ext["id"]}}})["router"]
        self.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
                {"subnet_id": self.subnet["id"]})
        vm = self.boot("RegionTwo", "host-2")
        fip = self.ok("POST", "/v2.0/floatingips", {"floatingip": {
            "floating_network_id": ext["id"], "port_id": vm["id"]}})["floatingip"]
        self.assertEqual({"SUCCESS"}, {job["status"] for job in self.wait_for_jobs()})
        self.assertEqual(2, len(self.in_region("RegionTwo", "GET", "/v2.0/ports?device_id="
                                               + router["id"])["ports"]))
        self.in_region("RegionTwo", "GET", f"/v2.0/floatingips/{fip['id']}")

        keys = [f"router_setup:{router['id']}", f"floatingip_setup:{fip['id']}"]
        self.central.server.db.run(lambda session: session.add_all([
            JobLock(resource_key=key, job_id=f"held-by-the-test-{n}")
            for n, key in enumerate(keys)]))
        self.ok("DELETE", f"/v2.0/floatingips/{fip['id']}")
        self.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface",
                {"subnet_id": self.subnet["id"]})
        self.ok("DELETE", f"/v2.0/routers/{router['id']}")
        self.in_region("RegionTwo", "DELETE", f"/v2.0/ports/{vm['id']}")
        self.ok("DELETE", f"/v2.0/subnets/{self.subnet['id']}")
        self.ok("DELETE", f"/v2.0/networks/{self.network['id']}")
        self.ok("DELETE", f"/v2.0/subnets/{ext_subnet['id']}")
        self.ok("DELETE", f"/v2.0/networks/{ext['id']}")
        self.assertEqual([], self.in_region("RegionTwo", "GET", "/v2.0/networks")["networks"])
        self.assertEqual([], self.in_region("RegionTwo", "GET", "/v2.0/ports")["ports"])

        self.central.server.db.run(lambda session: session.execute(
            sa.delete(JobLock).where(JobLock.resource_key.in_(keys))))
        self.assertEqual({"SUCCESS"}, {job["status"] for job in self.wait_for_jobs()})
        self.assertEqual([], self.in_region("RegionTwo", "GET", "/v2.0/routers")["routers"])
        self.assertEqual([], self.in_region("RegionTwo", "GET",
                                            "/v2.0/floatingips")["floatingips"])
        self.assertEqual([], self.ok("GET", "/v1.0/routings")["routings"])
