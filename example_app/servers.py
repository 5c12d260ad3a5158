"""Run the API and the page in one process, on two loopback ports (two origins).

Both servers bind 127.0.0.1. The origins use the name ``localhost``: browsers resolve it
(and every ``*.localhost`` name) to loopback, and ``localhost:5000`` and ``localhost:5001``
are different origins but the same *site*, so the demo's session cookie is a first-party
cookie that browsers blocking third-party cookies still send.
"""

from __future__ import annotations

import errno
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from .api import create_app
from .frontend import create_frontend_app
from .request_log import RequestLog

BIND_HOST = "127.0.0.1"
PUBLIC_HOST = "localhost"


#: Ports browsers refuse to connect to (Chromium says ERR_UNSAFE_PORT, Firefox "This
#: address is restricted"): the Fetch standard's "bad port" list. A demo served there
#: starts fine, then every request of the page fails.
BAD_PORTS = frozenset({
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95,
    101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161,
    179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563,
    587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060,
    5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
})


class PortUnavailable(Exception):
    """A port the demo cannot serve on, and the option that picks another."""


def check_port(port: int, option: str) -> None:
    """Refuse, before anything is served, a port browsers refuse or one already in use."""
    if port in BAD_PORTS:
        raise PortUnavailable(
            f"port {port} is one browsers refuse to connect to (the Fetch standard's bad "
            f"ports; Chromium shows ERR_UNSAFE_PORT): pass {option} with another port, "
            "such as 8000, or 0 for any free port")
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind((BIND_HOST, port))
        except OSError as error:
            why = "is in use by another program" if error.errno == errno.EADDRINUSE \
                else f"cannot be used ({error.strerror})"
            raise PortUnavailable(
                f"port {port} {why}: pass {option} with another port, or 0 for any "
                "free port") from error


def _not_ready(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def bind(port: int) -> BaseWSGIServer:
    """A threaded server on 127.0.0.1:``port`` (0 = any free port); set ``.app`` before serving."""
    return make_server(BIND_HOST, port, _not_ready, threaded=True)


@dataclass
class DemoServers:
    api: Flask
    page: Flask
    api_server: BaseWSGIServer
    page_server: BaseWSGIServer
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def api_origin(self) -> str:
        return f"http://{PUBLIC_HOST}:{self.api_server.server_port}"

    @property
    def page_origin(self) -> str:
        return f"http://{PUBLIC_HOST}:{self.page_server.server_port}"

    @property
    def request_log(self) -> RequestLog:
        log: RequestLog = self.api.extensions["demo_request_log"]
        return log

    def start(self) -> DemoServers:
        for server in (self.api_server, self.page_server):
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self.api_server, self.page_server):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)


def create_demo_servers(
    api_port: int = 5000, page_port: int = 5001, config: dict[str, Any] | None = None
) -> DemoServers:
    """Bind both ports (either may be 0), then build the apps, which need each other's origin.

    :raises PortUnavailable: a port is in use, or one browsers refuse (before binding).
    """
    check_port(api_port, "--api-port")
    check_port(page_port, "--page-port")
    if api_port and api_port == page_port:
        raise PortUnavailable(f"--api-port and --page-port are both {api_port}: the API "
                              "and the page need two ports (two origins)")
    api_server = bind(api_port)
    try:
        page_server = bind(page_port)
    except BaseException:
        api_server.server_close()
        raise
    api_origin = f"http://{PUBLIC_HOST}:{api_server.server_port}"
    page_origin = f"http://{PUBLIC_HOST}:{page_server.server_port}"
    api = create_app({"DEMO_FRONTEND_ORIGIN": page_origin, **(config or {})})
    page = create_frontend_app(page_origin=page_origin, api_origin=api_origin)
    api_server.app = api
    page_server.app = page
    return DemoServers(api=api, page=page, api_server=api_server, page_server=page_server)
