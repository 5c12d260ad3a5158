"""Reading the WSGI environ the way Flask does, without building a request."""

from __future__ import annotations

from typing import Any


def request_path(environ: dict[str, Any]) -> str:
    """The path as Flask routes it (``request.path``): decoded, with one leading slash.

    Uses the request Flask already built for this environ when there is one.
    """
    path = getattr(environ.get("werkzeug.request"), "path", None)
    if isinstance(path, str):
        return path
    raw: str = environ.get("PATH_INFO") or ""
    if not raw.isascii():
        raw = raw.encode("latin1").decode("utf-8", "replace")  # WSGI's latin-1 transport
    return "/" + raw.lstrip("/")


def is_preflight(environ: dict[str, Any]) -> bool:
    """A CORS preflight: ``OPTIONS`` with ``Access-Control-Request-Method``."""
    return (environ.get("REQUEST_METHOD") == "OPTIONS"
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ)
