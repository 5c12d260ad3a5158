"""Why a request was refused: one text per reason, shared by logs, the CLI and debug bodies."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

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
    "origin-public-suffix": (
        "the origin {origin} is at or below the public suffix {suffix}, where anyone can have a "
        "site, and the wildcard {wildcard} of {policy} never reaches across one; list the "
        "origin itself if it should be allowed"
    ),
    "origin-callable-failed": (
        "the origins callable of {policy} raised {error}; the origin {origin} was refused"
    ),
    "origin-lookup-failed": (
        "the origins of {policy} could not be asked about {origin} ({error}), and it was "
        "not confirmed within max_stale; refused until the store answers"
    ),
    "origins-closed": (
        "the origins of {policy} are closed: {error}; every cross-origin request is refused "
        "until a load succeeds (the origin {origin} was refused)"
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
        "Access-Control-Request-Headers is longer than {limit} ({length} characters, "
        "names: {count}); refused without parsing"
    ),
    "headers-not-allowed": (
        "the request header(s) {headers} are not in the allow_headers of {policy} "
        "({allowed}); add them to allow_headers"
    ),
    # Cross-origin writes (csrf_protection): see writes.py.
    "write-site-malformed": (
        "Sec-Fetch-Site {site} is not a Fetch Metadata value (same-origin, same-site, "
        "cross-site, none: one lowercase token, sent once), which no browser sends; "
        "the write is refused"
    ),
    "write-origin-missing": (
        "Sec-Fetch-Site is '{site}' but the {method} request has no Origin header, so "
        "nothing says which site sent it; the write is refused"
    ),
    "write-origin-null": (
        "the origin 'null' (sandboxed iframes, file: and data: pages, some redirects) is "
        "never trusted to write, even where it may read; the write is refused"
    ),
    "write-origin-malformed": (
        "the Origin header {origin} is not one serialized origin (scheme://host[:port]); "
        "the write is refused"
    ),
    "write-any-origin": (
        "{how}, and {policy} allows any origin to read (origins='*'), which trusts no "
        "origin to write with the user's cookies; the write from {origin} is refused. "
        "List the origins that may write in this path's origins, or exempt the route "
        "with csrf_protection=False"
    ),
    "write-uncovered": (
        "{how}, and no CORS policy covers this path, so under the app-wide "
        "csrf_protection of {policy} no other origin may write to it; the write from "
        "{origin} is refused. Give the path a resources entry listing the origins that may "
        "write, or exempt the route with csrf_protection=False on its own entry"
    ),
    "write-untrusted": (
        "{how}, and {policy} does not trust the origin {origin} to write{cause}; add it to "
        "origins to let it write, or exempt the route with csrf_protection=False if any "
        "site may post to it"
    ),
}


#: What a browser makes of a response when the extension refused nothing, and
#: why it lets a request through: the verdicts of ``flask cors check``.
VERDICTS: dict[str, str] = {
    "allowed": "{policy} allows the origin {origin}",
    "allowed-credentials": "{policy} allows the origin {origin}, with credentials",
    "allowed-preflight": "{policy} allows the origin {origin} to send {method}",
    "allowed-preflight-headers": (
        "{policy} allows the origin {origin} to send {method} with the header(s) {headers}"
    ),
    "no-policy": (
        "no CORS policy applies to {path}: no resource pattern matches it and its view "
        "has no @cross_origin; add a pattern that matches it to resources"
    ),
    "view-not-reached": (
        "the answer ({status}) did not come from the view, so {policy} added nothing: "
        "without CORS(app), @cross_origin adds headers only to what its view returns, not "
        "to a redirect, an error or a before_request hook's answer; add "
        "CORS(app, resources={{}}) to let the extension's hooks add them"
    ),
    "error-not-intercepted": (
        "the response is an error ({status}), perhaps an unhandled exception, and {policy} "
        "has intercept_exceptions=False, which leaves those without CORS headers; set "
        "intercept_exceptions=True to let pages read them"
    ),
    "no-allow-origin": (
        "the response has no Access-Control-Allow-Origin header although {policy} applies "
        "to {path}; a WSGI middleware around the app may have removed it"
    ),
    "allow-origin-multiple": (
        "the response has {count} Access-Control-Allow-Origin headers; browsers accept "
        "exactly one"
    ),
    "allow-origin-mismatch": (
        "Access-Control-Allow-Origin is {value}, not the request's origin {origin}; the "
        "view or a hook set it, and the extension leaves a response's own header alone"
    ),
    "wildcard-credentials": (
        "Access-Control-Allow-Origin is '*', which browsers never accept for a credentialed "
        "request; give {path} a policy that lists the origins, with supports_credentials=True"
    ),
    "credentials-missing": (
        "the response lacks 'Access-Control-Allow-Credentials: true', so browsers block a "
        "credentialed request; set supports_credentials=True on {policy}"
    ),
    "credentials-not-true": (
        "Access-Control-Allow-Credentials reads {value} (header lines are joined with "
        "', '), but browsers accept exactly 'true', once; send one such header"
    ),
    "preflight-status": (
        "the preflight answer has status {status}; browsers need 200-299, and no redirect"
    ),
    "preflight-method": (
        "Access-Control-Allow-Methods {value} does not include the method {method} "
        "(compared case-sensitively; '*' counts only without credentials)"
    ),
    "preflight-headers": (
        "Access-Control-Allow-Headers {value} does not include {headers} "
        "('*' counts only without credentials, and never for authorization)"
    ),
}


# Details that come from the request (or the response): escaped and quoted wherever
# they are shown.
#: Refusals of a per-origin source's patterns after which its store is asked about the
#: exact origin (``origin_lookups``); a cached refusal of the store then confirms them
#: (kept with it, per policy: ``Policy._actual_live``).
STORE_DECIDES = frozenset({"origin-not-allowed", "origin-public-suffix", "origins-closed"})
_REQUEST_DATA = frozenset({"origin", "method", "headers", "path", "value", "site"})


class Explanation:
    """A reason's key in a table of texts, and the values its text names.

    The text is only formatted when somebody reads :attr:`message`, so an
    explanation costs next to nothing when nobody logs or shows it.
    """

    __slots__ = ("code", "details")
    texts: ClassVar[dict[str, str]] = {}

    def __init__(self, code: str, **details: Any) -> None:
        self.code = code
        self.details = details

    @property
    def message(self) -> str:
        return self.texts[self.code].format(**_display(self.details))

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class Refusal(Explanation):
    """Why the extension refused a CORS request: a key of :data:`REASONS`."""

    __slots__ = ()
    texts = REASONS


class Verdict(Explanation):
    """A browser's view of a response (``flask cors check``): a key of :data:`VERDICTS`."""

    __slots__ = ()
    texts = VERDICTS


def _display(details: dict[str, Any]) -> dict[str, str]:
    # escape() already doubles backslashes: quote its result, not its repr().
    return {
        key: f"'{escape(value)}'" if key in _REQUEST_DATA else str(value)
        for key, value in details.items()
    }


def escape(value: str) -> str:
    """Make request data safe for one log line: no CR, LF or other control characters."""
    return value.encode("unicode_escape").decode("ascii")
