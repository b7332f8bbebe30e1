"""Options of the L3 agent (an oslo.config INI file)."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

from neutrino.agents import options


def load(argv: Sequence[str], check_only: bool = False) -> cfg.ConfigOpts:
    return options.load(argv, "neutrino-l3-agent", {
        None: options.RESYNC_OPTS, "ovs": options.PLUGGING_OPTS}, check_only)
