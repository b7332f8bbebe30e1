"""``python -m neutrino.agents.l3 --config-file FILE``: run the neutrino-l3-agent."""

from __future__ import annotations

import sys

from neutrino.agents import launcher
from neutrino.agents.l3 import agent, config


def main(argv: list[str] | None = None) -> int:
    return launcher.main("neutrino-l3-agent", config.load, agent.L3Agent, argv)


if __name__ == "__main__":
    sys.exit(main())
