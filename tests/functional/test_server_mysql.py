"""The server's API against a real MySQL (MariaDB) database, one per test."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
import testtools

from fullstack import prerequisites
from tests.unit import test_server_support as support

DATABASE_PREFIX = "fullstack_srvt"


def make_database(test: testtools.TestCase) -> str:
    """A MySQL database of the test's own (dropped in its cleanup): its URL.
    Skips the test, saying why, where MySQL is not reachable."""
    admin_url = prerequisites.Settings.from_environment().db_admin_url
    admin = sa.create_engine(admin_url)
    test.addCleanup(admin.dispose)
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as error:
        test.skipTest(str(prerequisites.MissingPrerequisite(
            f"MySQL at {admin_url} is not reachable ({error.orig})")))
    name = DATABASE_PREFIX + secrets.token_hex(4)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    test.addCleanup(_drop, admin, name)
    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop(admin: sa.Engine, name: str) -> None:
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")


class MySqlServerTestCase(testtools.TestCase):
    def setUp(self):
        super().setUp()
        fixture = self.useFixture(support.ServerFixture(connection=make_database(self)))
        self.server = fixture.server
        self.client = fixture.client


class TestApiOnMySql(MySqlServerTestCase):
    def test_network_subnet_port_and_address_conflict(self):
        network = self.client.create("network", name="net")
        self.assertEqual(("vxlan", 1, 1450), (network["provider:network_type"],
                                             network["provider:segmentation_id"], network["mtu"]))
        subnet = self.client.create("subnet", network_id=network["id"], cidr="10.0.0.0/24")
        port = self.client.create("port", network_id=network["id"],
                                  fixed_ips=[{"ip_address": "10.0.0.10"}])
        self.assertEqual([{"subnet_id": subnet["id"], "ip_address": "10.0.0.10"}],
                         port["fixed_ips"])
        status, body = self.client.request("POST", "/v2.0/ports", {"port": {
            "network_id": network["id"], "fixed_ips": [{"ip_address": "10.0.0.10"}]}})
        self.assertEqual((409, "IpAddressAlreadyAllocated"),
                         (status, body["NeutronError"]["type"]))
        status, body = self.client.request("GET", f"/v2.0/ports?network_id={network['id']}")
        self.assertEqual([port["id"]], [p["id"] for p in body["ports"]])

    def test_concurrent_creates_get_distinct_vnis_and_addresses(self):
        # Unlike SQLite, MySQL lets these transactions really race, so the
        # unique keys and the retries are what keep the results distinct. A
        # retry picks among a window of free values, so the ids need not be
        # the lowest eight, only distinct and from the range.
        networks = support.run_in_threads(
            8, lambda index: self.client.create("network", name=f"net-{index}"))
        vnis = {n["provider:segmentation_id"] for n in networks}
        self.assertEqual(8, len(vnis), f"a VNI was given twice: {vnis}")
        self.assertTrue(vnis <= set(range(1, 1001)), vnis)
        network = networks[0]
        self.client.create("subnet", network_id=network["id"], cidr="10.0.0.0/24")
        ports = support.run_in_threads(
            8, lambda index: self.client.create("port", network_id=network["id"]))
        addresses = {p["fixed_ips"][0]["ip_address"] for p in ports}
        self.assertEqual(8, len(addresses), f"an address was given twice: {addresses}")
        self.assertTrue(addresses <= {f"10.0.0.{n}" for n in range(2, 255)}, addresses)
