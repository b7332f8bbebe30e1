from __future__ import annotations

import configparser
import os

import fixtures
import testtools

from fullstack.resources import config


class TestConfigFile(testtools.TestCase):
    def test_renders_oslo_config_values(self):
        directory = self.useFixture(fixtures.TempDir()).path
        self.useFixture(config.ConfigFile(directory, "agent.ini", {
            "DEFAULT": {"host": "host-1", "debug": True, "skipped": None},
            "agent": {"tunnel_types": ["vxlan", "gre"], "mappings": {"physnet1": "br-phys"}},
        }))
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(os.path.join(directory, "agent.ini"))
        self.assertEqual("host-1", parser["DEFAULT"]["host"])
        self.assertEqual("true", parser["DEFAULT"]["debug"])
        self.assertNotIn("skipped", parser["DEFAULT"])
        self.assertEqual("vxlan,gre", parser["agent"]["tunnel_types"])
        self.assertEqual("physnet1:br-phys", parser["agent"]["mappings"])


class TestOverlays(testtools.TestCase):
    """What a test's server_config and agent_config become in the file a process reads."""

    def write_and_read(self, sections, opts):
        from oslo_config import cfg
        directory = self.useFixture(fixtures.TempDir()).path
        written = self.useFixture(config.ConfigFile(directory, "server.ini", sections))
        conf = cfg.ConfigOpts()
        for group, group_opts in opts.items():
            conf.register_opts(group_opts, group=group)
        conf(["--config-file", written.path], default_config_files=[])
        return conf

    def test_both_kinds_of_multi_valued_option_read_back_with_oslo_config(self):
        from oslo_config import cfg
        service = {"DEFAULT": {"service_plugins": ["router"]},
                   "service_providers": {"service_provider": "FIREWALL:old:x.Old:default"}}
        sections = config.overlaid(service, {
            "DEFAULT": {"service_plugins": ["router", "qos", "firewall_v2"]},
            "service_providers": {"service_provider": config.Repeated(
                "FIREWALL_V2:fwaas_db:neutron_fwaas.services.firewall.Driver:default",
                "VPN:strongswan:neutron_vpnaas.services.vpn.Driver:default")}})
        conf = self.write_and_read(sections, {
            None: [cfg.ListOpt("service_plugins")],
            "service_providers": [cfg.MultiStrOpt("service_provider")]})
        self.assertEqual(["router", "qos", "firewall_v2"], conf.service_plugins)
        self.assertEqual(
            ["FIREWALL_V2:fwaas_db:neutron_fwaas.services.firewall.Driver:default",
             "VPN:strongswan:neutron_vpnaas.services.vpn.Driver:default"],
            conf.service_providers.service_provider)

    def test_extending_adds_to_a_list_where_replacing_would_drop_it(self):
        agent = {"agent": {"extensions": ["qos"], "report_interval": 1}}
        first = config.overlaid(agent, {"agent": {"extensions": ["port_notes"]}},
                                extend=True)
        both = config.overlaid(first, {"agent": {"extensions": ["qos", "recorder"],
                                                 "report_interval": 2}}, extend=True)
        self.assertEqual({"extensions": ["qos", "port_notes", "recorder"],
                          "report_interval": 2}, both["agent"])
        self.assertEqual(["recorder"], config.overlaid(
            both, {"agent": {"extensions": ["recorder"]}})["agent"]["extensions"])
        repeated = config.overlaid({"s": {"p": config.Repeated("a")}},
                                   {"s": {"p": config.Repeated("b")}}, extend=True)
        self.assertEqual(config.Repeated("a", "b"), repeated["s"]["p"])

    def test_an_overlay_changes_adds_and_removes_options_and_keeps_the_rest(self):
        service = {"DEFAULT": {"debug": True, "agent_down_time": 10},
                   "ml2": {"mechanism_drivers": ["openvswitch"]}}
        merged = config.overlaid(service, {"DEFAULT": {"agent_down_time": 30, "debug": None},
                                           "ml2": {"path_mtu": 1400},
                                           "quotas": {"quota_network": 5}})
        self.assertEqual({"DEFAULT": {"agent_down_time": 30},
                          "ml2": {"mechanism_drivers": ["openvswitch"], "path_mtu": 1400},
                          "quotas": {"quota_network": 5}}, merged)
        self.assertEqual({"debug": True, "agent_down_time": 10}, service["DEFAULT"],
                         "the service's sections are not changed")

    def test_a_bad_overlay_names_the_field_the_section_and_the_option(self):
        cases = [
            ("not a dict", "server_config must be a dict"),
            ({"DEFAULT": ["x"]}, "server_config['DEFAULT'] must be a dict"),
            ({"bad section]": {}}, "section 'bad section]'"),
            ({"DEFAULT": {"bad option": 1}}, "'bad option' is not an option name"),
            ({"DEFAULT": {"debug": object()}}, "server_config['DEFAULT']['debug']"),
            ({"DEFAULT": {"x": "two\nlines"}}, "one line"),
            ({"DEFAULT": {"x": [["nested"]]}}, "in a list"),
        ]
        for overlay, expected in cases:
            error = self.assertRaises(ValueError, config.check_overlay, "server_config", overlay)
            self.assertIn(expected, str(error))
