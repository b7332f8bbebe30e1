"""``python -m neutrino.agents.dhcp --config-file FILE``: run the neutrino-dhcp-agent."""

from __future__ import annotations

import sys

from neutrino.agents import launcher
from neutrino.agents.dhcp import agent, config


def main(argv: list[str] | None = None) -> int:
    return launcher.main("neutrino-dhcp-agent", config.load, agent.DhcpAgent, argv)


if __name__ == "__main__":
    sys.exit(main())
