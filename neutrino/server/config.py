"""The server's configuration options and how the server process loads them.

Options live on a ``cfg.ConfigOpts`` instance that ``load`` returns; the rest
of the server receives plain values from it and never reads a global.
"""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

from neutrino.common import config_files
from neutrino.server.plugins import manager

MAC_PATTERN = r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$"

ROLES = ("standalone", "central", "local")

DEFAULT_OPTS = [
    cfg.HostAddressOpt("bind_host", default="127.0.0.1",
                       help="Address the HTTP API listens on."),
    cfg.PortOpt("bind_port", default=9696,
                help="Port the HTTP API listens on; 0 picks a free port."),
    cfg.StrOpt("transport_url", secret=True,
               help="AMQP broker, amqp://user:pass@host:port/vhost. "
                    "Without it the server runs the API only, with no RPC."),
    cfg.IntOpt("agent_down_time", default=15, min=1,
               help="Seconds after its last heartbeat that an agent counts as dead."),
    cfg.StrOpt("base_mac", default="fa:16:3e:00:00:00", regex=MAC_PATTERN,
               help="MAC prefix for ports: the first three octets and every "
                    "non-zero octet are kept, zero octets are randomised."),
    cfg.BoolOpt("debug", default=False, help="Log at DEBUG level."),
    cfg.StrOpt("core_plugin", default="ml2",
               help="The core plugin: a short name (ml2) or the import path of a "
                    "CorePlugin class, package.module.Class."),
    cfg.ListOpt("service_plugins", default=["router", "dhcp_agent_scheduler", "security_group"],
                help="Service plugins, in order: short names (router, security_group, "
                     "dhcp_agent_scheduler) or import paths of ServicePlugin classes."),
    cfg.StrOpt("role", default="standalone", choices=ROLES,
               help="standalone: one server for the whole deployment. central: owns "
                    "networks, addresses and segmentation ids for several regions and "
                    "serves /v1.0/pods and /v1.0/jobs; it has no agents. local: one "
                    "region's server, with agents; it takes what it does not have from "
                    "the central server ([region] central_url)."),
    cfg.ListOpt("api_extensions_path", default=[],
                help="Directories of extension descriptors, besides the server's own and "
                     "each loaded plugin's extensions/ folder; ',' or ':' between them."),
]

DATABASE_OPTS = [
    cfg.StrOpt("connection", secret=True,
               help="SQLAlchemy URL: mysql+pymysql://user:pass@host/db or "
                    "sqlite:////path/to/file.db"),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(DATABASE_OPTS, group="database")


def extension_paths(conf: cfg.ConfigOpts) -> list[str]:
    """``api_extensions_path`` as directories: Neutron separates them with ':'."""
    return [path for entry in conf.api_extensions_path for path in entry.split(":") if path]


def load(argv: Sequence[str], check_only: bool = False) -> cfg.ConfigOpts:
    """Parse ``argv`` (``--config-file FILE`` ...) into a new ConfigOpts; a ValueError
    names an option the files set that the server does not have.  ``check_only``:
    for a check of the files alone, which need not name a database."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    # default_config_files=[]: a test process must never pick up a stray
    # /etc/neutrino/neutrino.conf or ~/.neutrino.conf by accident.
    conf(args=list(argv), project="neutrino", prog="neutrino-server",
         default_config_files=[])
    # Each plugin owns its options: neutrino's own plugins' (loaded or not: a
    # file may set an option of one a test left out) and those of the
    # plugins the files name join before anything is checked, so an option
    # no plugin has is unknown.
    manager.register_options(conf, [*manager.in_tree_classes(),
                                    *manager.configured_classes(conf)])
    config_files.check_known(conf, "neutrino-server")
    if not conf.database.connection and not check_only:
        raise ValueError("[database] connection is not set: give a SQLAlchemy URL "
                         "such as mysql+pymysql://user:pass@host/db")
    if conf.role == "local" and not (conf.region.region_name and conf.region.central_url):
        raise ValueError("role local needs [region] region_name and [region] central_url: "
                         "the region this server serves and the central server's API")
    return conf
