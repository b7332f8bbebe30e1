"""Network namespaces, through pyroute2."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import fixtures
import psutil
from pyroute2 import IPRoute, netns

from fullstack.resources import runner


@contextlib.contextmanager
def entered(name: str | None) -> Iterator[None]:
    """Run the calling thread inside namespace ``name`` for the block (None: stay).

    setns() moves only the calling thread, and a socket opened inside keeps
    its namespace once the thread is back: a netlink or ioctl socket costs
    two system calls instead of the helper process pyroute2's NetNS forks
    for each one (about 15 ms).
    """
    if name is None:
        yield
        return
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(os.path.join(netns.NETNS_RUN_DIR, name), os.O_RDONLY)
        try:
            netns.setns(target, flags=0)
            try:
                yield
            finally:
                netns.setns(own, flags=0)
        finally:
            os.close(target)
    finally:
        os.close(own)


#: What a namespace of the harness's own plumbing (a host's, the central
#: one) sets so that its links get no IPv6: a link-local address, DAD,
#: MLD and router solicitations on every bridge port and veth cost kernel
#: and vswitchd CPU (about a sixth of an environment's set-up) and flood
#: the fabric.  Only links made after it are spared (``default``), and
#: namespaces made from there (a router's, a DHCP server's) start from the
#: kernel's defaults again (net.core.devconf_inherit_init_net=0).
NO_IPV6 = {"net.ipv6.conf.default.disable_ipv6": "1", "net.ipv6.conf.all.disable_ipv6": "1"}


def set_sysctls(name: str, values: dict[str, str]) -> None:
    """Write ``net.*`` sysctls of namespace ``name``: /proc/sys/net is the
    calling thread's namespace's, so no ``sysctl`` process is needed."""
    with entered(name):
        for key, value in values.items():
            with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                f.write(value)


def starting_with(stem: str) -> list[str]:
    """The namespaces whose names start with ``stem`` (a run's ``<prefix>-``), sorted."""
    return sorted(name for name in netns.listnetns() if name.startswith(stem))


def exists(name: str) -> bool:
    return name in netns.listnetns()


def processes_in(name: str) -> list[psutil.Process]:
    """The processes living in namespace ``name`` (``ip netns pids``, by inode)."""
    try:
        wanted = os.stat(os.path.join(netns.NETNS_RUN_DIR, name)).st_ino
    except FileNotFoundError:
        return []
    found = []
    for proc in psutil.process_iter():
        try:
            if os.stat(f"/proc/{proc.pid}/ns/net").st_ino == wanted:
                found.append(proc)
        except OSError:
            continue
    return found


def delete(name: str) -> None:
    """Remove a namespace if it is there (removal is idempotent)."""
    if exists(name):
        netns.remove(name)


class Namespace(fixtures.Fixture):
    """A named network namespace with its loopback up, removed at cleanup."""

    def __init__(self, name: str):
        super().__init__()
        if len(name) > 64 or "/" in name:
            raise ValueError(f"namespace name {name!r} is not a valid file name")
        self.name = name

    def _setUp(self) -> None:
        netns.create(self.name)
        self.addCleanup(delete, self.name)
        with entered(self.name), IPRoute() as ipr:
            ipr.link("set", index=ipr.link_lookup(ifname="lo")[0], state="up")

    def execute(self, cmd: list[str], **kwargs):
        return runner.execute(cmd, namespace=self.name, **kwargs)
