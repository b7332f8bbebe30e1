"""``python -m neutrino.agents.ovs --config-file FILE``: run the OVS agent."""

from __future__ import annotations

import logging
import signal
import sys

from neutrino.agents.ovs import agent, config


def main(argv: list[str] | None = None) -> int:
    conf = config.load(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if conf.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s",
    )
    logging.getLogger("ovsdbapp").setLevel(logging.WARNING)
    logging.getLogger("pika").setLevel(logging.WARNING)
    ovs_agent = agent.OvsAgent(conf)
    signal.signal(signal.SIGTERM, lambda *_: ovs_agent.stop())
    signal.signal(signal.SIGINT, lambda *_: ovs_agent.stop())
    logging.getLogger(__name__).info("neutrino-openvswitch-agent starting on host %s", conf.host)
    try:
        ovs_agent.run()
    finally:
        ovs_agent.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
