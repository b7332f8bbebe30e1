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


def load(argv: Sequence[str], check_only: bool = False) -> cfg.ConfigOpts:
    return options.load(argv, "neutrino-dhcp-agent", {
        None: options.RESYNC_OPTS + DHCP_OPTS, "ovs": options.PLUGGING_OPTS}, check_only)
