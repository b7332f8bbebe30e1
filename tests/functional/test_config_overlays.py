"""An option neutrino does not know stops the test before anything is built."""

from __future__ import annotations

import os

import testtools

from fullstack import base, environment


class TestUnknownOption(base.HarnessTestCase):
    def test_the_environment_names_the_option_and_builds_nothing(self):
        env = environment.Environment(
            environment.EnvironmentDescription(
                service="neutrino",
                server_config={"DEFAULT": {"global_physnet_mtu": 1400,
                                           "no_such_option": True}}),
            [environment.HostDescription(agent_config={"l2": {"agent": {
                "report_interval": "soon"}}})])
        try:
            env.for_run(self.ctx).setUp()
        except testtools.MultipleExceptions as raised:   # with fixtures' SetupError
            error = raised.args[0][1]
        else:
            self.fail("an unknown option did not stop the environment")
        self.assertIsInstance(error, ValueError)
        self.assertIn("server_config: neutrino-server has no option [DEFAULT] no_such_option",
                      str(error))
        self.assertIn("agent_config['l2'] of host-1: neutrino-openvswitch-agent: bad value "
                      "of [agent] report_interval: could not convert string to float: 'soon'",
                      str(error))
        self.assertNotIn("global_physnet_mtu", str(error))
        # Nothing but the checked files: no server, OVS or agent was started
        # (their logs would be here), and the leak check at the end of the
        # test finds no namespace, link, vhost or database of it.
        self.assertEqual(["config-check"], os.listdir(self.log_dir))
