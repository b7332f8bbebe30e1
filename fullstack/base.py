"""Test-case base classes of the harness."""

from __future__ import annotations

import os
import re
import uuid

import fixtures
import testtools
from testtools import content

from fullstack import context, prerequisites
from fullstack.environment import Environment
from fullstack.resources import allocator, client, records


class HarnessTestCase(testtools.TestCase):
    """A test that builds real things: a run prefix, a log directory, settings.

    ``self.prefix`` names everything the test creates (namespaces, links,
    vhost, database); ``self.log_dir`` collects every process's log.
    """

    def setUp(self) -> None:
        super().setUp()
        self.settings = prerequisites.Settings.from_environment()
        if self.settings.test_timeout > 0:
            self.useFixture(fixtures.Timeout(int(self.settings.test_timeout), gentle=True))
        prerequisites.check_all(self.settings)
        self._failed = False
        self.addOnException(self._note_failure)
        self.registry = allocator.Registry(self.settings.state_dir)
        self.prefix = self.useFixture(allocator.PrefixAllocation(self.registry)).value
        self.addCleanup(records.remove_run, self.settings.state_dir, self.prefix)
        self.run_dir = records.run_dir(self.settings.state_dir, self.prefix)
        self.log_dir = os.path.join(self.settings.log_dir, self._log_name())
        os.makedirs(self.log_dir, exist_ok=True)
        self.addDetail("log_dir", content.text_content(f"{self.log_dir} (prefix {self.prefix})"))

    def _log_name(self) -> str:
        name = re.sub(r"[^\w.-]+", "_", self.id())
        return f"{name}-{self.prefix}"

    def _note_failure(self, exc_info) -> None:
        self._failed = True

    def keep_on_failure(self) -> bool:
        """True when this test failed and the user asked to keep its state."""
        return self._failed and self.settings.keep_on_failure


class BaseFullStackTestCase(HarnessTestCase):
    """A test against a whole deployment: ``super().setUp(environment)``.

    Provides ``environment``, ``client`` (raw API), ``safe_client`` (deletes
    what it created), ``tenant_id`` and ``engine`` (the per-test database).
    """

    def setUp(self, environment: Environment) -> None:  # type: ignore[override]
        super().setUp()
        environment.bind(context.RunContext(
            settings=self.settings, registry=self.registry, prefix=self.prefix,
            log_dir=self.log_dir, run_dir=self.run_dir, keep_on_failure=self.keep_on_failure))
        self.environment = self.useFixture(environment)
        self.engine = environment.engine
        self.client = environment.server.client
        self.safe_client = self.useFixture(client.SafeClient(self.client))
        self.tenant_id = uuid.uuid4().hex
