"""Options every agent has (oslo.config), and those of agents that plug ports."""

from __future__ import annotations

from oslo_config import cfg

COMMON_OPTS = [
    cfg.StrOpt("host", required=True, help="Name of the host this agent serves."),
    cfg.StrOpt("transport_url", required=True, secret=True,
               help="AMQP broker, amqp://user:pass@host:port/vhost."),
    cfg.FloatOpt("report_interval", default=2.0, min=0.1,
                 help="Seconds between two heartbeats to the server."),
    cfg.FloatOpt("rpc_timeout", default=30.0, min=1, help="Timeout of RPC calls."),
    cfg.BoolOpt("debug", default=False, help="Log at DEBUG level."),
]

RESYNC_OPTS = [
    cfg.FloatOpt("resync_interval", default=30.0, min=1,
                 help="Seconds between two full resyncs, a safety net for lost "
                      "notifications."),
    cfg.StrOpt("namespace_prefix", default="",
               help="Prepended to every namespace this agent creates, so that "
                    "several agents on one machine never touch each other's."),
]

PLUGGING_OPTS = [
    cfg.StrOpt("ovsdb_connection", required=True,
               help="OVSDB of this host's OVS instance, e.g. unix:/run/x/db.sock."),
    cfg.StrOpt("integration_bridge", default="br-int"),
]
