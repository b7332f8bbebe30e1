"""What a fullstack run needs from the machine, and where the harness finds it.

Environment variables are read here and only here; fixtures get plain values.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket

CONFIGURE_SCRIPT = "tools/configure_for_func_testing.sh"

DEFAULT_DB_ADMIN_URL = "mysql+pymysql://openstack_citest:openstack_citest@localhost/"
DEFAULT_RABBIT_ADMIN_URL = "http://fullstack_admin:fullstack_admin@127.0.0.1:15672"
DEFAULT_STATE_DIR = "/run/fullstack"
DEFAULT_LOG_DIR = "/tmp/fullstack-logs"

REQUIRED_BINARIES = (
    "ip", "ovsdb-server", "ovs-vswitchd", "ovsdb-tool", "ovs-vsctl", "ovs-ofctl",
    "ovs-appctl", "ping", "ethtool",
)
GRAPHVIZ_MISSING = ("dot (Graphviz, Debian package graphviz) not found; it draws each "
                    "test's topology.svg")


class MissingPrerequisite(Exception):
    """Something the run needs is not on this machine."""

    def __init__(self, what: str):
        super().__init__(f"{what}: run {CONFIGURE_SCRIPT} (as root) to set up this machine")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Where the per-run services are; read once from the environment."""

    db_admin_url: str = DEFAULT_DB_ADMIN_URL
    rabbit_admin_url: str = DEFAULT_RABBIT_ADMIN_URL
    state_dir: str = DEFAULT_STATE_DIR
    log_dir: str = DEFAULT_LOG_DIR
    keep_on_failure: bool = False
    test_timeout: float = 0.0
    # The service an environment deploys unless its description names one.
    service: str = "neutrino"
    # Whether the deployed service logs at DEBUG where that costs (Neutron:
    # a third more CPU to come up); neutrino always does.
    service_debug: bool = False

    @classmethod
    def from_environment(cls) -> Settings:
        env = os.environ
        return cls(
            db_admin_url=env.get("OS_TEST_DBAPI_ADMIN_CONNECTION", DEFAULT_DB_ADMIN_URL),
            rabbit_admin_url=env.get("FULLSTACK_RABBITMQ_ADMIN_URL", DEFAULT_RABBIT_ADMIN_URL),
            state_dir=env.get("FULLSTACK_STATE_DIR", DEFAULT_STATE_DIR),
            log_dir=env.get("FULLSTACK_LOG_DIR", DEFAULT_LOG_DIR),
            keep_on_failure=env.get("FULLSTACK_KEEP_ON_FAILURE", "") not in ("", "0"),
            test_timeout=float(env.get("OS_TEST_TIMEOUT", "0") or 0),
            service=env.get("FULLSTACK_SERVICE", "") or "neutrino",
            service_debug=env.get("FULLSTACK_SERVICE_DEBUG", "") not in ("", "0"),
        )


def check_root() -> None:
    if os.geteuid() != 0:
        raise MissingPrerequisite("fullstack tests need root (namespaces, OVS)")


def check_binaries(names: tuple[str, ...] = REQUIRED_BINARIES) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise MissingPrerequisite(f"{', '.join(missing)} not found")


def check_graphviz() -> None:
    """Only the topology picture needs it, so it is checked when drawing, not up front."""
    if shutil.which("dot") is None:
        raise MissingPrerequisite(GRAPHVIZ_MISSING)


def check_tcp(what: str, host: str, port: int, timeout: float = 2.0) -> None:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise MissingPrerequisite(f"{what} unreachable at {host}:{port} ({exc})") from exc


def check_all(settings: Settings) -> None:
    """Fail fast, with one clear message, before anything is created."""
    import urllib.parse

    check_root()
    check_binaries()
    rabbit = urllib.parse.urlsplit(settings.rabbit_admin_url)
    check_tcp("RabbitMQ management API", rabbit.hostname or "127.0.0.1", rabbit.port or 15672)
    if not settings.db_admin_url.startswith("sqlite"):
        import sqlalchemy

        db = sqlalchemy.engine.make_url(settings.db_admin_url)
        check_tcp("MySQL", db.host or "localhost", db.port or 3306)
