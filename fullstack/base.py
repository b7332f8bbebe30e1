"""Test-case base classes of the harness."""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterable
from typing import ClassVar

import fixtures
import testtools
from testtools import content

from fullstack import forensics, machine, prerequisites, services, topology, wait
from fullstack import run as run_module
from fullstack.environment import Environment
from fullstack.host import Host
from fullstack.resources import client, namespace

LOG = logging.getLogger(__name__)


class HarnessTestCase(testtools.TestCase):
    """A test that builds real things: a run prefix, a log directory, settings.

    ``self.prefix`` names everything the test creates (namespaces, links,
    vhost, database); ``self.log_dir`` collects every process's log.
    """

    def setUp(self) -> None:
        super().setUp()
        self.settings = prerequisites.Settings.from_environment()
        if self.settings.test_timeout > 0:
            timeout = fixtures.Timeout(int(self.settings.test_timeout), gentle=True)
            timeout.setUp()
            # Never kept: a pending alarm would fire in a later test.
            testtools.TestCase.addCleanup(self, timeout.cleanUp)
        self._failed = False
        # testscenarios makes a test's scenarios by copying it, and the copies
        # share testtools' list of onException handlers: an exception in one
        # calls the handlers of every copy that ran before it in the worker.
        # Ours act only while their own test runs (this cleanup runs last).
        self._running = True
        testtools.TestCase.addCleanup(self, setattr, self, "_running", False)
        self.addOnException(self._note_failure)
        # Registered first, so it runs last: after every other cleanup.
        self.addCleanup(self._check_no_leaks)
        run = self._run = self.useFixture(run_module.HarnessRun(
            self.settings, re.sub(r"[^\w.-]+", "_", self.id()), self.keep_on_failure))
        self.ctx = run.ctx
        self.registry = run.ctx.registry
        self.prefix = run.ctx.prefix
        self.run_dir = run.ctx.run_dir
        self.log_dir = run.ctx.log_dir
        self.addDetail("log_dir", content.text_content(f"{self.log_dir} (prefix {self.prefix})"))

    def addCleanup(self, function, /, *args, **kwargs) -> None:
        """Every cleanup is skipped when a failed test's state is to be kept."""
        super().addCleanup(self._unless_kept, function, *args, **kwargs)

    def _unless_kept(self, function, *args, **kwargs) -> None:
        if not self.keep_on_failure():
            function(*args, **kwargs)
            return
        if not getattr(self, "_kept_announced", False):
            self._kept_announced = True
            self._announce_kept()

    def _announce_kept(self) -> None:
        namespaces = namespace.starting_with(self.prefix + "-")
        text = (
            f"FULLSTACK_KEEP_ON_FAILURE: test {self.id()} failed; its deployment "
            f"(prefix {self.prefix}) is left running.\n"
            f"  logs: {self.log_dir}\n"
            f"  enter a namespace: ip netns exec NAMESPACE bash, with NAMESPACE one of\n"
            + "".join(f"    {n}\n" for n in namespaces)
            + "  tear it down once the test run has ended: python -m fullstack cleanup\n")
        sys.stderr.write(text)
        testtools.TestCase.addDetail(self, "kept", content.text_content(text))

    def _check_no_leaks(self) -> None:
        """Fail the test that leaked: anything still carrying its prefix."""
        if getattr(self, "prefix", None) is None or self.keep_on_failure():
            return
        # The run took the inventory when it ended (and kept its prefix and
        # records if anything was left, for the cleanup command).
        if self._run.leaks:
            self.fail(f"test {self.id()} leaked {self._run.leaks}; once this test run "
                      f"has ended, 'python -m fullstack cleanup' removes such leftovers")

    def _note_failure(self, exc_info) -> None:
        # A skip raised once the deployment stands (require_feature) is no
        # failure: nothing to keep or to look at.
        if self._running and not issubclass(exc_info[0], self.skipException):
            self._failed = True

    def keep_on_failure(self) -> bool:
        """True when this test failed and the user asked to keep its state."""
        return self._failed and self.settings.keep_on_failure


class BaseFullStackTestCase(HarnessTestCase):
    """A test against a whole deployment: ``super().setUp(environment)``.

    Provides ``environment``, ``client`` (raw API), ``safe_client`` (deletes
    what it created), ``tenant_id`` and ``engine`` (the per-test database).
    With regions, these are the central server's; each region's are
    ``environment.region(name).client``, ``.safe_client`` and ``.engine``.
    """

    #: Features (Service.features) the whole test case needs, each with why a
    #: service lacks it: a skip before anything is built where it is missing.
    required_features: ClassVar[dict[str, str]] = {}

    def setUp(self, environment: Environment) -> None:  # type: ignore[override]
        super().setUp()
        # What the deployed system cannot do is a skip with its reason, before
        # anything is built: a test module runs against any service unchanged.
        service = services.load(environment.env_desc.service or self.settings.service)
        reason = service.unsupported(environment.env_desc)
        if not reason and environment.regions_desc:
            reason = service.unsupported_regions()
        missing = [f"no {feature}: {why}" for feature, why in self.required_features.items()
                   if feature not in service.features]
        if reason or missing:
            self.skipTest(f"{service.name}: {reason or '; '.join(missing)}")
        # The test described its environment before this run existed.
        self.environment = self.useFixture(environment.for_run(self.ctx, service))
        # <log dir>/topology.svg is drawn once, while the deployment stands:
        # at a failure (with the forensics), else in tearDown, before the
        # test's own cleanups take its machines away; this cleanup, which
        # runs before the environment's, covers a setUp that fails later.
        self.addCleanup(self._draw_topology)
        # Runs at the failure itself, before any cleanup: the deployment is
        # still there to be looked at.
        self.addOnException(self._dump_forensics)
        # Runs before the environment is torn down: a process that died on
        # its own fails the test by name, even if no wait noticed it.
        self.addCleanup(self.environment.check_processes)
        self.engine = self.environment.engine
        self.client = self.environment.server.client
        self.safe_client = self.useFixture(client.SafeClient(self.client))
        for region in self.environment.regions:
            # The test's own, made after the central one: what a test made in a
            # region (machines' ports) goes before the central networks do.
            region.safe_client = self.useFixture(client.SafeClient(region.client))
        self.tenant_id = uuid.uuid4().hex

    @property
    def deployment(self) -> Environment:
        """The harness's environment of this test (what forensics and the picture
        read), whatever a subclass calls ``environment``."""
        return self.environment

    def require_feature(self, feature: str, why_missing: str) -> None:
        """Skip, saying why, unless the deployed service has ``feature``: a check
        of something only one of the systems does."""
        service = self.environment.service
        if feature not in service.features:
            self.skipTest(f"{service.name} has no {feature}: {why_missing}")

    def expect_known_bug(self, bug: str, check: Callable[[], None]) -> None:
        """Run ``check``, which fails where the deployed service has ``bug``: there
        its failure is expected (and its success unexpected, failing the test,
        so a fixed bug is noticed); elsewhere it is an ordinary check."""
        service = self.environment.service
        what = service.known_bugs.get(bug)
        if what is None:
            check()
            return

        def check_failing_as_assertion() -> None:
            try:
                check()
            except wait.WaitTimeout as timeout:
                raise AssertionError(str(timeout)) from timeout

        self.expectFailure(f"{service.name}: {what}", check_failing_as_assertion)

    def boot_machine(self, host: Host, network_id: str,
                     use_dhcp: bool = False) -> machine.FakeFullstackMachine:
        """A machine on ``host`` with a port on ``network_id``, booted: its port is
        ACTIVE (and, with ``use_dhcp``, its address came by DHCP)."""
        return self.boot_machines([host], network_id, use_dhcp)[0]

    def boot_machines(self, hosts: Iterable[Host], network_id: str,
                      use_dhcp: bool = False) -> machine.FakeFullstackMachinesList:
        """A machine on each of ``hosts``, booted side by side.  With regions, each
        is made through its host's region (the central network's id is enough
        there), as a compute service of that region would."""
        return machine.boot_machines(
            self.useFixture, hosts, network_id, self.tenant_id, self.safe_client, use_dhcp,
            client_for=self.environment.client_for)

    def tearDown(self) -> None:
        self._draw_topology()
        super().tearDown()

    def _draw_topology(self) -> None:
        """Draw the live topology; a failure to draw never fails (or hides) the test."""
        if getattr(self, "_topology_drawn", False):
            return
        self._topology_drawn = True
        path = os.path.join(self.log_dir, "topology.svg")
        try:
            topology.draw(self.deployment, path)
        except Exception as exc:
            LOG.warning("drawing %s failed: %r", path, exc)
            self.addDetail("topology-error", content.text_content(
                f"drawing {path} failed: {exc!r}"))

    def _dump_forensics(self, exc_info) -> None:
        if (not self._running or getattr(self, "_forensics_done", False)
                or issubclass(exc_info[0], self.skipException)):
            return
        self._forensics_done = True
        try:
            parts = forensics.dump(self.deployment)
        except Exception as exc:  # the dump must never replace the real failure
            parts = {"forensics-error": f"dumping the deployment failed: {exc!r}"}
        for name, text in parts.items():
            self.addDetail(name, content.text_content(text))
        self._draw_topology()
