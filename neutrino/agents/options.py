"""Options every agent has (oslo.config), and those of agents that plug ports.

Where Neutron's agents have an option, it has Neutron's name and section, so
one overlay sets it on either system.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

from oslo_config import cfg

from neutrino.common import config_files

COMMON_OPTS = [
    cfg.StrOpt("host", required=True, help="Name of the host this agent serves."),
    cfg.StrOpt("transport_url", required=True, secret=True,
               help="AMQP broker, amqp://user:pass@host:port/vhost."),
    cfg.FloatOpt("rpc_response_timeout", default=30.0, min=1,
                 help="Seconds an RPC call waits for its reply."),
    cfg.BoolOpt("debug", default=False, help="Log at DEBUG level."),
]

# [agent]
AGENT_STATE_OPTS = [
    cfg.FloatOpt("report_interval", default=2.0, min=0.1,
                 help="Seconds between two heartbeats to the server."),
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


MoreOptions = Callable[[cfg.ConfigOpts], Mapping[str | None, Sequence[cfg.Opt]]]


def _optional(opts: Sequence[cfg.Opt]) -> list[cfg.Opt]:
    relaxed = [copy.copy(opt) for opt in opts]
    for opt in relaxed:
        opt.required = False
    return relaxed


def load(argv: Sequence[str], prog: str, groups: dict[str | None, Sequence[cfg.Opt]],
         check_only: bool = False, more: MoreOptions | None = None) -> cfg.ConfigOpts:
    """Parse ``argv`` with the options of ``groups`` (None: DEFAULT) besides the
    common ones; a ValueError names an option the files set that the agent lacks.
    ``check_only``: a check of some options, so none is required.  ``more``:
    options that what the files name brings (an extension's), by group."""
    conf = cfg.ConfigOpts()
    every: dict[str | None, list[cfg.Opt]] = {None: list(COMMON_OPTS),
                                             "agent": list(AGENT_STATE_OPTS)}
    for group, opts in groups.items():
        every.setdefault(group, []).extend(opts)
    for group, opts in every.items():
        conf.register_opts(_optional(opts) if check_only else opts, group=group)
    conf(list(argv), project="neutrino", prog=prog, default_config_files=[])
    for group, opts in (more(conf) if more else {}).items():
        conf.register_opts(_optional(opts) if check_only else opts, group=group)
    config_files.check_known(conf, prog)
    return conf
