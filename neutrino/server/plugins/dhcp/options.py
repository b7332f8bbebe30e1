"""The DHCP agent scheduler's options."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

OPTIONS: dict[str, Sequence[cfg.Opt]] = {"DEFAULT": [
    cfg.IntOpt("dhcp_agents_per_network", default=1, min=1,
               help="How many DHCP agents serve each network that has a DHCP-enabled "
                    "subnet."),
    cfg.BoolOpt("allow_automatic_dhcp_failover", default=True,
                help="Move networks off a DHCP agent dead for twice agent_down_time "
                     "to alive ones, as Neutron does."),
]}
