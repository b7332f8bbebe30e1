"""``python -m neutrino.agents.dhcp --config-file FILE``: run the DHCP agent."""

from __future__ import annotations

import logging
import signal
import sys

from neutrino.agents.dhcp import agent, config


def main(argv: list[str] | None = None) -> int:
    conf = config.load(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if conf.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s",
    )
    for noisy in ("ovsdbapp", "pika"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    dhcp_agent = agent.DhcpAgent(conf)
    signal.signal(signal.SIGTERM, lambda *_: dhcp_agent.stop())
    signal.signal(signal.SIGINT, lambda *_: dhcp_agent.stop())
    logging.getLogger(__name__).info("neutrino-dhcp-agent starting on host %s", conf.host)
    try:
        dhcp_agent.run()
    finally:
        dhcp_agent.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
