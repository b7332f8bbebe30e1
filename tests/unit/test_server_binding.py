"""Port binding: which agent can wire a port, and the VIF type that results."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
import testtools

from neutrino.server.db import agents, models
from neutrino.server.plugins.ml2 import binding, mechanisms
from neutrino.server.plugins.ml2.type_drivers.base import Segment
from neutrino.server.plugins.ml2.type_drivers.manager import TypeManager
from tests.unit import test_server_support as support

VXLAN_100 = Segment("vxlan", None, 100)


class TestChoose(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.types = TypeManager.from_conf(support.make_conf("sqlite:////unused"))

    def _choose(self, host, *configurations):
        return binding.choose(host, [VXLAN_100], list(configurations), self.types)

    def test_no_host_is_unbound(self):
        result = self._choose("", {"tunnel_types": ["vxlan"]})
        self.assertEqual("unbound", result.vif_type)
        self.assertFalse(result.bound)

    def test_an_agent_with_the_tunnel_type_binds(self):
        result = self._choose("host-1", {"tunnel_types": ["gre"]}, {"tunnel_types": ["vxlan"]})
        self.assertEqual(("ovs", {"port_filter": False}, VXLAN_100),
                         (result.vif_type, result.vif_details, result.segment))

    def test_no_agent_that_serves_the_type_fails(self):
        for configurations in ([], [{"tunnel_types": ["gre"]}], [{}],
                               [{"tunnel_types": None, "bridge_mappings": {"physnet1": "br"}}]):
            result = self._choose("host-1", *configurations)
            self.assertEqual("binding_failed", result.vif_type, configurations)
            self.assertEqual({}, result.vif_details)


class TestIsAlive(testtools.TestCase):
    def test_heartbeat_within_agent_down_time(self):
        now = datetime.datetime(2030, 1, 1, 12, 0, 0)
        self.assertTrue(agents.is_alive(now - datetime.timedelta(seconds=15), now, 15))
        self.assertFalse(agents.is_alive(now - datetime.timedelta(seconds=16), now, 15))
        self.assertFalse(agents.is_alive(None, now, 15))


class TestPortBinding(testtools.TestCase):
    """Binding as port create and update do it, against the agents table."""

    def setUp(self):
        super().setUp()
        self.server = self.useFixture(support.ServerFixture()).server
        self.network = support.create_network(self.server)

    def _report(self, host, **extra):
        self.server.core.agents.report_state(support.agent_state(host, **extra))

    def _port(self, host):
        return support.create_port(self.server, network_id=self.network["id"],
                                   **{"binding:host_id": host})

    def _age_agents(self, seconds):
        def work(session):
            for agent in session.scalars(sa.select(models.Agent)):
                agent.heartbeat_timestamp -= datetime.timedelta(seconds=seconds)
        self.server.db.run(work)

    def test_binds_to_a_live_agent_on_the_host(self):
        self._report("host-1")
        port = self._port("host-1")
        self.assertEqual("ovs", port["binding:vif_type"])
        self.assertEqual({"port_filter": False}, port["binding:vif_details"])

    def test_fails_on_a_host_without_an_agent(self):
        self._report("host-1")
        self.assertEqual("binding_failed", self._port("host-2")["binding:vif_type"])

    def test_fails_when_the_agent_is_dead(self):
        self._report("host-1")
        self._age_agents(60)
        self.assertEqual("binding_failed", self._port("host-1")["binding:vif_type"])

    def test_fails_when_the_agent_lacks_the_tunnel_type(self):
        self._report("host-1", tunnel_types=("gre",))
        self.assertEqual("binding_failed", self._port("host-1")["binding:vif_type"])

    def test_ignores_other_agent_types(self):
        self._report("host-1", agent_type="DHCP agent")
        self.assertEqual("binding_failed", self._port("host-1")["binding:vif_type"])

    def test_setting_the_host_again_retries_a_failed_binding(self):
        port = self._port("host-1")
        self.assertEqual("binding_failed", port["binding:vif_type"])
        self._report("host-1")
        port = self.server.core.ports.update(port["id"], {"binding:host_id": "host-1"})
        self.assertEqual("ovs", port["binding:vif_type"])

    def test_clearing_the_host_unbinds_and_downs_the_port(self):
        self._report("host-1")
        port = self._port("host-1")
        self.server.rpc_endpoint.update_device_up(device=port["id"], agent_id="a", host="host-1")
        port = self.server.core.ports.update(port["id"], {"binding:host_id": ""})
        self.assertEqual(("unbound", "DOWN"), (port["binding:vif_type"], port["status"]))


class HostNamedDriver(mechanisms.MechanismDriver):
    """Binds any port of a host named 'tap-*', agent or not, as a VIF type of its own."""

    def bind(self, session, port, segments):
        if not port.binding.host.startswith("tap-"):
            return None
        return binding.Binding("tap", {"by": "host name"}, segments[0])


class TestMechanismDrivers(testtools.TestCase):
    """[ml2] mechanism_drivers: asked in order, the first that binds wins."""

    def _server(self, *names):
        server = self.useFixture(support.ServerFixture(
            {"ml2.mechanism_drivers": list(names)})).server
        network = support.create_network(server)
        server.core.agents.report_state(support.agent_state("tap-1"))
        return server, network

    def _vif_type(self, server, network, host):
        return support.create_port(server, network_id=network["id"],
                                   **{"binding:host_id": host})["binding:vif_type"]

    def test_the_first_driver_that_binds_wins(self):
        driver = f"{__name__}.HostNamedDriver"
        server, network = self._server(driver, "openvswitch")
        self.assertEqual("tap", self._vif_type(server, network, "tap-1"))
        server, network = self._server("openvswitch", driver)
        self.assertEqual("ovs", self._vif_type(server, network, "tap-1"))
        # Neither binds a port of a host without an agent, not named tap-*.
        self.assertEqual("binding_failed", self._vif_type(server, network, "host-9"))

    def test_without_openvswitch_no_ovs_agent_binds(self):
        server, network = self._server("l2population")
        self.assertEqual("binding_failed", self._vif_type(server, network, "tap-1"))

    def test_an_unknown_or_wrong_driver_is_named(self):
        for names, message in (
                (["openvswitch", "linuxbridge"], "[ml2] mechanism_drivers 'linuxbridge'"),
                ([f"{__name__}.TestMechanismDrivers"], "is not a MechanismDriver"),
                ([], "[ml2] mechanism_drivers is empty")):
            error = self.assertRaises(ValueError, mechanisms.MechanismManager, names, None)
            self.assertIn(message, str(error))
