"""Exclusive allocations shared by every test process on the machine.

stestr runs tests in several worker processes at once; all of them draw
names, networks and ports from one registry file guarded by a file lock, so
two tests never get the same value.  Each value records its owner (a run
prefix); the cleanup command frees the values of runs whose process died.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import socket
import string
from collections.abc import Callable, Iterator

import fixtures
import netaddr
import psutil

PREFIX_ALPHABET = string.ascii_lowercase + string.digits
PREFIX_STEM = "fs"
PORT_RANGE = (20000, 29999)
MAX_TRIES = 1000
#: Owner of a prefix whose deployment ``python -m fullstack up`` left
#: running on purpose: alive until ``python -m fullstack down`` removes it.
STANDING_OWNER = "standing"


class AllocationExhausted(Exception):
    pass


class Registry:
    """A JSON file of ``{kind: {value: owner}}`` behind an exclusive flock."""

    def __init__(self, state_dir: str):
        self.state_dir = state_dir
        self.path = os.path.join(state_dir, "allocations.json")
        self.lock_path = os.path.join(state_dir, "allocations.lock")

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict]:
        os.makedirs(self.state_dir, exist_ok=True)
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = self._read()
                yield data
                self._write(data)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict:
        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def _write(self, data: dict) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def allocate(
        self, kind: str, owner: str, candidate: Callable[[], str],
        usable: Callable[[str], bool] = lambda value: True,
    ) -> str:
        """Take the first ``candidate()`` that nobody holds and that is ``usable``."""
        with self.locked() as data:
            taken = data.setdefault(kind, {})
            for _ in range(MAX_TRIES):
                value = candidate()
                if value not in taken and usable(value):
                    taken[value] = owner
                    return value
        raise AllocationExhausted(f"no free {kind} after {MAX_TRIES} tries")

    def release(self, kind: str, value: str) -> None:
        with self.locked() as data:
            data.get(kind, {}).pop(value, None)

    def release_owner(self, owner: str) -> list[tuple[str, str]]:
        """Free everything ``owner`` holds (crash clean-up); return what was freed."""
        freed = []
        with self.locked() as data:
            for kind, values in data.items():
                for value, holder in list(values.items()):
                    if holder == owner:
                        del values[value]
                        freed.append((kind, value))
        return freed

    def set_owner(self, kind: str, value: str, owner: str) -> None:
        """Hand a held value to another owner (it must be held already)."""
        with self.locked() as data:
            if value not in data.get(kind, {}):
                raise KeyError(f"{kind} {value} is not allocated")
            data[kind][value] = owner

    def held(self, kind: str) -> dict[str, str]:
        with self.locked() as data:
            return dict(data.get(kind, {}))


def random_network() -> str:
    """A /24 of 240.0.0.0/8 outside 240.0.0.0/16, which Neutron's OVS agent gives
    its metadata path (the provider addresses of its br-meta)."""
    third = random.randrange(256, 256 * 256)
    return f"240.{third // 256}.{third % 256}.0/24"


class _Allocation(fixtures.Fixture):
    kind = ""

    def __init__(self, registry: Registry, owner: str):
        super().__init__()
        self.registry = registry
        self.owner = owner
        self.value = ""

    def _candidate(self) -> str:
        raise NotImplementedError

    def _usable(self, value: str) -> bool:
        return True

    def _setUp(self) -> None:
        self.value = self.registry.allocate(self.kind, self.owner, self._candidate, self._usable)
        self.addCleanup(self.registry.release, self.kind, self.value)


class PrefixAllocation(_Allocation):
    """A short per-test name prefix such as ``fs3k9a``.

    Six characters leave nine for the rest of an interface name.  The owner
    recorded is this process (pid and start time), so the cleanup command
    can tell a crashed run from a live one.
    """

    kind = "prefix"

    def __init__(self, registry: Registry):
        me = psutil.Process()
        super().__init__(registry, f"pid:{me.pid}:{me.create_time():.2f}")

    def _candidate(self) -> str:
        return PREFIX_STEM + "".join(random.choices(PREFIX_ALPHABET, k=4))


class NetworkAllocation(_Allocation):
    """A /24 from 240.0.0.0/8 for control or tunnel addresses."""

    kind = "network"

    def _candidate(self) -> str:
        return random_network()

    @property
    def network(self) -> netaddr.IPNetwork:
        return netaddr.IPNetwork(self.value)


class PortAllocation(_Allocation):
    """A TCP port that no other test holds and nothing listens on now."""

    kind = "tcp_port"

    def _candidate(self) -> str:
        return str(random.randint(*PORT_RANGE))

    def _usable(self, value: str) -> bool:
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", int(value)))
            except OSError:
                return False
        return True

    @property
    def port(self) -> int:
        return int(self.value)


def owner_alive(owner: str) -> bool:
    """Whether the process behind a ``pid:PID:START`` owner still runs.

    A standing deployment's owner is alive until it is taken down.
    """
    if owner == STANDING_OWNER:
        return True
    try:
        _, pid, started = owner.split(":")
        proc = psutil.Process(int(pid))
        return abs(proc.create_time() - float(started)) < 0.05
    except (ValueError, psutil.Error):
        return False
