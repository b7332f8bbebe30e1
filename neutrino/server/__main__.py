"""``python -m neutrino.server --config-file FILE``: run the server until SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence

from oslo_config import cfg

from neutrino.common import config_files
from neutrino.server import config
from neutrino.server.service import NeutrinoServer

LOG = logging.getLogger("neutrino.server")

LOG_FORMAT = ("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s "
              "[%(threadName)s] %(message)s")


def setup_logging(debug: bool) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if debug else logging.INFO,
                        format=LOG_FORMAT, datefmt="%Y-%m-%d %H:%M:%S", force=True)
    # pika logs each failed connection attempt as ERRORs with tracebacks; the
    # rpc library already logs one warning per attempt, so keep pika's own
    # lines for debugging.
    logging.getLogger("pika").setLevel(logging.INFO if debug else logging.CRITICAL)


def main(argv: Sequence[str] | None = None) -> int:
    args, check_only = config_files.split_check_flag(sys.argv[1:] if argv is None else argv)
    try:
        conf = config.load(args, check_only)
    except (ValueError, cfg.Error) as error:
        print(error if str(error).startswith("neutrino-server") else f"neutrino-server: {error}",
              file=sys.stderr)
        return 2
    if check_only:
        return 0
    setup_logging(conf.debug)
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        LOG.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        server = NeutrinoServer(conf)
    except ValueError as error:
        # Configuration errors found while building the server (type drivers, URL).
        LOG.error("%s", error)
        return 2
    server.start()
    LOG.info("neutrino-server ready on %s", server.url)
    # A timeout keeps the main thread waking up, so the signal handler runs promptly.
    while not stop.wait(timeout=1.0):
        pass
    server.stop()
    LOG.info("neutrino-server stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
