"""The one way the harness waits: on a condition, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


class WaitTimeout(Exception):
    """A condition did not hold before its deadline."""


def wait_until_true(
    predicate: Callable[[], object],
    timeout: float = 60.0,
    sleep: float = 0.05,
    exception: BaseException | str | Callable[[], str] | None = None,
) -> None:
    """Return as soon as ``predicate()`` is true; raise after ``timeout`` s.

    ``exception`` is what to raise on timeout: an exception instance, or a
    message for a ``WaitTimeout`` that should say what did not happen.  A
    message that shows state (a log's tail, what was seen so far) should be
    a callable: it is called at the deadline, so it shows the state then,
    not when the wait began.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            if isinstance(exception, BaseException):
                raise exception
            if callable(exception):
                exception = exception()
            raise WaitTimeout(exception or f"condition not met after {timeout} s")
        time.sleep(sleep)


class DidNotHold(AssertionError):
    """A condition that had to stay true for a while stopped being true."""


def holds_for(
    predicate: Callable[[], object],
    duration: float,
    sleep: float = 0.5,
    exception: str | Callable[[], str] | None = None,
) -> None:
    """Check that ``predicate()`` stays true for ``duration`` s; raise at once when not.

    The other half of ``wait_until_true``: that something does *not* happen
    (a change undone, traffic back on an old path) can only be seen over a
    window, which should span the period of whatever could undo it.
    """
    deadline = time.monotonic() + duration
    while True:
        if not predicate():
            if callable(exception):
                exception = exception()
            raise DidNotHold(exception or f"condition stopped holding within {duration} s")
        if time.monotonic() >= deadline:
            return
        time.sleep(sleep)
