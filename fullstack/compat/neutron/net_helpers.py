"""``neutron.tests.common.net_helpers``, with the harness's NetcatTester.

Every name is Neutron's own (its module is loaded from the wheel, under a
private name) except ``NetcatTester``: Neutron's runs ``ncat`` in the
machines' namespaces through its root helper, and needs the kernel's SCTP
for ``NetcatTester.SCTP``, which this machine lacks.  The harness's
(``fullstack.probes.NetcatTester``) holds the same kind of connection with
processes it owns by pid, and speaks SCTP over raw sockets.
"""

from __future__ import annotations

import importlib.util
import os
import types

import netaddr

from fullstack import probes
from fullstack.compat.neutron import current


def _load_upstream() -> types.ModuleType:
    spec = importlib.util.find_spec("neutron.tests.common")
    assert spec is not None and spec.submodule_search_locations
    path = os.path.join(list(spec.submodule_search_locations)[0], "net_helpers.py")
    upstream_spec = importlib.util.spec_from_file_location(
        "fullstack.compat.neutron._neutron_net_helpers", path)
    assert upstream_spec is not None and upstream_spec.loader is not None
    module = importlib.util.module_from_spec(upstream_spec)
    upstream_spec.loader.exec_module(module)
    return module


_upstream = _load_upstream()
globals().update({name: value for name, value in vars(_upstream).items()
                  if not name.startswith("__")})


class _Endpoint:
    """What the harness's tester needs of a machine: its namespace, an address
    (the server's: what it listens on and the client connects to), the run."""

    def __init__(self, namespace: str, ip: str | None):
        self.namespace = namespace
        self.ip = ip
        self.ctx = current.run()


class NetcatTester:
    """Neutron's ``NetcatTester`` interface over ``fullstack.probes.NetcatTester``."""

    TCP = _upstream.NetcatTester.TCP
    UDP = _upstream.NetcatTester.UDP
    SCTP = _upstream.NetcatTester.SCTP

    def __init__(self, client_namespace, server_namespace, address, dst_port, protocol,
                 server_address=None, src_port=None):
        if protocol not in (self.TCP, self.UDP, self.SCTP):
            raise ValueError(f"Unsupported protocol {protocol}")
        self.client_namespace = client_namespace
        self.server_namespace = server_namespace
        self.address = str(netaddr.IPAddress(address))
        self.protocol = protocol
        self.dst_port = str(dst_port)
        self.src_port = str(src_port) if src_port else None
        # The harness's server listens on the address the client connects to.
        self._tester = probes.NetcatTester(
            _Endpoint(client_namespace, None),   # type: ignore[arg-type]
            _Endpoint(server_namespace, server_address or self.address),  # type: ignore[arg-type]
            int(dst_port), protocol, int(src_port) if src_port else None)

    @property
    def is_established(self) -> bool:
        client = self._tester.client
        return client is not None and client.is_running()

    def establish_connection(self) -> None:
        if self.is_established:
            raise RuntimeError(f"{self.protocol} connection to {self.address} is already "
                               "established")
        self._tester.establish_connection()

    def test_connectivity(self, respawn=False) -> bool:
        if respawn:
            self.stop_processes()
        return self._tester.test_connectivity()

    def test_no_connectivity(self, respawn=False) -> bool:
        return not self.test_connectivity(respawn)

    def stop_processes(self, skip_errors=None) -> None:
        self._tester.stop_processes()
