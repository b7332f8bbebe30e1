"""``python -m neutrino.agents.ovs --config-file FILE``: run the neutrino-openvswitch-agent."""

from __future__ import annotations

import sys

from neutrino.agents import launcher
from neutrino.agents.ovs import agent, config


def main(argv: list[str] | None = None) -> int:
    conf = config.load(sys.argv[1:] if argv is None else argv)
    return launcher.run(lambda: agent.OvsAgent(conf), "neutrino-openvswitch-agent",
                        conf.host, conf.debug)


if __name__ == "__main__":
    sys.exit(main())
