"""neutrino's processes refuse options they do not know, naming them."""

from __future__ import annotations

import os

import fixtures
import testtools

from neutrino.agents import launcher
from neutrino.agents.ovs import config as ovs_config
from neutrino.common import config_files
from neutrino.server import __main__ as server_main
from neutrino.server import config as server_config


class StrictConfigTestCase(testtools.TestCase):
    def file(self, text: str) -> str:
        path = os.path.join(self.useFixture(fixtures.TempDir()).path, "neutrino.ini")
        with open(path, "w") as f:
            f.write(text)
        return path


class TestServer(StrictConfigTestCase):
    def test_an_unknown_option_is_refused_by_section_and_name(self):
        path = self.file("[DEFAULT]\nglobal_physnet_mtu = 1400\nno_such_option = 1\n"
                         "[database]\nconnection = sqlite://\n[ml2]\nl2_populatoin = true\n")
        error = self.assertRaises(config_files.UnknownOptions, server_config.load,
                                  ["--config-file", path])
        self.assertIn("[DEFAULT] no_such_option, [ml2] l2_populatoin", str(error))
        self.assertNotIn("global_physnet_mtu", str(error))

    def test_a_bad_value_is_refused_at_load_not_when_first_read(self):
        path = self.file("[DEFAULT]\nglobal_physnet_mtu = big\n[database]\nconnection = x\n")
        error = self.assertRaises(ValueError, server_config.load, ["--config-file", path])
        self.assertIn("[DEFAULT] global_physnet_mtu", str(error))

    def test_the_neutron_mtu_options_are_known(self):
        path = self.file("[DEFAULT]\nglobal_physnet_mtu = 1400\n[database]\nconnection = x\n"
                         "[ml2]\npath_mtu = 1450\n")
        conf = server_config.load(["--config-file", path])
        self.assertEqual((1400, 1450), (conf.global_physnet_mtu, conf.ml2.path_mtu))

    def test_each_plugin_brings_its_options(self):
        # neutrino's own plugins' options are known whether loaded or not (the
        # harness writes dhcp_agents_per_network however a test narrows
        # service_plugins); an out-of-tree plugin's, once the files name it.
        folder = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(folder, "fs_counting_plugin.py"), "w") as f:
            f.write("from oslo_config import cfg\n"
                    "from neutrino.server.plugins.base import ServicePlugin\n"
                    "class CountingPlugin(ServicePlugin):\n"
                    "    options = {'counting': [cfg.IntOpt('start', default=0)]}\n")
        self.useFixture(fixtures.PythonPathEntry(folder))
        base = ("[DEFAULT]\nservice_plugins = {plugins}\n"
                "dhcp_agents_per_network = 2\n[database]\nconnection = x\n"
                "[region]\njob_workers = 3\n[counting]\nstart = 7\n")
        error = self.assertRaises(config_files.UnknownOptions, server_config.load, [
            "--config-file", self.file(base.format(plugins="security_group"))])
        self.assertIn("has no option [counting] start", str(error))
        self.assertNotIn("dhcp_agents_per_network", str(error))
        conf = server_config.load(["--config-file", self.file(base.format(
            plugins="security_group,fs_counting_plugin.CountingPlugin"))])
        self.assertEqual((2, 3, 7), (conf.dhcp_agents_per_network, conf.region.job_workers,
                                     conf.counting.start))

    def test_check_config_exits_2_naming_the_option_or_0_without_a_database(self):
        stderr = self.useFixture(fixtures.StringStream("stderr"))
        self.useFixture(fixtures.MonkeyPatch("sys.stderr", stderr.stream))
        bad = self.file("[DEFAULT]\nno_such_option = 1\n")
        self.assertEqual(2, server_main.main([config_files.CHECK_FLAG, "--config-file", bad]))
        stderr.stream.flush()
        self.assertIn("neutrino-server has no option [DEFAULT] no_such_option",
                      stderr.getDetails()["stderr"].as_text())
        good = self.file("[DEFAULT]\nagent_down_time = 20\n")
        self.assertEqual(0, server_main.main([config_files.CHECK_FLAG, "--config-file", good]))


class TestAgents(StrictConfigTestCase):
    def test_agent_options_have_neutron_names_and_unknown_ones_are_refused(self):
        path = self.file("[DEFAULT]\nhost = h\ntransport_url = amqp://x\n"
                         "rpc_response_timeout = 20\n[agent]\nreport_interval = 0.5\n"
                         "polling_interval = 1\n[ovs]\novsdb_connection = unix:/x\n"
                         "ovs_rundir = /x\n")
        conf = ovs_config.load(["--config-file", path])
        self.assertEqual((20, 0.5, 1), (conf.rpc_response_timeout, conf.agent.report_interval,
                                        conf.agent.polling_interval))
        bad = self.file("[DEFAULT]\nhost = h\ntransport_url = amqp://x\nreport_interval = 1\n"
                        "[ovs]\novsdb_connection = unix:/x\novs_rundir = /x\n")
        error = self.assertRaises(config_files.UnknownOptions, ovs_config.load,
                                  ["--config-file", bad])
        self.assertIn("neutrino-openvswitch-agent has no option [DEFAULT] report_interval",
                      str(error))

    def test_a_check_needs_no_required_option(self):
        path = self.file("[agent]\nreport_interval = 3\n")
        built = []
        self.assertEqual(0, launcher.main("neutrino-openvswitch-agent", ovs_config.load,
                                          built.append, [config_files.CHECK_FLAG,
                                                         "--config-file", path]))
        self.assertEqual([], built, "a check builds no agent")
