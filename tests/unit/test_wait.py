from __future__ import annotations

import itertools

import testtools

from fullstack import wait


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
