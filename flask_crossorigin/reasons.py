"""Why a request was refused: one text per reason, shared by logs, the CLI and debug bodies."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("flask_crossorigin")

#: Templates for every refusal; keys are stable identifiers.
REASONS: dict[str, str] = {
    "origin-missing": "the preflight has no Origin header, so it is not a CORS request",
    "origin-malformed": (
        "the Origin header {origin} is not a serialized origin (scheme://host[:port])"
    ),
    "origin-null": (
        "the origin 'null' (sandboxed iframes, file: and data: pages) is not listed; "
        "add \"null\" to origins only if every such page may read the response"
    ),
    "origin-not-allowed": (
        "the origin {origin} matches none of the allowed origins of {policy}; "
        "add it to origins if it should be allowed"
    ),
    "origin-callable-failed": (
        "the origins callable of {policy} raised {error}; the origin {origin} was refused"
    ),
    "method-malformed": (
        "Access-Control-Request-Method {method} is not a valid HTTP method token"
    ),
    "method-not-allowed": (
        "the method {method} is not in the methods of {policy} ({allowed}); "
        "add it to methods (methods are compared case-sensitively)"
    ),
    "headers-malformed": (
        "Access-Control-Request-Headers is not a comma-separated list of header names"
    ),
    "headers-too-long": (
        "Access-Control-Request-Headers is longer than {limit} (length {length}, "
        "{count} names); refused without parsing"
    ),
    "headers-not-allowed": (
        "the request header(s) {headers} are not in the allow_headers of {policy} "
        "({allowed}); add them to allow_headers"
    ),
}


# Details that come from the request: escaped and quoted wherever they are shown.
_REQUEST_DATA = frozenset({"origin", "method", "headers"})


class Refusal:
    """A refused CORS request: the reason's key and the values its text names.

    The text is only formatted when somebody reads :attr:`message`, so a
    refusal costs next to nothing when nobody logs it.
    """

    __slots__ = ("code", "details")

    def __init__(self, code: str, **details: Any) -> None:
        self.code = code
        self.details = details

    @property
    def message(self) -> str:
        values = {
            key: repr(escape(value)) if key in _REQUEST_DATA else str(value)
            for key, value in self.details.items()
        }
        return REASONS[self.code].format(**values)

    def __repr__(self) -> str:
        return f"Refusal({self.code!r}, {self.message!r})"


def escape(value: str) -> str:
    """Make request data safe for one log line: no CR, LF or other control characters."""
    return value.encode("unicode_escape").decode("ascii")

