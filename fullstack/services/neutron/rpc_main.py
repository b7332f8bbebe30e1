"""``neutron-rpc-server``, with Neutron's policy enforcer made before it serves.

Neutron 29's RPC server runs its handlers in real threads (oslo.service's
threading backend), and ``neutron.policy.init()`` publishes its enforcer
before registering the rules: a handler that checks a policy while another
one is still initialising fails with "dictionary changed size during
iteration".  The first ports of a test reported up by two agents at once
hit it (in ``_ensure_default_security_group_handler``) and stay DOWN.  Made
here once, in the parent before cotyledon forks the workers, the enforcer is
whole before the first call: nothing else differs from Neutron's own
``neutron-rpc-server``.
"""

from __future__ import annotations

import sys

# Importing it selects the threading backend, as the console script does.
from neutron.cmd import server as _server_cmd  # noqa: F401  # isort: skip
from neutron import policy, server  # noqa: E402
from neutron.server import rpc  # noqa: E402


def _rpc_server_with_policy() -> None:
    policy.init()   # boot_server has read the configuration by now
    rpc.rpc_server()


if __name__ == "__main__":
    sys.exit(server.boot_server(_rpc_server_with_policy))
