"""The one place the harness runs external commands (ovs-ofctl, ping, ...).

Every command is logged with its exit code and output, so a failing test's
log tells exactly what was run where.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
from collections.abc import Sequence

LOG = logging.getLogger(__name__)


class CommandFailed(Exception):
    def __init__(self, cmd: Sequence[str], returncode: int, stdout: str, stderr: str):
        self.cmd = list(cmd)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        output = stderr.strip() or stdout.strip()
        super().__init__(f"command {' '.join(self.cmd)!r} exited {returncode}: {output}")


def in_namespace(cmd: Sequence[str], namespace: str | None,
                 private_mounts: bool = True) -> list[str]:
    """Prefix ``cmd`` so that it runs inside ``namespace`` (None: here).

    ``ip netns exec`` also gives the command a private mount namespace with
    the namespace's own /sys, which OVS wants.  A process that itself creates
    namespaces (an L3 or DHCP agent) must not have one: the namespaces it
    mounts would exist only in its private mount namespace, be unreachable
    from outside, and vanish when it exits.  ``nsenter --net`` enters the
    network namespace alone.  Both exec the command in place (same pid).
    """
    if namespace is None:
        return list(cmd)
    if private_mounts:
        return ["ip", "netns", "exec", namespace, *cmd]
    return ["nsenter", f"--net=/run/netns/{namespace}", "--", *cmd]


def execute(
    cmd: Sequence[str],
    namespace: str | None = None,
    check: bool = True,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
    input_path: str | None = None,
) -> subprocess.CompletedProcess:
    """Run ``cmd`` (in ``namespace``, reading ``input_path`` if given), log it, and
    raise on failure if ``check``."""
    full = in_namespace(cmd, namespace)
    with open(input_path) if input_path else contextlib.nullcontext() as stdin:
        proc = subprocess.run(
            full, capture_output=True, text=True, timeout=timeout, env=env, check=False,
            stdin=stdin)
    LOG.debug(
        "ran %s -> %d\nstdout: %s\nstderr: %s",
        " ".join(full), proc.returncode, proc.stdout.strip(), proc.stderr.strip(),
    )
    if check and proc.returncode != 0:
        raise CommandFailed(full, proc.returncode, proc.stdout, proc.stderr)
    return proc
