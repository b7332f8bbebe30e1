"""Neutron's server processes as the server zygote (zygote.py) forks them.

Each is Neutron's own: the API is ``neutron.wsgi.api:application`` under
uWSGI (pyuwsgi, the uWSGI that pip installs, runs in the forked process
with the arguments the harness gives it), the periodic workers are the
``neutron-periodic-workers`` console script's main.  The RPC server is
``neutron-rpc-server``'s main with one thing first: Neutron 29's RPC server
runs its handlers in real threads (oslo.service's threading backend), and
``neutron.policy.init()`` publishes its enforcer before registering the
rules, so a handler that checks a policy while another one is still
initialising fails with "dictionary changed size during iteration" (the
first ports of a test, reported up by two agents at once, stayed DOWN).
Made in the process before cotyledon forks the workers, the enforcer is
whole before the first call.

The zygote imports PRELOAD once: what every server process imports before
it reads its configuration.  The plugins and drivers the harness always
configures come by the spawn request (``entry_points``); whatever a test
adds, its own processes import (see server.py).  Nothing here reads
configuration: each forked process reads its own.
"""

import sys

PRELOAD = (
    # Selects oslo.service's threading backend, as the console scripts do.
    "neutron.cmd.server",
    "neutron.server.api",
    "neutron.api.v2.router",
    "neutron.pecan_wsgi.app",
    "neutron.pecan_wsgi.startup",
    "neutron.db.models",
    "neutron.policy",
    "neutron.conf.policies",
    "oslo_middleware",
    "pyuwsgi",
)


def _api():
    import pyuwsgi

    sys.argv[0] = "uwsgi"
    pyuwsgi.run()


def _rpc_server():
    from neutron import policy, server
    from neutron.server import rpc

    def serve():
        policy.init()   # boot_server has read the configuration by now
        rpc.rpc_server()

    return server.boot_server(serve)


def _periodic_workers():
    from neutron.cmd import server

    return server.main_periodic()


MAINS = {
    "neutron-api": _api,
    "neutron-rpc-server": _rpc_server,
    "neutron-periodic-workers": _periodic_workers,
}


def prepare_zygote():
    """Nothing to do before PRELOAD: no privileged calls, no namespaces."""


def prepare_child():
    """Nothing: the console scripts' own mains do the rest."""
