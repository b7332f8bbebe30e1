from __future__ import annotations

import itertools
import os
import sys

import fixtures
import testtools

from fullstack import wait
from fullstack.resources import daemon, records


class TestWaitUntilTrue(testtools.TestCase):
    def test_returns_once_true(self):
        calls = itertools.count()
        wait.wait_until_true(lambda: next(calls) >= 3, timeout=5, sleep=0)
        self.assertEqual(4, next(calls))

    def test_message_on_timeout(self):
        exc = self.assertRaises(wait.WaitTimeout, wait.wait_until_true, lambda: False,
                                timeout=0.05, sleep=0.01, exception="port 3f2a still DOWN")
        self.assertEqual("port 3f2a still DOWN", str(exc))

    def test_custom_exception(self):
        self.assertRaises(KeyError, wait.wait_until_true, lambda: False, timeout=0.01,
                          sleep=0.01, exception=KeyError("x"))

    def test_message_is_taken_at_the_deadline(self):
        polls = itertools.count(1)
        seen = []

        def never() -> bool:
            seen.append(next(polls))
            return False

        exc = self.assertRaises(wait.WaitTimeout, wait.wait_until_true, never, timeout=0.05,
                                sleep=0.01, exception=lambda: f"polled {seen[-1]} times")
        self.assertGreater(len(seen), 1)
        self.assertEqual(f"polled {len(seen)} times", str(exc))


class TestHoldsFor(testtools.TestCase):
    def test_returns_after_the_window_when_it_held(self):
        calls = itertools.count(1)
        wait.holds_for(lambda: next(calls), duration=0.05, sleep=0.01)
        self.assertGreater(next(calls), 2)

    def test_fails_at_the_first_false_naming_what(self):
        polls = iter([True, True, False, True])
        exc = self.assertRaises(wait.DidNotHold, wait.holds_for, lambda: next(polls),
                                duration=30, sleep=0, exception=lambda: "back on VLAN 1790")
        self.assertEqual("back on VLAN 1790", str(exc))
        self.assertEqual([True], list(polls))
        # An assertion: a test that checks it fails, it does not error.
        self.assertIsInstance(exc, AssertionError)


class TestReadinessTimeout(testtools.TestCase):
    def test_log_tail_is_the_one_at_the_deadline(self):
        """A process that logs after its launch: the timeout shows what it logged last."""
        folder = self.useFixture(fixtures.TempDir()).path
        fixture = daemon.ProcessFixture(
            "late-logger", [sys.executable, "-u", "-c",
                            "import time; print('ear' + 'ly'); time.sleep(0.3); "
                            "print('la' + 'te'); time.sleep(30)"],
            records.Ownership("fsunit", os.path.join(folder, "logs"), folder), ready=lambda: False,
            ready_timeout=1.5)
        self.addCleanup(fixture.stop)
        exc = self.assertRaises(wait.WaitTimeout, fixture.start)
        self.assertIn("late-logger not ready after 1.5 s", str(exc))
        # Lines of output, not the command line the log starts with.
        self.assertEqual(["early", "late"], str(exc).splitlines()[-2:])

