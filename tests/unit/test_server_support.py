"""Fixtures the server's unit tests share (no tests in here).

Named ``test_server_*`` to stay next to the tests that use it; stestr finds
no test cases in it.
"""

from __future__ import annotations

import datetime
import http.client
import json
import logging
import os
import threading
import urllib.parse
from typing import Any

import fixtures
import sqlalchemy as sa
import testtools
from oslo_config import cfg

from neutrino.server import config
from neutrino.server.api.extension_manager import IN_TREE_PATH, ExtensionManager
from neutrino.server.db import database, models
from neutrino.server.lib.attributes import ResourceAttributes
from neutrino.server.plugins import manager
from neutrino.server.plugins.l3.floating_ips import FLOATINGIP
from neutrino.server.plugins.l3.routers import ROUTER
from neutrino.server.plugins.ml2.agents import AGENT
from neutrino.server.plugins.ml2.networks import NETWORK
from neutrino.server.plugins.ml2.ports import PORT
from neutrino.server.plugins.ml2.subnets import SUBNET
from neutrino.server.service import NeutrinoServer

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class FakeNotifier:
    """Stands in for rpc.Notifier and remembers what was sent."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.closed = False
        self._lock = threading.Lock()

    def notify(self, event: str, **kwargs: Any) -> None:
        with self._lock:
            self.events.append((event, kwargs))

    def close(self) -> None:
        self.closed = True

    def sent(self, event: str) -> list[dict[str, Any]]:
        with self._lock:
            return [kwargs for name, kwargs in self.events if name == event]


def make_conf(connection: str, overrides: dict[str, Any] | None = None) -> cfg.ConfigOpts:
    """A server ConfigOpts with no files; ``overrides`` keys are 'option' or 'group.option'."""
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    manager.register_options(conf, manager.in_tree_classes())
    conf(args=[], default_config_files=[])
    conf.set_override("connection", connection, group="database")
    conf.set_override("bind_port", 0)
    for key, value in (overrides or {}).items():
        group, _, name = key.rpartition(".")
        conf.set_override(name, value, group=group or None)
    return conf


class SqliteDatabase(fixtures.Fixture):
    """A Database on a fresh SQLite file, schema created."""

    def _setUp(self) -> None:
        directory = self.useFixture(fixtures.TempDir()).path
        self.url = "sqlite:///" + os.path.join(directory, "neutrino.sqlite")
        self.db = database.Database(self.url)
        self.addCleanup(self.db.dispose)
        self.db.create_schema()


class ApiClient:
    """A minimal JSON client; one connection per request so threads can share it."""

    def __init__(self, url: str):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port

    def request(self, method: str, path: str, body: Any = None,
                raw: bytes | None = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            payload = raw if raw is not None else (
                None if body is None else json.dumps(body).encode())
            connection.request(method, path, body=payload,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return response.status, json.loads(data) if data else None

    def create(self, resource: str, **attributes: Any) -> dict[str, Any]:
        status, body = self.request("POST", f"/v2.0/{resource}s", {resource: attributes})
        if status != 201:
            raise AssertionError(f"creating {resource} {attributes} gave {status}: {body}")
        return body[resource]


class ServerFixture(fixtures.Fixture):
    """A whole NeutrinoServer in this process; by default on SQLite, with a fake
    notifier and (without a transport_url override) no RPC."""

    def __init__(self, overrides: dict[str, Any] | None = None, connection: str | None = None,
                 fake_notifier: bool = True):
        super().__init__()
        self.overrides = overrides
        self.connection = connection
        self.fake_notifier = fake_notifier

    def _setUp(self) -> None:
        if self.connection is None:
            directory = self.useFixture(fixtures.TempDir()).path
            self.connection = "sqlite:///" + os.path.join(directory, "neutrino.sqlite")
        # Keeps the server's log out of the test output, and attaches it on failure.
        self.logger = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG,
                                                          format=LOG_FORMAT))
        self.conf = make_conf(self.connection, self.overrides)
        self.notifier = FakeNotifier()
        self.server = NeutrinoServer(
            self.conf, notifier_factory=(lambda: self.notifier) if self.fake_notifier else None)
        self.server.start()
        self.addCleanup(self.server.stop)
        self.client = ApiClient(self.server.url)


def agent_state(host: str, tunnel_types: tuple[str, ...] = ("vxlan",), **extra: Any) -> dict:
    """What an OVS agent reports in report_state."""
    state = {"binary": "neutrino-openvswitch-agent", "host": host,
             "agent_type": "Open vSwitch agent", "topic": "N/A",
             "configurations": {"tunnel_types": list(tunnel_types)}}
    state.update(extra)
    return state


def l3_agent_state(host: str, **extra: Any) -> dict:
    """What an L3 agent reports in report_state."""
    state = {"binary": "neutrino-l3-agent", "host": host, "agent_type": "L3 agent",
             "topic": "l3_agent", "configurations": {}}
    state.update(extra)
    return state


def dhcp_agent_state(host: str, **extra: Any) -> dict:
    """What a DHCP agent reports in report_state."""
    state = {"binary": "neutrino-dhcp-agent", "host": host, "agent_type": "DHCP agent",
             "topic": "dhcp_agent", "configurations": {}}
    state.update(extra)
    return state


def default_attribute_maps() -> dict[str, ResourceAttributes]:
    """The attribute maps of a server with the default plugins: each plugin's own,
    extended by the in-tree extensions."""
    own = {m.resource: m for m in (NETWORK, SUBNET, PORT, AGENT, ROUTER, FLOATINGIP)}
    aliases = {"agent", "binding", "external-net", "net-mtu", "net-mtu-writable", "provider",
               "router", "ext-gw-mode", "l3_agent_scheduler", "dhcp_agent_scheduler"}
    return ExtensionManager([IN_TREE_PATH], aliases, own).attribute_maps


def _checked(server: NeutrinoServer, resource: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return server.extensions.attribute_maps[resource].for_create(attrs)


def create_network(server: NeutrinoServer, **attrs: Any) -> dict[str, Any]:
    """Create through the service, with the API's attribute checks."""
    return server.core.networks.create(_checked(server, "network", attrs))


def create_subnet(server: NeutrinoServer, **attrs: Any) -> dict[str, Any]:
    return server.core.subnets.create(_checked(server, "subnet", attrs))


def create_port(server: NeutrinoServer, **attrs: Any) -> dict[str, Any]:
    return server.core.ports.create(_checked(server, "port", attrs))


def run_in_threads(count: int, work: Any) -> list[Any]:
    """Run ``work(index)`` in ``count`` threads started together; results in index
    order, and the first exception re-raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # noqa: BLE001 - handed to the test below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if failures:
        raise failures[0]
    return results


class ServerTestCase(testtools.TestCase):
    """What every in-process server test checks replies with; ``self.client`` is the
    subclass's (set in its setUp)."""

    client: ApiClient

    def assertError(self, expected_status: int, expected_type: str, response: tuple[int, Any],
                    message_part: str | None = None) -> None:
        status, body = response
        self.assertEqual(expected_status, status, body)
        self.assertEqual(expected_type, body["NeutronError"]["type"], body)
        if message_part is not None:
            self.assertIn(message_part, body["NeutronError"]["message"])

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        """The body of a request that must succeed."""
        status, result = self.client.request(method, path, body)
        self.assertIn(status, (200, 201, 204), result)
        return result


class L3TestCase(ServerTestCase):
    """A server with helpers that build routing topologies through the API.

    A base class only (it has no tests): the L3 API, scheduling and RPC tests share it.
    """

    TENANT = "project-1"
    EXTERNAL_CIDR = "172.24.4.0/24"

    def setUp(self) -> None:
        super().setUp()
        fixture = self.useFixture(ServerFixture())
        self.server = fixture.server
        self.notifier = fixture.notifier
        self.client = fixture.client
        self.endpoint = self.server.rpc_endpoint

    def external_network(self, cidr: str = EXTERNAL_CIDR) -> tuple[dict, dict]:
        network = self.client.create("network", name="public", **{"router:external": True})
        subnet = self.client.create("subnet", network_id=network["id"], cidr=cidr)
        return network, subnet

    def tenant_subnet(self, cidr: str, tenant: str = TENANT, **attrs: Any) -> tuple[dict, dict]:
        network = self.client.create("network", tenant_id=tenant)
        subnet = self.client.create("subnet", network_id=network["id"], cidr=cidr,
                                    tenant_id=tenant, **attrs)
        return network, subnet

    def router(self, external_network_id: str | None = None, **attrs: Any) -> dict:
        if external_network_id is not None:
            attrs["external_gateway_info"] = {"network_id": external_network_id}
        return self.client.create("router", tenant_id=self.TENANT, **attrs)

    def interface(self, action: str, router_id: str, **body: Any) -> tuple[int, Any]:
        return self.client.request("PUT", f"/v2.0/routers/{router_id}/{action}_router_interface",
                                   body)

    def add_interface(self, router_id: str, **body: Any) -> dict:
        status, result = self.interface("add", router_id, **body)
        self.assertEqual(200, status, result)
        return result

    def port(self, port_id: str) -> dict:
        return self.ok("GET", f"/v2.0/ports/{port_id}")["port"]

    def router_ports(self, router_id: str) -> list[dict]:
        return self.ok("GET", f"/v2.0/ports?device_id={router_id}")["ports"]

    def routed_port(self) -> tuple[dict, dict, dict, dict]:
        """(external network, router, tenant subnet, a port on it): the router has an
        interface on the subnet and its gateway on the external network."""
        external, _ = self.external_network()
        network, subnet = self.tenant_subnet("10.0.1.0/24")
        router = self.router(external["id"])
        self.add_interface(router["id"], subnet_id=subnet["id"])
        port = self.client.create("port", network_id=network["id"], tenant_id=self.TENANT)
        return external, router, subnet, port

    def updated_routers(self) -> list[list[str]]:
        return [sent["router_ids"] for sent in self.notifier.sent("routers_updated")]


class DhcpTestCase(ServerTestCase):
    """A server with helpers for DHCP agents, their networks and their ports.

    A base class only (it has no tests): the DHCP scheduling and RPC tests share it.
    """

    AGENTS_PER_NETWORK = 1

    def setUp(self) -> None:
        super().setUp()
        fixture = self.useFixture(ServerFixture(
            {"dhcp_agents_per_network": self.AGENTS_PER_NETWORK}))
        self.server = fixture.server
        self.notifier = fixture.notifier
        self.client = fixture.client
        self.endpoint = self.server.rpc_endpoint

    def report(self, host: str) -> None:
        self.endpoint.report_state(agent_state=dhcp_agent_state(host))

    def report_ovs(self, host: str) -> None:
        self.endpoint.report_state(agent_state=agent_state(host))

    def kill(self, host: str) -> None:
        """Make ``host``'s agents look dead: their last heartbeat is long ago."""
        def age(session: Any) -> None:
            for agent in session.scalars(sa.select(models.Agent).where(
                    models.Agent.host == host)):
                agent.heartbeat_timestamp -= datetime.timedelta(minutes=5)
        self.server.db.run(age)

    def agent_id(self, host: str, agent_type: str = "DHCP agent") -> str:
        [agent] = [a for a in self.server.core.agents.list()
                   if a["host"] == host and a["agent_type"] == agent_type]
        return str(agent["id"])

    def dhcp_network(self, cidr: str = "10.0.0.0/24", **subnet_attrs: Any) -> tuple[dict, dict]:
        """A network with one subnet, DHCP-enabled unless ``enable_dhcp=False``."""
        network = self.client.create("network", name="net")
        subnet = self.client.create("subnet", network_id=network["id"], cidr=cidr,
                                    **subnet_attrs)
        return network, subnet

    def hosts_of(self, network_id: str) -> list[str]:
        return [agent["host"] for agent in self.ok(
            "GET", f"/v2.0/networks/{network_id}/dhcp-agents")["agents"]]

    def changed_networks(self) -> list[list[str]]:
        return [sent["network_ids"] for sent in self.notifier.sent("dhcp_networks_changed")]

    def dhcp_port(self, network_id: str, host: str = "host-1",
                  device_id: str = "dhcp-host-1") -> dict:
        return self.endpoint.get_dhcp_port(host=host, network_id=network_id,
                                           device_id=device_id)


class SecurityGroupTestCase(ServerTestCase):
    """A server, a network of no project (whose creation makes no default group) with a
    subnet, and helpers in groups, rules and ports.

    A base class only (it has no tests): the security group and port security tests share it.
    """

    PROJECT = "project-1"

    def setUp(self) -> None:
        super().setUp()
        fixture = self.useFixture(ServerFixture())
        self.server, self.notifier, self.client = fixture.server, fixture.notifier, fixture.client
        self.network = self.client.create("network", name="net")
        self.subnet = self.client.create("subnet", network_id=self.network["id"],
                                         cidr="10.0.0.0/24")

    def group(self, project: str = PROJECT, **attrs: Any) -> dict:
        return self.ok("POST", "/v2.0/security-groups", {"security_group": {
            "tenant_id": project, "name": "web", **attrs}})["security_group"]

    def get_group(self, group_id: str) -> dict:
        return self.ok("GET", f"/v2.0/security-groups/{group_id}")["security_group"]

    def groups_of(self, project: str) -> list[dict]:
        return self.ok("GET", f"/v2.0/security-groups?project_id={project}")["security_groups"]

    def default_group(self, project: str = PROJECT) -> dict:
        [group] = [g for g in self.groups_of(project) if g["name"] == "default"]
        return group

    def post_rule(self, group_id: str, **attrs: Any) -> tuple[int, Any]:
        return self.client.request("POST", "/v2.0/security-group-rules", {
            "security_group_rule": {"security_group_id": group_id, "direction": "ingress",
                                    **attrs}})

    def rule(self, group_id: str, **attrs: Any) -> dict:
        status, body = self.post_rule(group_id, **attrs)
        self.assertEqual(201, status, body)
        return body["security_group_rule"]

    def port(self, project: str = PROJECT, **attrs: Any) -> dict:
        return self.client.create("port", tenant_id=project,
                                  **{"network_id": self.network["id"], **attrs})

    def update_port(self, port_id: str, **attrs: Any) -> tuple[int, Any]:
        return self.client.request("PUT", f"/v2.0/ports/{port_id}", {"port": attrs})
