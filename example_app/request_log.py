"""A WSGI middleware that remembers the requests a server received.

The demo page and the browser tests use it to see what the browser really sent: a
preflight that the browser answered from its cache never reaches the server, and an
actual request that a refused preflight stopped never arrives either.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw it, with the status and headers it answered."""

    method: str
    path: str
    origin: str | None
    request_method: str | None  # Access-Control-Request-Method, set on preflights
    request_headers: str | None  # Access-Control-Request-Headers
    status: int
    response_headers: dict[str, str] = field(default_factory=dict)
    fetch_site: str | None = None  # Sec-Fetch-Site, as the browser sent it

    @property
    def is_preflight(self) -> bool:
        return self.method == "OPTIONS" and self.request_method is not None


class RequestLog:
    """Wrap a WSGI app and record every request it answers (the newest ``maxlen``)."""

    def __init__(self, app: WSGIApp, maxlen: int = 2000) -> None:
        self.app = app
        self._entries: deque[LoggedRequest] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        def logging_start_response(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            entry = LoggedRequest(
                method=environ.get("REQUEST_METHOD", ""),
                path=environ.get("PATH_INFO", ""),
                origin=environ.get("HTTP_ORIGIN"),
                request_method=environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
                request_headers=environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
                status=int(status.split(" ", 1)[0]),
                response_headers={name.lower(): value for name, value in headers},
                fetch_site=environ.get("HTTP_SEC_FETCH_SITE"),
            )
            with self._lock:
                self._entries.append(entry)
            return start_response(status, headers, *args)

        return self.app(environ, logging_start_response)

    def entries(self, path: str | None = None) -> list[LoggedRequest]:
        """The recorded requests, oldest first, optionally only those for ``path``."""
        with self._lock:
            entries = list(self._entries)
        if path is None:
            return entries
        return [entry for entry in entries if entry.path == path]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
