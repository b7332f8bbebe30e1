from __future__ import annotations

import fixtures
import testtools

from fullstack import prerequisites


class TestPrerequisites(testtools.TestCase):
    def test_missing_binary_names_it_and_the_fix(self):
        exc = self.assertRaises(prerequisites.MissingPrerequisite,
                                prerequisites.check_binaries, ("no-such-ovs-tool",))
        self.assertIn("no-such-ovs-tool not found", str(exc))
        self.assertIn("tools/configure_for_func_testing.sh", str(exc))

    def test_unreachable_service_names_it(self):
        exc = self.assertRaises(prerequisites.MissingPrerequisite, prerequisites.check_tcp,
                                "MySQL", "127.0.0.1", 1, timeout=0.5)
        self.assertIn("MySQL unreachable at 127.0.0.1:1", str(exc))

    def test_settings_from_environment(self):
        env = {"OS_TEST_DBAPI_ADMIN_CONNECTION": "sqlite:///", "FULLSTACK_KEEP_ON_FAILURE": "1",
               "OS_TEST_TIMEOUT": "30"}
        for key, value in env.items():
            self.useFixture(fixtures.EnvironmentVariable(key, value))
        settings = prerequisites.Settings.from_environment()
        self.assertEqual("sqlite:///", settings.db_admin_url)
        self.assertTrue(settings.keep_on_failure)
        self.assertEqual(30.0, settings.test_timeout)
