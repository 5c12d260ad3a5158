"""``python -m example_app``: the API and the demo page, on two origins, until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .servers import PortUnavailable, create_demo_servers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m example_app", description=__doc__)
    parser.add_argument(
        "--api-port",
        type=int,
        default=5000,
        help="port of the API (default 5000; 0 = any free port)",
    )
    parser.add_argument(
        "--page-port",
        type=int,
        default=5001,
        help="port of the page (default 5001; 0 = any free port)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log every request")
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="keep the partner origins in Redis (redis://localhost:6379/0) instead of SQLite; "
        "default: $FLASK_DEMO_REDIS_URL, else SQLite",
    )
    args = parser.parse_args(argv)

    # The report-only policies log what they would refuse at INFO; the API logs each run
    # of a /bank view, and each write the extension refused (the view did not run).
    show_cors_log()
    logging.getLogger("example_app").setLevel(logging.INFO)
    config = {"DEMO_REDIS_URL": args.redis} if args.redis else None
    try:
        servers = create_demo_servers(api_port=args.api_port, page_port=args.page_port,
                                      config=config)
    except PortUnavailable as error:  # in use, or a port browsers refuse: one line, status 2
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    servers.start()
    print(f"API:  {servers.api_origin}", flush=True)
    print(f"Page: {servers.page_origin}/   <- open this in a browser", flush=True)
    print(f"Partner origins: {servers.api.extensions['demo_partners'].where}", flush=True)
    counting = servers.api.extensions["crossorigin"].metrics is not None
    print(f"Metrics: {servers.api_origin}/metrics" if counting else
          "Metrics: off (pip install 'flask-crossorigin[prometheus]' to count decisions)",
          flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    while not stop.wait(0.5):
        pass
    print("Stopping...", flush=True)
    servers.stop()
    print("Stopped.", flush=True)
    return 0


def show_cors_log() -> None:
    """Print the ``flask_crossorigin`` logger's INFO lines (report-only mismatches) on stderr."""
    cors_logger = logging.getLogger("flask_crossorigin")
    if not cors_logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        cors_logger.addHandler(handler)
        cors_logger.propagate = False
    cors_logger.setLevel(logging.INFO)


if __name__ == "__main__":
    sys.exit(main())
