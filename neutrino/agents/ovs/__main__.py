"""``python -m neutrino.agents.ovs --config-file FILE``: run the neutrino-openvswitch-agent."""

from __future__ import annotations

import sys

from neutrino.agents import launcher
from neutrino.agents.ovs import agent, config


def main(argv: list[str] | None = None) -> int:
    return launcher.main("neutrino-openvswitch-agent", config.load, agent.OvsAgent, argv)


if __name__ == "__main__":
    sys.exit(main())
