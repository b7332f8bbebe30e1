"""A RabbitMQ node and a MariaDB instance of one test's own, for outage scenarios.

Every other test shares the machine's broker and database server; a test
that stops its broker or its database must not stop theirs. These start a
private node or instance on ports the test holds, with data under the run's
directory, and remove both at cleanup. ``outage()`` stops one and, however
the block ends, starts it again on the same data: users, vhosts and
databases survive, as they would on a real server's restart.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator

import fixtures

from fullstack import prerequisites
from fullstack.resources import allocator, daemon, rabbitmq, records

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
START_TIMEOUT = 120.0   # a cold RabbitMQ with its management plugin, on a busy machine
STOP_TIMEOUT = 60.0


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class _PrivateServer(fixtures.Fixture):
    """One server process on data of its own, which ``outage()`` stops and restarts.

    ``registry`` gives it ports the test holds (under the owner's prefix);
    ``data_dir`` is removed at cleanup; its process is ``owner``'s.
    """

    process: daemon.ProcessFixture

    def __init__(self, registry: allocator.Registry, data_dir: str,
                 owner: records.Ownership):
        super().__init__()
        self.registry = registry
        self.owner = owner
        self.prefix = owner.prefix
        self.data_dir = data_dir

    def _port(self) -> int:
        return self.useFixture(allocator.PortAllocation(self.registry, self.prefix)).port

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        """Stopped for the block, started again after it (also when it fails)."""
        self.process.stop()
        try:
            yield
        finally:
            self.process.start()

    def _remove_data(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)


class PrivateRabbitmq(_PrivateServer):
    """A RabbitMQ node of its own: AMQP and management on ports the test holds.

    Its administrator is created at the first boot (RabbitMQ's default user
    settings), so the usual per-test vhost fixture works on it through
    ``admin_url``; remote logins are allowed (agents connect from their hosts).
    """

    def _setUp(self) -> None:
        self.node = f"{self.prefix}@localhost"
        self.password = secrets.token_hex(12)
        self.amqp_port, self.management_port, dist_port = (self._port() for _ in range(3))
        self.addCleanup(self._remove_data)
        home = os.path.join(self.data_dir, "home")   # its own Erlang cookie
        os.makedirs(home, exist_ok=True)
        config = os.path.join(self.data_dir, "rabbitmq.conf")
        with open(config, "w") as f:
            f.write(f"listeners.tcp.default = {self.amqp_port}\n"
                    f"management.tcp.port = {self.management_port}\n"
                    "management.tcp.ip = 127.0.0.1\n"
                    "loopback_users = none\n"
                    "default_user = admin\n"
                    f"default_pass = {self.password}\n"
                    "default_user_tags.administrator = true\n")
        env = {"HOME": home, "RABBITMQ_NODENAME": self.node,
               "RABBITMQ_DIST_PORT": str(dist_port),
               "RABBITMQ_CONFIG_FILE": config,
               "RABBITMQ_MNESIA_BASE": os.path.join(self.data_dir, "mnesia"),
               "RABBITMQ_LOG_BASE": os.path.join(self.data_dir, "log"),
               "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.data_dir, "enabled_plugins"),
               "RABBITMQ_ENABLED_PLUGINS": "rabbitmq_management"}
        self.process = self.useFixture(daemon.ProcessFixture(
            f"rabbitmq-{self.prefix}", [RABBITMQ_SERVER], self.owner,
            env=env, ready=self._serves, ready_timeout=START_TIMEOUT,
            stop_timeout=STOP_TIMEOUT))

    def _serves(self) -> bool:
        """Its management API answers for the default vhost: the broker has booted
        (its listener accepts a little earlier, and answers 404 meanwhile)."""
        if not _accepts(self.management_port):
            return False
        try:
            rabbitmq.ManagementApi(self.admin_url, timeout=2).request("GET", "/vhosts/%2F")
        except (RuntimeError, prerequisites.MissingPrerequisite):
            return False
        return True

    @property
    def admin_url(self) -> str:
        return f"http://admin:{self.password}@127.0.0.1:{self.management_port}"


class PrivateMariadb(_PrivateServer):
    """A MariaDB server of its own on 127.0.0.1, root without a password."""

    def _setUp(self) -> None:
        self.port = self._port()
        self.addCleanup(self._remove_data)
        datadir = os.path.join(self.data_dir, "data")
        os.makedirs(datadir, exist_ok=True)
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={datadir}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, timeout=120)
        self.process = self.useFixture(daemon.ProcessFixture(
            f"mariadb-{self.prefix}",
            ["mariadbd", "--no-defaults", f"--datadir={datadir}", "--user=root",
             f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--socket={os.path.join(self.data_dir, 'mysqld.sock')}",
             f"--pid-file={os.path.join(self.data_dir, 'mysqld.pid')}",
             "--skip-log-bin", "--innodb-buffer-pool-size=32M"],
            self.owner, ready=lambda: _accepts(self.port), ready_timeout=START_TIMEOUT,
            stop_timeout=STOP_TIMEOUT))

    @property
    def admin_url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/"
