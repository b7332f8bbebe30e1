"""The seam to the deployed system: choosing a service, and what neutrino's is given."""

from __future__ import annotations

import os
import types

import fixtures
import testtools

from fullstack import descriptions, prerequisites, process, services, wait
from fullstack.resources import lasting, records
from fullstack.services import forking, neutrino
from fullstack.services.base import AgentSpec, ServerSpec, Service


def _ctx(directory: str, lasting: bool = False) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        log_dir=directory, run_dir=directory, prefix="fs1234", lasting=lasting,
        settings=types.SimpleNamespace(state_dir=directory, log_dir=directory),
        owner=records.Ownership("fs1234", directory, directory))


def _agent_spec(ctx) -> AgentSpec:
    return AgentSpec(ctx=ctx, env_desc=descriptions.EnvironmentDescription(l2_pop=True),
                     hostname="host-2", namespace="fs1234-h2", transport_url="amqp://t",
                     ovsdb_connection="unix:/run/db.sock", ovs_run_dir="/run/ovs",
                     local_ip="240.0.1.12", bridge_mappings={"physnet1": "br-phys"},
                     namespace_prefix="fs1234-h2-", state_dir=os.path.join(ctx.run_dir, "h2"))


class TestChoosingAService(testtools.TestCase):
    def test_by_short_name_and_by_import_path(self):
        self.assertIsInstance(services.load("neutrino"), neutrino.NeutrinoService)
        self.assertIsInstance(services.load("fullstack.services.neutrino.NeutrinoService"),
                              neutrino.NeutrinoService)
        self.assertIsInstance(services.load("fullstack.services.neutrino:NeutrinoService"),
                              neutrino.NeutrinoService)

    def test_an_unknown_name_is_named(self):
        error = self.assertRaises(ValueError, services.load, "neutrin")
        self.assertIn("service 'neutrin' is neither one of neutrino", str(error))
        error = self.assertRaises(ValueError, services.load, "no_such.module.Service")
        self.assertIn("cannot import no_such.module", str(error))
        error = self.assertRaises(ValueError, services.load, "fullstack.process.ServiceProcess")
        self.assertIn("has no Service class ServiceProcess", str(error))

    def test_the_description_may_name_one_and_must_not_be_empty(self):
        self.assertEqual("neutrino",
                         descriptions.EnvironmentDescription(service="neutrino").service)
        self.assertIsNone(descriptions.EnvironmentDescription().service)
        error = self.assertRaises(ValueError, descriptions.EnvironmentDescription, service=" ")
        self.assertIn("service ' ' must name a service", str(error))

    def test_the_run_default_comes_from_fullstack_service(self):
        self.useFixture(fixtures.EnvironmentVariable("FULLSTACK_SERVICE", "neutron"))
        self.assertEqual("neutron", prerequisites.Settings.from_environment().service)
        self.useFixture(fixtures.EnvironmentVariable("FULLSTACK_SERVICE"))
        self.assertEqual("neutrino", prerequisites.Settings.from_environment().service)

    def test_a_service_is_an_abstract_seam(self):
        self.assertRaises(TypeError, Service)   # every abstract method must be given


class TestNeutrinoService(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.ctx = _ctx(self.useFixture(fixtures.TempDir()).path)
        self.service = neutrino.NeutrinoService()

    def test_the_server_config_names_plugins_broker_and_database(self):
        server = self.service.server(ServerSpec(
            ctx=self.ctx, env_desc=descriptions.EnvironmentDescription(network_type="vlan"),
            bind_host="240.0.0.1", bind_port=23456, transport_url="amqp://u:p@127.0.0.1/v",
            database_url="sqlite:////tmp/x.db", broker=None))
        self.assertIsInstance(server, process.Server)
        self.assertEqual("http://240.0.0.1:23456", server.url)
        default = server.sections["DEFAULT"]
        self.assertEqual(("ml2", ["router", "dhcp_agent_scheduler", "security_group"],
                          "amqp://u:p@127.0.0.1/v"),
                         (default["core_plugin"], default["service_plugins"],
                          default["transport_url"]))
        self.assertEqual(["vlan"], server.sections["ml2"]["tenant_network_types"])
        self.assertEqual(["physnet1:1000:1999"],
                         server.sections["ml2_type_vlan"]["network_vlan_ranges"])
        self.assertEqual(["-m", "neutrino.server", "--config-file", server.config_path],
                         server.cmd[1:])

    def test_in_a_test_runner_server_and_agents_fork_from_kept_zygotes(self):
        ctx = _ctx(self.ctx.log_dir, lasting=True)
        server = self.service.server(ServerSpec(
            ctx=ctx, env_desc=descriptions.EnvironmentDescription(), bind_host="240.0.0.1",
            bind_port=23456, transport_url="", database_url="sqlite:////tmp/x.db", broker=None))
        self.assertIsInstance(server, forking.ForkedServer)
        self.assertIsInstance(server, process.Server)
        self.assertEqual(["neutrino-server", "--config-file", server.config_path], server.cmd)
        self.assertEqual("neutrino-server-zygote", server.zygote.name)
        agent = self.service.agent("l2", _agent_spec(ctx))
        self.assertIsInstance(agent, forking.ForkedProcess)
        self.assertEqual(["neutrino-openvswitch-agent", "--config-file", agent.config_path],
                         agent.cmd)
        self.assertEqual(("neutrino-agent-zygote", "fs1234-h2"),
                         (agent.zygote.name, agent.namespace))
        # Nothing is launched until a process is forked.
        self.assertEqual(set(), lasting.pids())

    def test_central_and_local_servers_are_named_and_configured_by_role(self):
        def server(role: str, region: str = "", central_url: str = ""):
            return self.service.server(ServerSpec(
                ctx=self.ctx, env_desc=descriptions.EnvironmentDescription(),
                bind_host="240.0.0.1", bind_port=23456, transport_url="",
                database_url="sqlite:////tmp/x.db", broker=None, role=role,
                region_name=region, central_url=central_url))

        central = server("central")
        self.assertEqual(("neutrino-central-server", "central"),
                         (central.name, central.sections["DEFAULT"]["role"]))
        self.assertNotIn("central_url", central.sections["region"])
        local = server("local", "RegionTwo", "http://240.0.0.1:1")
        self.assertEqual("neutrino-server-RegionTwo", local.name)
        self.assertEqual(("RegionTwo", "http://240.0.0.1:1", 0),
                         (local.sections["region"]["region_name"],
                          local.sections["region"]["central_url"],
                          local.sections["region"]["failed_job_redo_interval"]))
        self.assertIsNone(self.service.unsupported_regions())
        self.assertIn("no central and local server roles",
                      services.load("neutron").unsupported_regions())

    def test_each_agent_gets_the_hosts_values(self):
        spec = _agent_spec(self.ctx)
        l2 = self.service.agent("l2", spec)
        self.assertEqual(("host-2-ovs-agent", "neutrino-openvswitch-agent", "fs1234-h2"),
                         (l2.name, l2.binary, l2.namespace))
        ovs = l2.sections["ovs"]
        self.assertEqual(("240.0.1.12", {"physnet1": "br-phys"}, "unix:/run/db.sock"),
                         (ovs["local_ip"], ovs["bridge_mappings"], ovs["ovsdb_connection"]))
        self.assertTrue(l2.sections["agent"]["l2_population"])
        dhcp = self.service.agent("dhcp", spec)
        self.assertEqual(os.path.join(spec.state_dir, "dhcp"),
                         dhcp.sections["DEFAULT"]["state_path"])
        self.assertEqual("fs1234-h2-", self.service.agent("l3", spec)
                         .sections["DEFAULT"]["namespace_prefix"])

    def test_agent_namespaces_carry_the_hosts_prefix(self):
        spec = _agent_spec(self.ctx)
        self.assertEqual("fs1234-h2-qrouter-r1", self.service.router_namespace(spec, "r1"))
        self.assertEqual("fs1234-h2-qdhcp-n1", self.service.dhcp_namespace(spec, "n1"))

    def test_dhcp_servers_are_found_by_their_pid_files_only(self):
        spec = _agent_spec(self.ctx)
        folder = os.path.join(spec.state_dir, "dhcp", "n1")
        os.makedirs(folder)
        with open(os.path.join(folder, "pid"), "w") as f:
            f.write(str(os.getpid()))   # this process does not name the file: not a dnsmasq
        self.assertEqual([], self.service.dhcp_servers(spec, "n1"))


class TestDescriptionsForEveryService(testtools.TestCase):
    def test_a_flat_network_is_a_provider_network(self):
        flat = descriptions.EnvironmentDescription(network_type="flat")
        self.assertEqual({"provider:network_type": "flat",
                          "provider:physical_network": "physnet1"}, flat.network_attrs())
        self.assertEqual({}, descriptions.EnvironmentDescription().network_attrs())


class TestKnownBugs(testtools.TestCase):
    """A check that finds a service's known bug is an expected failure there only."""

    def outcome(self, known_bugs: dict[str, str], check) -> testtools.TestResult:
        from fullstack import base

        class Case(base.BaseFullStackTestCase):
            def setUp(self):
                testtools.TestCase.setUp(self)   # no deployment: only the service
                self.environment = types.SimpleNamespace(service=types.SimpleNamespace(
                    name="fake", known_bugs=known_bugs))

            def tearDown(self):
                testtools.TestCase.tearDown(self)

            def test_it(self):
                self.expect_known_bug("moves-undone", check)

        result = testtools.TestResult()
        Case("test_it").run(result)
        return result

    def failing(self) -> None:
        raise AssertionError("back on VLAN 1790")

    def test_the_bug_where_known_is_an_expected_failure(self):
        result = self.outcome({"moves-undone": "agents undo moves"}, self.failing)
        self.assertTrue(result.wasSuccessful())
        self.assertEqual(1, len(result.expectedFailures))

    def test_a_wait_that_times_out_counts_as_the_failure(self):
        def times_out() -> None:
            raise wait.WaitTimeout("no echo on VLAN 1791")

        result = self.outcome({"moves-undone": "agents undo moves"}, times_out)
        self.assertEqual(1, len(result.expectedFailures))

    def test_a_known_bug_that_does_not_show_fails_the_test(self):
        result = self.outcome({"moves-undone": "agents undo moves"}, lambda: None)
        self.assertFalse(result.wasSuccessful())
        self.assertEqual(1, len(result.unexpectedSuccesses))

    def test_elsewhere_the_check_is_an_ordinary_one(self):
        result = self.outcome({}, self.failing)
        self.assertEqual(1, len(result.failures))
        self.assertIn("back on VLAN 1790", result.failures[0][1])
        self.assertTrue(self.outcome({}, lambda: None).wasSuccessful())

    def test_neutron_names_what_goes_wrong_for_each_of_its_known_bugs(self):
        from fullstack.services.neutron.service import NeutronService
        self.assertIn("vlan-segmentation-update-undone", NeutronService.known_bugs)
        self.assertEqual({}, neutrino.NeutrinoService.known_bugs)
