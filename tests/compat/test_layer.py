"""The layer that serves Neutron's fullstack names (no deployment: Neutron's
modules only, so these run in the dsvm-fullstack-neutron-upstream environment,
before the suite)."""

from __future__ import annotations

import importlib
import os
import sys

import fixtures
import testtools
from neutron_lib import constants

from fullstack import descriptions as harness
from fullstack.compat.neutron import agents, boot, descriptions, net_helpers
from fullstack.resources import config


class TestBoot(testtools.TestCase):
    def setUp(self):
        super().setUp()
        # As the test found them (under tox, boot has run already).
        self.saved = dict(sys.modules)
        self.saved_path = list(sys.meta_path)
        self.addCleanup(self._restore)

    def _restore(self):
        sys.meta_path[:] = self.saved_path
        for name in set(sys.modules) - set(self.saved):
            del sys.modules[name]
        sys.modules.update(self.saved)

    def test_neutron_names_resolve_to_the_layer(self):
        for name in boot.ALIASES:
            sys.modules.pop(name, None)
        boot.install()
        boot.install()   # once is enough
        self.assertEqual(1, sum(isinstance(f, boot.AliasFinder) for f in sys.meta_path))
        for name, target in boot.ALIASES.items():
            module = importlib.import_module(name)
            self.assertIs(importlib.import_module(target), module)
            # Still the layer's module, as the import system sees it.
            self.assertEqual(target, module.__spec__.name)
        from neutron.tests.fullstack import base
        self.assertTrue(hasattr(base, "wait_until_true"))

    def test_main_wants_a_module(self):
        self.assertRaises(SystemExit, boot.main, ["discover"])


class TestDescriptions(testtools.TestCase):
    def test_defaults_are_neutrons(self):
        desc = descriptions.EnvironmentDescription()
        self.assertEqual(("vxlan", True, 75), (desc.network_type, desc.l2_pop,
                                               desc.agent_down_time))
        self.assertTrue(desc.tunneling_enabled)
        self.assertEqual("noop", descriptions.HostDescription().firewall_driver)

    def test_switches_add_their_service_plugins(self):
        desc = descriptions.EnvironmentDescription(qos=True, log=True, local_ip_ext=True)
        self.assertEqual("router,qos,log,local_ip", desc.service_plugins)
        server = descriptions.server_config(desc)
        self.assertEqual(["router", "qos", "log", "local_ip"],
                         server["DEFAULT"]["service_plugins"])
        self.assertEqual(["port_security", "qos"], server["ml2"]["extension_drivers"])
        self.assertEqual(["openvswitch", "l2population"], server["ml2"]["mechanism_drivers"])

    def test_segments_get_the_second_physical_network(self):
        server = descriptions.server_config(descriptions.EnvironmentDescription(
            network_type="vlan", l2_pop=False, service_plugins="router,segments"))
        self.assertEqual(["physnet1:1000:1029", "physnet2:1050:1059"],
                         server["ml2_type_vlan"]["network_vlan_ranges"])
        self.assertEqual(["openvswitch"], server["ml2"]["mechanism_drivers"])

    def test_placement_points_the_server_at_the_fake(self):
        server = descriptions.server_config(descriptions.EnvironmentDescription(
            has_placement=True, placement_port="8081"))
        self.assertIn("placement", server["DEFAULT"]["service_plugins"])
        self.assertEqual("http://127.0.0.1:8081/placement",
                         server["placement"]["auth_section"])
        self.assertTrue(os.path.exists(server["oslo_policy"]["policy_file"]))

    def test_the_last_extension_switch_wins_as_in_neutron(self):
        desc = descriptions.EnvironmentDescription(qos=True, enable_traditional_dhcp=False,
                                                   has_metadata=True)
        agent = descriptions.ovs_agent_config(desc, descriptions.HostDescription())
        self.assertEqual("metadata_path", agent["agent"]["extensions"])
        self.assertIn("dhcp", agent)

    def test_hosts_in_harness_terms(self):
        desc = descriptions.EnvironmentDescription(agent_down_time=10, has_metadata=True)
        env, hosts = descriptions.harness_descriptions(desc, [
            descriptions.HostDescription(l3_agent=True, firewall_driver="iptables_hybrid"),
            descriptions.HostDescription(segmented_physnet=True),
            descriptions.HostDescription(l2_agent_type=constants.AGENT_TYPE_NIC_SWITCH)])
        self.assertIsInstance(env, harness.EnvironmentDescription)
        self.assertEqual((10, 5), (env.agent_down_time, env.report_interval))
        self.assertEqual(descriptions.UPSTREAM_SERVICE, env.service)
        first, second, third = hosts
        # A driver the harness does not name goes in the agent's options only.
        self.assertEqual("noop", first.firewall_driver)
        self.assertEqual("iptables_hybrid",
                         first.agent_config["l2"]["securitygroup"]["firewall_driver"])
        self.assertEqual({"physnet1": "br-phys", "extnet": "br-ex", "meta": "br-meta"},
                         first.agent_config["l2"]["ovs"]["bridge_mappings"])
        self.assertEqual("host-1", first.agent_config["l3"]["DEFAULT"]["test_namespace_suffix"])
        self.assertEqual({"physnet2": "br-phys", "meta": "br-meta"},
                         second.agent_config["l2"]["ovs"]["bridge_mappings"])
        self.assertEqual((), third.agent_kinds)
        self.assertEqual(["sriov-agent"], [each.name for each in third.extensions])

    def test_an_unknown_agent_type_is_a_skip_reason(self):
        self.assertIsNone(descriptions.unsupported(
            descriptions.EnvironmentDescription(), [descriptions.HostDescription()]))
        reason = descriptions.unsupported(descriptions.EnvironmentDescription(), [
            descriptions.HostDescription(l2_agent_type="Linux bridge agent")])
        self.assertIn("Linux bridge agent", reason)


class _Process:
    def __init__(self, path, sections):
        self.config_path = path
        self.sections = sections


class TestProcessConfig(testtools.TestCase):
    def test_strings_state_path_resolved_and_written_to_every_file(self):
        directory = self.useFixture(fixtures.TempDir()).path
        sections = {"DEFAULT": {"state_path": "/run/x", "debug": False},
                    "agent": {"tunnel_types": ["vxlan", "gre"]},
                    "network_log": {"local_output_log_base": "$state_path/n.log"}}
        procs = [_Process(os.path.join(directory, f"{n}.ini"), sections) for n in "ab"]
        cfg = agents.ProcessConfig(procs, {"int": "br-int"})
        self.assertEqual("vxlan,gre", cfg.config.agent.tunnel_types)
        self.assertEqual("false", cfg.config["DEFAULT"]["debug"])
        self.assertEqual("/run/x/n.log", cfg.config.network_log.local_output_log_base)
        self.assertEqual("br-int", cfg.get_br_int_name())
        cfg.config["agent"]["baremetal_smartnic"] = "True"
        cfg.write_config_to_configfile()
        for proc in procs:
            with open(proc.config_path) as f:
                self.assertIn("baremetal_smartnic = True", f.read())
            self.assertEqual("True", proc.sections["agent"]["baremetal_smartnic"])
        self.assertIn("tunnel_types = vxlan,gre", config.render(procs[0].sections))


class TestNetHelpers(testtools.TestCase):
    def test_everything_neutrons_but_the_netcat_tester(self):
        # Neutron's module as the wheel has it (the name may be aliased here).
        neutron_net_helpers = net_helpers._upstream
        self.assertTrue(neutron_net_helpers.__file__.endswith(
            os.path.join("neutron", "tests", "common", "net_helpers.py")))
        public = {name for name in vars(neutron_net_helpers) if not name.startswith("_")}
        self.assertFalse(public - set(vars(net_helpers)))
        self.assertIsNot(neutron_net_helpers.NetcatTester, net_helpers.NetcatTester)
        self.assertIs(neutron_net_helpers.async_ping, net_helpers.async_ping)
        self.assertEqual("sctp", net_helpers.NetcatTester.SCTP)

    def test_a_netcat_tester_needs_a_running_test(self):
        self.assertRaises(RuntimeError, net_helpers.NetcatTester, "ns1", "ns2",
                          "10.0.0.1", 3333, "tcp")
        self.assertRaises(ValueError, net_helpers.NetcatTester, "ns1", "ns2",
                          "10.0.0.1", 3333, "icmp")
