"""Options of the L3 agent (an oslo.config INI file)."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

from neutrino.agents import options


def load(argv: Sequence[str]) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf.register_opts(options.COMMON_OPTS + options.RESYNC_OPTS)
    conf.register_opts(options.PLUGGING_OPTS, group="ovs")
    conf(list(argv), project="neutrino", prog="neutrino-l3-agent")
    return conf
