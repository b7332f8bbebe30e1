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
