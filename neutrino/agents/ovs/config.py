"""Options of the OVS agent (an oslo.config INI file)."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

DEFAULT_OPTS = [
    cfg.StrOpt("host", required=True, help="Name of the host this agent serves."),
    cfg.StrOpt("transport_url", required=True, secret=True,
               help="AMQP broker, amqp://user:pass@host:port/vhost."),
    cfg.FloatOpt("report_interval", default=2.0, min=0.1,
                 help="Seconds between two heartbeats to the server."),
    cfg.FloatOpt("polling_interval", default=0.5, min=0.01,
                 help="Longest time between two scans of br-int's ports; a "
                      "change on br-int wakes the agent at once."),
    cfg.FloatOpt("rpc_timeout", default=30.0, min=1, help="Timeout of RPC calls."),
    cfg.BoolOpt("debug", default=False, help="Log at DEBUG level."),
]

OVS_OPTS = [
    cfg.StrOpt("ovsdb_connection", required=True,
               help="OVSDB of this host's OVS instance, e.g. unix:/run/x/db.sock."),
    cfg.StrOpt("ovs_rundir", required=True,
               help="Run directory of this host's ovs-vswitchd (bridge .mgmt sockets)."),
    cfg.StrOpt("integration_bridge", default="br-int"),
    cfg.StrOpt("tunnel_bridge", default="br-tun"),
    cfg.StrOpt("datapath_type", default="netdev", choices=["netdev", "system"]),
    cfg.HostAddressOpt("local_ip", help="This host's tunnel endpoint address."),
    cfg.DictOpt("bridge_mappings", default={},
                help="physical_network:bridge pairs, e.g. physnet1:br-phys."),
    cfg.BoolOpt("use_veth_interconnection", default=False,
                help="Join br-int to br-tun and to physical bridges with veth pairs "
                     "instead of patch ports."),
]

AGENT_OPTS = [
    cfg.ListOpt("tunnel_types", default=["vxlan"],
                help="Tunnel types this agent builds (vxlan, gre); empty for none."),
    cfg.BoolOpt("l2_population", default=False),
    cfg.BoolOpt("arp_responder", default=False),
]


def load(argv: Sequence[str]) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(OVS_OPTS, group="ovs")
    conf.register_opts(AGENT_OPTS, group="agent")
    conf(list(argv), project="neutrino", prog="neutrino-openvswitch-agent")
    return conf
