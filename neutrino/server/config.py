"""The server's configuration options and how the server process loads them.

Options live on a ``cfg.ConfigOpts`` instance that ``load`` returns; the rest
of the server receives plain values from it and never reads a global.
"""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

from neutrino.common import config_files

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
    cfg.IntOpt("dhcp_agents_per_network", default=1, min=1,
               help="How many DHCP agents serve each network that has a DHCP-enabled "
                    "subnet."),
    cfg.BoolOpt("allow_automatic_dhcp_failover", default=True,
                help="Move networks off a DHCP agent dead for twice agent_down_time "
                     "to alive ones, as Neutron does."),
    cfg.BoolOpt("allow_automatic_l3agent_failover", default=False,
                help="Move routers off an L3 agent dead for twice agent_down_time to "
                     "alive ones, as Neutron does (off by default there too)."),
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
    cfg.IntOpt("global_physnet_mtu", default=1500, min=68,
               help="MTU of the underlying physical network: a VLAN or flat network's "
                    "MTU, and a tunnel network's before its encapsulation overhead."),
    cfg.ListOpt("api_extensions_path", default=[],
                help="Directories of extension descriptors, besides the server's own and "
                     "each loaded plugin's extensions/ folder; ',' or ':' between them."),
]

DATABASE_OPTS = [
    cfg.StrOpt("connection", secret=True,
               help="SQLAlchemy URL: mysql+pymysql://user:pass@host/db or "
                    "sqlite:////path/to/file.db"),
]

ML2_OPTS = [
    cfg.ListOpt("type_drivers", default=["vxlan"],
                help="Network types the server can create."),
    cfg.ListOpt("tenant_network_types", default=["vxlan"],
                help="Types for networks created without provider attributes, "
                     "in order of preference."),
    cfg.ListOpt("mechanism_drivers", default=["openvswitch"],
                help="Mechanism drivers, in the order binding asks them: openvswitch, "
                     "l2population (agents hear of remote ports: fdb entries), or import "
                     "paths of MechanismDriver classes."),
    cfg.IntOpt("path_mtu", default=0, min=0,
               help="MTU of the path tunnels take between hosts, when smaller than "
                    "global_physnet_mtu; 0: global_physnet_mtu. A tunnel network's MTU is "
                    "this less the encapsulation overhead (vxlan 50, gre 42 bytes)."),
    cfg.ListOpt("extension_drivers", default=[],
                help="ML2 extension drivers (import paths of ExtensionDriver classes): each "
                     "adds its extension's attributes to networks, subnets or ports."),
]

VXLAN_OPTS = [
    cfg.ListOpt("vni_ranges", default=["1:1000"],
                help="VNIs for tenant networks, as 'min:max' entries."),
]

GRE_OPTS = [
    cfg.ListOpt("tunnel_id_ranges", default=["1:1000"],
                help="GRE keys for tenant networks, as 'min:max' entries."),
]

VLAN_OPTS = [
    cfg.ListOpt("network_vlan_ranges", default=[],
                help="'physnet:min:max' entries give VLANs for tenant networks; a "
                     "bare 'physnet' allows provider networks on it only."),
]

FLAT_OPTS = [
    cfg.ListOpt("flat_networks", default=["*"],
                help="Physical networks that may carry a flat network; '*' allows any."),
]


REGION_OPTS = [
    cfg.StrOpt("region_name", help="role local: the name of this server's region, as the "
                                   "central server's pods list it."),
    cfg.URIOpt("central_url", schemes=["http", "https"],
               help="role local: the central server's API, http://host:port."),
    cfg.FloatOpt("request_timeout", default=10.0, min=0.1,
                 help="Seconds a call between the central and a local server may take."),
    cfg.IntOpt("job_attempts", default=3, min=1,
               help="role central: how often a job runs before it is marked FAIL."),
    cfg.FloatOpt("job_retry_delay", default=0.5, min=0.0,
                 help="role central: seconds before a job's second attempt; each next "
                      "attempt waits twice as long."),
    cfg.FloatOpt("failed_job_redo_interval", default=60.0, min=0.0,
                 help="role central: seconds between runs of the failed jobs again; 0: "
                      "only when asked (PUT /v1.0/jobs/{id})."),
    cfg.IntOpt("job_workers", default=2, min=1,
               help="role central: threads that run jobs; a lock per resource keeps two "
                    "from working on one network at once."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(DATABASE_OPTS, group="database")
    conf.register_opts(ML2_OPTS, group="ml2")
    conf.register_opts(VXLAN_OPTS, group="ml2_type_vxlan")
    conf.register_opts(GRE_OPTS, group="ml2_type_gre")
    conf.register_opts(VLAN_OPTS, group="ml2_type_vlan")
    conf.register_opts(FLAT_OPTS, group="ml2_type_flat")
    conf.register_opts(REGION_OPTS, group="region")


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
    config_files.check_known(conf, "neutrino-server")
    if not conf.database.connection and not check_only:
        raise ValueError("[database] connection is not set: give a SQLAlchemy URL "
                         "such as mysql+pymysql://user:pass@host/db")
    if conf.role == "local" and not (conf.region.region_name and conf.region.central_url):
        raise ValueError("role local needs [region] region_name and [region] central_url: "
                         "the region this server serves and the central server's API")
    return conf
