"""Run the API and the page in one process, on two loopback ports (two origins).

Both servers bind 127.0.0.1. The origins use the name ``localhost``: browsers resolve it
(and every ``*.localhost`` name) to loopback, and ``localhost:5000`` and ``localhost:5001``
are different origins but the same *site*, so the demo's session cookie is a first-party
cookie that browsers blocking third-party cookies still send.
"""

from __future__ import annotations

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
    """Bind both ports (either may be 0), then build the apps, which need each other's origin."""
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
