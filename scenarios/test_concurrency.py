"""Many clients at once: a write that loses a race is retried inside the server
(never a 5xx), and running out of addresses is a clean 409."""

from __future__ import annotations

import collections
import concurrent.futures
import time

import netaddr
from testtools import content

from fullstack import base, environment
from fullstack.resources import client

CLIENTS = 30
PORT_CREATES = 300
NETWORK_CREATES = 60
SUBNET_CIDR = "20.0.0.0/26"   # 61 addresses for ports: .2 to .62, the gateway is .1


class TestConcurrentWrites(base.BaseFullStackTestCase):
    def setUp(self):
        super().setUp(environment.Environment(
            environment.EnvironmentDescription(network_type="vxlan"),
            [environment.HostDescription()]))

    def fire(self, count: int, request) -> tuple[collections.Counter, list, float]:
        """``request(i)`` for i in range(count) from CLIENTS threads: the statuses
        seen, the bodies created and the requests per second."""
        def one(index: int) -> tuple[int, dict | None]:
            try:
                return 201, request(index)
            except client.ApiError as error:
                return error.status, None

        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(one, range(count)))
        rate = count / (time.monotonic() - start)
        self.addDetail(f"requests per second ({count} from {CLIENTS} clients)",
                       content.text_content(f"{rate:.1f}"))
        statuses = collections.Counter(status for status, _ in results)
        return statuses, [body for _, body in results if body is not None], rate

    def test_racing_port_creates_fill_the_subnet_exactly_and_the_rest_get_409(self):
        network = self.safe_client.create_network(self.tenant_id)
        subnet = self.safe_client.create_subnet(self.tenant_id, network["id"], SUBNET_CIDR)
        capacity = sum(netaddr.IPRange(pool["start"], pool["end"]).size
                       for pool in subnet["allocation_pools"])
        self.assertEqual(61, capacity)

        statuses, ports, _ = self.fire(PORT_CREATES, lambda index: self.safe_client.create_port(
            self.tenant_id, network["id"], name=f"racer-{index}"))
        self.assertEqual({201: capacity, 409: PORT_CREATES - capacity}, dict(statuses))
        addresses = [port["fixed_ips"][0]["ip_address"] for port in ports]
        self.assertEqual(capacity, len(set(addresses)), "an address was given twice")
        self.assertEqual(capacity, len({port["mac_address"] for port in ports}),
                         "a MAC was given twice")
        self.assertEqual(sorted(addresses), sorted(
            p["fixed_ips"][0]["ip_address"] for p in self.client.list_ports(
                network_id=network["id"])))

    def test_racing_network_creates_each_get_their_own_segment(self):
        statuses, networks, _ = self.fire(NETWORK_CREATES, lambda index: (
            self.safe_client.create_network(self.tenant_id, name=f"racer-{index}")))
        self.assertEqual({201: NETWORK_CREATES}, dict(statuses))
        segments = [net["provider:segmentation_id"] for net in networks]
        self.assertEqual(NETWORK_CREATES, len(set(segments)),
                         f"a segmentation id was given twice: {sorted(segments)}")
