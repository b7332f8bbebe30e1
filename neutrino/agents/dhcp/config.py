"""Options of the DHCP agent (an oslo.config INI file)."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

from neutrino.agents import options

DHCP_OPTS = [
    cfg.StrOpt("state_path", required=True,
               help="Where dnsmasq's host, option, lease and pid files live; leases "
                    "kept here survive an agent restart."),
    cfg.IntOpt("dhcp_lease_duration", default=86400, min=120,
               help="Lease time offered to clients, in seconds."),
]


def load(argv: Sequence[str]) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf.register_opts(options.COMMON_OPTS + options.RESYNC_OPTS + DHCP_OPTS)
    conf.register_opts(options.PLUGGING_OPTS, group="ovs")
    conf(list(argv), project="neutrino", prog="neutrino-dhcp-agent")
    return conf
