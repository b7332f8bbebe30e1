"""An Open vSwitch instance of its own: ovsdb-server + ovs-vswitchd in a namespace.

Each simulated host gets one, with its own database file, run directory and
sockets, so a host's agents see only that host's bridges.  Bridges, ports
and patch pairs are made through ovsdbapp against the instance's socket.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil

import fixtures
from ovs.db import idl
from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.schema.open_vswitch import impl_idl

from fullstack.resources import daemon, records, runner

SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
OVSDB_TIMEOUT = 30


@functools.cache
def _schema_json() -> dict:
    with open(SCHEMA) as f:
        return json.load(f)


def _api_for(db_socket: str) -> tuple[impl_idl.OvsdbIdl, connection.Connection]:
    """An ovsdbapp API bound to one database.

    ovsdbapp keeps the connection in a class attribute, so a second instance
    of ``OvsdbIdl`` would silently talk to the first database; a subclass per
    instance gives each its own.  The schema is the file every instance's
    database was made from, read once, not asked of each server (a round
    trip and a parse, about 15 ms of CPU per instance).
    """
    helper = idl.SchemaHelper(schema_json=copy.deepcopy(_schema_json()))
    idl_ = connection.OvsdbIdl.from_server(db_socket, "Open_vSwitch", helper=helper)
    conn = connection.Connection(idl=idl_, timeout=OVSDB_TIMEOUT)
    api_class = type("OvsdbIdlFor" + str(id(conn)), (impl_idl.OvsdbIdl,), {})
    return api_class(conn), conn


class OvsInstance(fixtures.Fixture):
    """ovsdb-server and ovs-vswitchd, started in ``namespace``."""

    def __init__(self, name: str, namespace: str | None, run_dir: str,
                 owner: records.Ownership, datapath_type: str = "netdev"):
        super().__init__()
        self.name = name
        self.namespace = namespace
        self.run_dir = run_dir
        self.owner = owner
        self.datapath_type = datapath_type
        self.db_socket = "unix:" + os.path.join(run_dir, "db.sock")
        self.env = {"OVS_RUNDIR": run_dir, "OVS_DBDIR": run_dir, "OVS_LOGDIR": owner.log_dir,
                    "OVS_SYSCONFDIR": run_dir}

    def __repr__(self) -> str:
        return f"<OvsInstance {self.name} ns={self.namespace or '(root)'}>"

    def _setUp(self) -> None:
        os.makedirs(self.run_dir)
        self.addCleanup(shutil.rmtree, self.run_dir, True)
        db_file = os.path.join(self.run_dir, "conf.db")
        runner.execute(["ovsdb-tool", "create", db_file, SCHEMA])
        self.ovsdb_server = self.useFixture(self._daemon("ovsdb-server", [
            "ovsdb-server", db_file, "--remote=p" + self.db_socket,
            "--unixctl=" + self._path("ovsdb-server.ctl"),
        ], ready_socket="db.sock"))
        runner.execute(["ovs-vsctl", "--db=" + self.db_socket, "--no-wait", "init"])
        self.vswitchd = self.useFixture(self._daemon("ovs-vswitchd", [
            "ovs-vswitchd", self.db_socket, "--unixctl=" + self._path("ovs-vswitchd.ctl"),
        ], ready_socket="ovs-vswitchd.ctl"))
        self.api, conn = _api_for(self.db_socket)
        self.addCleanup(conn.stop)

    def _path(self, name: str) -> str:
        return os.path.join(self.run_dir, name)

    def _daemon(self, binary: str, cmd: list[str], ready_socket: str) -> daemon.ProcessFixture:
        log_name = f"{self.name}-{binary}"
        cmd += ["-vconsole:off", "-vfile:info",
                "--log-file=" + self.owner.log_path(log_name, ".ovslog")]
        return daemon.ProcessFixture(
            log_name, cmd, self.owner, namespace=self.namespace, env=self.env,
            ready=lambda: daemon.accepts(self._path(ready_socket)),
        )

    def ofctl(self, *args: str, check: bool = True) -> str:
        """Run ``ovs-ofctl`` against this instance (bridge names resolve here)."""
        cmd = ["ovs-ofctl", "-O", "OpenFlow13", *args]
        return runner.execute(cmd, env=dict(os.environ, **self.env), check=check).stdout

    def vsctl(self, *args: str) -> str:
        return runner.execute(["ovs-vsctl", "--db=" + self.db_socket, *args]).stdout

    def bridge(self, name: str) -> OvsBridge:
        return OvsBridge(self, name)

    def stop(self) -> None:
        """End its daemons, vswitchd first: its bridges and ports go with them, so
        a teardown that stops it first skips removing them one by one (each removal
        waits for vswitchd to reconfigure)."""
        for name in ("vswitchd", "ovsdb_server"):
            proc = getattr(self, name, None)
            if proc is not None:
                proc.stop()

    def is_running(self) -> bool:
        """False once its daemons were killed (Host.kill()): its bridges went with them."""
        daemons = [getattr(self, name, None) for name in ("ovsdb_server", "vswitchd")]
        return all(d is not None and d.is_running() for d in daemons)


class OvsBridge(fixtures.Fixture):
    """A bridge on one OVS instance, deleted at cleanup."""

    def __init__(self, instance: OvsInstance, name: str):
        super().__init__()
        self.instance = instance
        self.name = name

    def __repr__(self) -> str:
        return f"<OvsBridge {self.name} of {self.instance.name}>"

    def _setUp(self) -> None:
        self.api.add_br(self.name, datapath_type=self.instance.datapath_type).execute(
            check_error=True)
        self.addCleanup(self._delete)

    def _delete(self) -> None:
        if self.instance.is_running():
            self.api.del_br(self.name).execute(check_error=False)

    @property
    def api(self) -> impl_idl.OvsdbIdl:
        return self.instance.api

    @property
    def namespace(self) -> str | None:
        """The namespace of the bridge's instance: where its ports' devices live."""
        return self.instance.namespace

    def add_port(self, port: str, external_ids: dict | None = None, **iface: object) -> None:
        """Add ``port`` (an existing link, unless ``type=`` says otherwise)."""
        with self.api.transaction(check_error=True) as txn:
            txn.add(self.api.add_port(self.name, port))
            if iface:
                txn.add(self.api.db_set("Interface", port, *iface.items()))
            if external_ids:
                txn.add(self.api.db_set("Interface", port, ("external_ids", external_ids)))

    def delete_port(self, port: str) -> None:
        """Remove ``port`` if it is there (nothing to do on an instance that was killed)."""
        if self.instance.is_running():
            self.api.del_port(port, bridge=self.name, if_exists=True).execute(check_error=True)

    def port_names(self) -> list[str]:
        return list(self.api.list_ports(self.name).execute(check_error=True))

    def dump_flows(self) -> str:
        return self.instance.ofctl("dump-flows", self.name)


def connect_by_patch(bridge: OvsBridge, peer: OvsBridge, port: str, peer_port: str) -> None:
    """Join two bridges of one instance with a pair of patch ports."""
    bridge.add_port(port, type="patch", options={"peer": peer_port})
    peer.add_port(peer_port, type="patch", options={"peer": port})
