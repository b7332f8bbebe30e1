"""``neutron.tests.fullstack.base``, on this harness.

``BaseFullStackTestCase.setUp(environment)`` builds the test's deployment
with this harness (its own run prefix, vhost, database, namespaces and OVS
instances; the leak check after the test) and gives the test Neutron's
names for it: ``environment`` (``fullstack.compat.neutron.environment``),
``client`` (python-neutronclient, as Neutron's tests call it) and
``safe_client`` (Neutron's own ``ClientFixture``).  Its helpers do what
Neutron's do; ``wait_until_true`` is Neutron's, under the name the suite
still imports from here.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import time
from concurrent import futures
from typing import Any

import fixtures
import netaddr
from neutron.agent.l3 import namespaces
from neutron.agent.linux import dhcp as linux_dhcp
from neutron.agent.linux import ip_lib
from neutron.common import utils as common_utils
from neutron.tests.common import net_helpers
from neutron.tests.fullstack.resources import client as client_resource
from neutronclient.v2_0 import client as neutron_client

from fullstack import base as harness_base
from fullstack import environment as harness_environment
from fullstack.compat.neutron import current, default_node, machine, privileged, servers, service

LOG = logging.getLogger(__name__)

# Where Neutron's suite puts its logs (this harness: each test's log_dir).
DEFAULT_LOG_DIR = os.path.join(os.environ.get("OS_LOG_PATH", "/tmp"), "dsvm-fullstack-logs")
ROOTDIR = os.path.dirname(os.path.abspath(__file__))

#: Neutron's (``neutron.common.utils``): the suite calls it by this module's name.
wait_until_true = common_utils.wait_until_true


class BaseFullStackTestCase(harness_base.BaseFullStackTestCase):
    """Neutron's fullstack base test case on this harness."""

    # Neutron's kinds, not the harness's: its client, its client fixture and
    # this layer's environment.
    client: Any
    safe_client: Any
    environment: Any

    def setUp(self, environment) -> None:  # type: ignore[override]
        privileged.run_in_process()
        reason = environment.unsupported()
        if reason:
            self.skipTest(reason)
        harness_env = environment.harness_environment()
        super().setUp(harness_env)
        current.set_run(self.ctx)
        self.addCleanup(current.set_run, None)
        #: The harness's environment (forensics, the picture, its machines).
        self.harness_environment = self.environment
        self.harness_safe_client = self.safe_client
        # Names the suite computes in this process, as the agents make them.
        prefix = service.namespace_prefix(self.prefix)
        self.useFixture(fixtures.MonkeyPatch(
            "neutron.agent.l3.namespaces.NS_PREFIX", prefix + namespaces.NS_PREFIX))
        self.useFixture(fixtures.MonkeyPatch(
            "neutron.agent.linux.dhcp.NS_PREFIX", prefix + linux_dhcp.NS_PREFIX))
        self.client = neutron_client.Client(
            auth_strategy="noauth", endpoint_url=self.harness_environment.server.url)
        environment.test_name = self.get_name()
        environment.adopt(self.harness_environment, self.client, self.harness_safe_client)
        self.environment = environment
        if self.harness_environment.hosts:
            first = self.harness_environment.hosts[0]
            self.useFixture(default_node.DefaultNode(first.ovs, first.namespace))
        desc = environment.env_desc
        if desc.has_placement:
            environment.placement = self.useFixture(
                servers.placement(self.ctx, desc.placement_port))
        if desc.has_metadata:
            environment.metadata = self.useFixture(
                servers.metadata(self.ctx, desc.metadata_host, desc.metadata_port))
        self.safe_client = self.useFixture(client_resource.ClientFixture(self.client))
        # As Neutron's Environment ends its set-up (the harness waited for its
        # own agents; an SR-IOV agent is an extension's).
        environment.wait_until_env_is_up()

    @property
    def deployment(self) -> harness_environment.Environment:
        return getattr(self, "harness_environment", None) or self.environment

    def get_name(self) -> str:
        class_name, test_name = self.id().split(".")[-2:]
        return f"{class_name}.{test_name}"

    def _wait_until_agent_up(self, agent_id: str) -> None:
        wait_until_true(lambda: self.client.show_agent(agent_id)["agent"].get("alive"))

    def _wait_until_agent_down(self, agent_id: str) -> None:
        def down() -> bool:
            if self.client.show_agent(agent_id)["agent"].get("alive"):
                return False
            # Neutron's guard against a heartbeat still on its way to the
            # database (its bug 2045757): dead twice, two seconds apart.
            time.sleep(2)
            return not self.client.show_agent(agent_id)["agent"].get("alive")

        wait_until_true(down)

    def _assert_ping_during_agents_restart(self, agents, src_namespace, ips,
                                           restart_timeout=30, ping_timeout=1, count=10):
        with net_helpers.async_ping(src_namespace, ips, timeout=ping_timeout,
                                    count=count) as done:
            with futures.ThreadPoolExecutor(max_workers=len(agents)) as executor:
                restarts = [agent.restart(executor=executor) for agent in agents]
                futures.wait(restarts, timeout=restart_timeout)
                self.assertTrue(all(r.done() for r in restarts))
            names = ", ".join(sorted({agent.process_fixture.process_name for agent in agents}))
            wait_until_true(done, timeout=count * (ping_timeout + 1),
                            exception=RuntimeError(f"pings to {ips} failed while {names} "
                                                   "restarted"))

    def _find_available_ips(self, network, subnet, num):
        taken = netaddr.IPSet(
            ip["ip_address"] for port in self.safe_client.list_ports(network_id=network["id"])
            for ip in port["fixed_ips"])
        taken.add(subnet["gateway_ip"])
        pool = subnet["allocation_pools"][0]
        free = netaddr.IPSet(netaddr.IPRange(pool["start"], pool["end"])) - taken
        if free.size < num:
            self.fail("Cannot find enough free IP addresses.")
        start = random.randint(0, min(free.size - num, 1000))
        return [str(ip) for ip in itertools.islice(free, start, start + num)]

    def _create_external_vm(self, network, subnet, ip=None):
        """A machine on the central data bridge, tagged with the (VLAN) external
        network's segmentation id, as Neutron's: the router's upstream peer."""
        address = common_utils.ip_to_cidr(ip or subnet["gateway_ip"], 24)
        vm = self.useFixture(machine.FabricMachine(self.environment.central_bridge, address))
        vm.bridge.set_db_attribute("Port", vm.port.name, "tag",
                                   network.get("provider:segmentation_id"))
        return vm

    def _prepare_vms_in_net(self, tenant_uuid, network, use_dhcp=False):
        vms = machine.FakeFullstackMachinesList(
            self.useFixture(machine.FakeFullstackMachine(
                host, network["id"], tenant_uuid, self.safe_client, use_dhcp=use_dhcp))
            for host in self.environment.hosts)
        vms.block_until_all_boot()
        if use_dhcp:
            vms.block_until_all_dhcp_config_done()
        return vms

    def _simulate_concurrent_requests_process(self, calls, args, raise_on_exception=False):
        """Each ``calls[i](*args[i])`` at once, one thread each: the exceptions
        they raised (the first raised here, with ``raise_on_exception``)."""
        pairs = list(zip(calls, args, strict=False))

        def call(pair):
            function, function_args = pair
            try:
                function(*function_args)
            except Exception as error:
                return error
            return None

        with futures.ThreadPoolExecutor(max_workers=max(1, len(pairs))) as pool:
            errors = [error for error in pool.map(call, pairs) if error is not None]
        if errors and raise_on_exception:
            raise errors[0]
        return errors

    def _simulate_concurrent_requests_process_and_raise(self, calls, args):
        self._simulate_concurrent_requests_process(calls, args, raise_on_exception=True)

    def assert_namespace_exists(self, ns_name):
        wait_until_true(lambda: ip_lib.network_namespace_exists(ns_name, try_is_ready=True))
