"""Options of the DHCP agent (an oslo.config INI file)."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

DEFAULT_OPTS = [
    cfg.StrOpt("host", required=True, help="Name of the host this agent serves."),
    cfg.StrOpt("transport_url", required=True, secret=True,
               help="AMQP broker, amqp://user:pass@host:port/vhost."),
    cfg.FloatOpt("report_interval", default=2.0, min=0.1,
                 help="Seconds between two heartbeats to the server."),
    cfg.FloatOpt("resync_interval", default=30.0, min=1,
                 help="Seconds between two full resyncs, a safety net for lost "
                      "notifications."),
    cfg.FloatOpt("rpc_timeout", default=30.0, min=1, help="Timeout of RPC calls."),
    cfg.StrOpt("namespace_prefix", default="",
               help="Prepended to every namespace this agent creates "
                    "(<prefix>qdhcp-<network id>)."),
    cfg.StrOpt("state_path", required=True,
               help="Where dnsmasq's host, option, lease and pid files live; leases "
                    "kept here survive an agent restart."),
    cfg.IntOpt("dhcp_lease_duration", default=86400, min=120,
               help="Lease time offered to clients, in seconds."),
    cfg.BoolOpt("debug", default=False, help="Log at DEBUG level."),
]

OVS_OPTS = [
    cfg.StrOpt("ovsdb_connection", required=True,
               help="OVSDB of this host's OVS instance, e.g. unix:/run/x/db.sock."),
    cfg.StrOpt("integration_bridge", default="br-int"),
]


def load(argv: Sequence[str]) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(OVS_OPTS, group="ovs")
    conf(list(argv), project="neutrino", prog="neutrino-dhcp-agent")
    return conf
