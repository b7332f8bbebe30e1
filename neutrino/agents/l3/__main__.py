"""``python -m neutrino.agents.l3 --config-file FILE``: run the L3 agent."""

from __future__ import annotations

import logging
import signal
import sys

from neutrino.agents.l3 import agent, config


def main(argv: list[str] | None = None) -> int:
    conf = config.load(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if conf.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s",
    )
    for noisy in ("ovsdbapp", "pika"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    l3_agent = agent.L3Agent(conf)
    signal.signal(signal.SIGTERM, lambda *_: l3_agent.stop())
    signal.signal(signal.SIGINT, lambda *_: l3_agent.stop())
    logging.getLogger(__name__).info("neutrino-l3-agent starting on host %s", conf.host)
    try:
        l3_agent.run()
    finally:
        l3_agent.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
