"""The L3 router plugin's options."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

OPTIONS: dict[str, Sequence[cfg.Opt]] = {"DEFAULT": [
    cfg.BoolOpt("allow_automatic_l3agent_failover", default=False,
                help="Move routers off an L3 agent dead for twice agent_down_time to "
                     "alive ones, as Neutron does (off by default there too)."),
]}
