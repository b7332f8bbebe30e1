"""``python -m neutrino.agents.l3 --config-file FILE``: run the neutrino-l3-agent."""

from __future__ import annotations

import sys

from neutrino.agents import launcher
from neutrino.agents.l3 import agent, config


def main(argv: list[str] | None = None) -> int:
    conf = config.load(sys.argv[1:] if argv is None else argv)
    return launcher.run(lambda: agent.L3Agent(conf), "neutrino-l3-agent", conf.host, conf.debug)


if __name__ == "__main__":
    sys.exit(main())
