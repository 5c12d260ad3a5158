"""Cross-origin writes: whether a request that may change state is let through (CSRF).

CORS decides which sites may *read* a response; a form ``POST`` or a ``fetch()``
with a CORS-safelisted body reaches the view whatever CORS answers. A policy
with ``csrf_protection`` also decides who may *write*, from the Fetch Metadata
headers browsers send and pages cannot set, as Go's
``net/http.CrossOriginProtection`` documents it:

1. ``GET``, ``HEAD`` and ``OPTIONS`` are never refused (a preflight stays a CORS matter);
2. ``Sec-Fetch-Site: same-origin`` or ``none`` (typed URL, bookmark) passes;
3. any other ``Sec-Fetch-Site`` passes only for an ``Origin`` the policy trusts:
   one its ``origins`` allow, through the same :class:`OriginMatcher` that grants
   reads, except that ``'*'`` trusts no writer and ``null`` is never trusted;
4. without ``Sec-Fetch-Site``: no ``Origin`` passes (not a browser, or a very
   old one); an ``Origin`` whose host and port are the request's ``Host`` passes;
   any other goes through rule 3's trust check.

Stricter than Go where a header is malformed: an empty, oversized or
non-token ``Sec-Fetch-Site`` (or several joined by a comma) and an ``Origin``
that is not one serialized origin are refused, each after a bounded amount of
work, so that a user's ``origins`` callable only ever sees well-formed origins.

:class:`WriteProtection` is compiled with its policy; the extension's first
``before_request`` hook only calls :meth:`WriteProtection.refusal`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .origins import (
    DEFAULT_PORTS,
    MAX_ORIGIN_LENGTH,
    NULL_ORIGIN,
    LiveOriginMatcher,
    OriginMatcher,
)
from .origins import parse_request_origin as _parse_origin
from .reasons import Refusal, escape

#: Methods that are never refused: by HTTP's definition they change nothing.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The ``Sec-Fetch-Site`` values browsers send (others are unknown but well-formed tokens).
KNOWN_SITES = ("same-origin", "same-site", "cross-site", "none")
#: Longer ``Sec-Fetch-Site`` values are malformed (the longest defined one has 11 characters).
MAX_SITE_LENGTH = 32
#: Characters of request data a refusal shows; longer values are cut, with their length.
SHOWN_LENGTH = 120
# A Structured Field token as browsers send these: lowercase letters, digits and '-'.
_SITE_TOKEN = re.compile(r"[a-z][a-z0-9-]*")
# An Origin as a browser may write it for rule 4, in any case: a scheme, and a host
# (a name, a trailing dot allowed, or an IPv6 literal in brackets) with an optional port.
_AUTHORITY = r"(?:[A-Za-z0-9_\-.]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
_WRITTEN_ORIGIN = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<authority>" + _AUTHORITY + ")")
# A Host header of the same forms (compared only with such an Origin).
_HOST_HEADER = re.compile(_AUTHORITY)

#: The values of the option, and what each does.
MODES = (False, True, "report-only")


class WriteProtection:
    """The write check of one policy: its trusted origins, and whether it enforces.

    Immutable; safe to share between threads. ``enforce=False`` is
    ``csrf_protection='report-only'``: the hook reports what would be refused.
    """

    __slots__ = ("policy_name", "origins", "enforce", "untrusted")

    def __init__(
        self, policy_name: str, origins: OriginMatcher | LiveOriginMatcher, *, enforce: bool,
        untrusted: str = "write-untrusted",
    ) -> None:
        #: The name of the policy whose origins are trusted ("resources['/api/*']").
        self.policy_name = policy_name
        self.origins = origins
        self.enforce = enforce
        #: The refusal's code for an origin the policy does not trust ("write-uncovered"
        #: for a path no policy covers under an app-wide ``csrf_protection``).
        self.untrusted = untrusted

    @property
    def mode(self) -> bool | str:
        """The ``csrf_protection`` value this check implements."""
        return True if self.enforce else "report-only"

    def __repr__(self) -> str:
        return f"<WriteProtection {self.policy_name} csrf_protection={self.mode!r}>"

    def refusal(self, method: str, environ: Mapping[str, Any]) -> Refusal | None:
        """``None`` when a ``method`` request (as Flask routes it, upper case) with the
        headers of ``environ`` may proceed, else the :class:`Refusal` saying why."""
        if method in SAFE_METHODS:
            return None
        site: str | None = environ.get("HTTP_SEC_FETCH_SITE")
        if site is not None:
            # Compared, not hashed: a string comparison stops at a length mismatch.
            if site == "same-origin" or site == "none":
                return None  # rule 2, the common case: a page writing to its own origin
            if len(site) > MAX_SITE_LENGTH or _SITE_TOKEN.fullmatch(site) is None:
                return Refusal("write-site-malformed", site=_shown(site), length=len(site))
        origin: str | None = environ.get("HTTP_ORIGIN")
        if origin is None:
            if site is None:
                return None  # rule 4: no browser said where this comes from
            return Refusal("write-origin-missing", site=site, method=method)
        if len(origin) > MAX_ORIGIN_LENGTH:
            return Refusal("write-origin-malformed", origin=_shown(origin), length=len(origin))
        if origin in self.origins.exact and origin != NULL_ORIGIN:
            return None  # a listed origin: one set lookup (listed ones are well-formed)
        if origin == NULL_ORIGIN:
            return Refusal("write-origin-null")
        host = None
        if site is None:
            # Rule 4 first, on the Origin as written: a host form the browser puts in
            # both Origin and Host (a trailing dot, say) is this server, as in Go.
            host = request_host(environ)
            if host is not None and same_host(origin, host):
                return None  # rule 4: the Origin names this server, as the browser sees it
        parsed = _parse_origin(origin)  # bounded: longer than MAX_ORIGIN_LENGTH is None
        if parsed is None:
            return Refusal("write-origin-malformed", origin=_shown(origin),
                           length=len(origin))
        # Rule 3: a cross-origin (or cross-host) write passes only from a trusted origin.
        if self.origins.any_origin:
            return _refusal(site, host, "write-any-origin", origin=origin,
                            policy=self.policy_name)
        cause = self.origins.check(origin, self.policy_name)  # regexes, callables: parsed
        if cause is None:
            return None
        return _refusal(site, host, self.untrusted, origin=origin, policy=self.policy_name,
                        cause=_Cause(cause))


class _Cause:
    """Why the origin matcher refused, when it says more than "not listed" (formatted
    only when the refusal's text is)."""

    __slots__ = ("refusal",)

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal

    def __str__(self) -> str:
        if self.refusal.code == "origin-not-allowed":
            return ""
        return f" ({self.refusal.message})"


def _refusal(site: str | None, host: str | None, code: str, **details: Any) -> Refusal:
    if site is not None:
        how = f"Sec-Fetch-Site is '{site}'"  # a short lowercase token: nothing to escape
    else:
        shown = "none" if host is None else f"'{escape(_shown(host))}'"
        how = f"Sec-Fetch-Site is missing and the origin is not the request's Host ({shown})"
    return Refusal(code, how=how, **details)


def request_host(environ: Mapping[str, Any]) -> str | None:
    """The request's ``Host`` as Flask sees it (after a ``ProxyFix``), or ``None``."""
    host = environ.get("HTTP_HOST")
    if host is None:
        name = environ.get("SERVER_NAME")
        if not name:
            return None
        port = str(environ.get("SERVER_PORT", ""))
        scheme = environ.get("wsgi.url_scheme", "http")
        host = name if not port or DEFAULT_PORTS.get(scheme) == port else f"{name}:{port}"
    return host if isinstance(host, str) else None


def same_host(origin: str, request_host: str) -> bool:
    """Whether an ``Origin``'s host and port are a ``Host`` header's, as Go's
    ``CrossOriginProtection`` compares them: the origin's authority as written against
    ``Host``, except that case and the default port of the origin's scheme (written or
    not, on either side) make no difference. Any form both carry compares equal (a
    trailing dot, an IPv6 literal in brackets); an ``Origin`` with a path, user
    information or anything but ``scheme://host[:port]`` never does."""
    if len(request_host) > MAX_ORIGIN_LENGTH or len(origin) > MAX_ORIGIN_LENGTH:
        return False
    written = _WRITTEN_ORIGIN.fullmatch(origin)
    if written is None or _HOST_HEADER.fullmatch(request_host) is None:
        return False
    default = DEFAULT_PORTS.get(written.group("scheme").lower())
    return _without_port(written.group("authority").lower(), default) == _without_port(
        request_host.lower(), default)


def _without_port(authority: str, default: str | None) -> str:
    """An authority without its port when that is the scheme's default."""
    if default is not None and authority.endswith(":" + default):
        return authority[: -len(default) - 1]
    return authority


def _shown(value: str) -> str:
    """Request data cut to :data:`SHOWN_LENGTH` characters for a message."""
    if len(value) <= SHOWN_LENGTH:
        return value
    return f"{value[:SHOWN_LENGTH]}... ({len(value)} characters)"


def write_protection(
    policy_name: str, origins: OriginMatcher | LiveOriginMatcher, mode: bool | str
) -> WriteProtection | None:
    """The check for a ``csrf_protection`` value (``None`` for ``False``)."""
    if mode is False:
        return None
    return WriteProtection(policy_name, origins, enforce=mode is True)


__all__ = [
    "KNOWN_SITES", "MODES", "SAFE_METHODS", "WriteProtection", "request_host", "same_host",
    "write_protection",
]
