"""``flask cors check``: what a browser makes of one cross-origin request, and why.

The request goes through the app (routing, hooks, the extension's hooks) with
Flask's test client and the response is judged the way a browser does. ``check``
never re-implements a decision: the headers are the app's, and the reason is the
refusal the extension reports (via :data:`~flask_crossorigin.signals.request_refused`),
the same text as in the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

import click
from flask import Flask, Request, has_request_context, request
from flask.cli import with_appcontext
from flask.testing import FlaskClient
from publicsuffixlist import PublicSuffixList
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse

from ..extension import EXTENSION_KEY, POLICY_KEY, _redirect_rule
from ..origins import parse_request_origin
from ..policy import ACAC, ACAH, ACAM, ACAO, Policy
from ..reasons import Verdict
from ..response_headers import WITHHELD_KEY
from ..signals import report_only_mismatch, request_refused
from . import status
from .context import current_state, state_of
from .origins import check_loaded, describe_origins

#: Methods and request headers a browser sends without a preflight (Fetch standard).
SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})
_SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language"})
_SAFELISTED_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
# fetch() uppercases these method names and sends every other one as written.
_NORMALIZED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
# Methods check sends to the app for real; for others the view is not run unless --send.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})



@dataclass
class Exchange:
    """One request sent by ``check`` and the response the app gave."""

    kind: str  #: "preflight" or "request"
    method: str
    path: str
    request_headers: list[tuple[str, str]]
    status: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    view_run: bool = True
    #: Why the browser blocks it (``None`` when it passes): the extension's reason, or a Verdict.
    blocked: str | None = None
    #: The name of the policy that decided this exchange (``None`` when none applies).
    policy: str | None = None
    #: That policy: the one the extension's hooks applied to this request (they record it
    #: in the request's environ; ``check`` never looks it up on its own).
    decided_by: Policy | None = field(default=None, repr=False)
    #: The request's path as Flask saw it (percent-decoded, without the query).
    request_path: str = ""
    #: The report-only policy's mismatch on this exchange (the ``report_only_mismatch``
    #: signal's arguments), ``None`` when it decided alike or there is none.
    report_only: dict[str, Any] | None = None
    #: Why the extension withheld credentials the app's own headers granted, if it did.
    withheld: str | None = None


@dataclass
class CheckResult:
    """What ``flask cors check`` found: the verdict, its reason, and every exchange."""

    allowed: bool
    reason: str
    policy: str | None
    exchanges: list[Exchange]
    notes: list[str]
    #: The report-only policy's verdict (``None`` when no report-only policy applies):
    #: ``"allowed"`` or ``"blocked"``, as it would decide if it were enforced.
    report_only: str | None = None
    #: Why, in the words of the log; and the report-only policy's name.
    report_only_reason: str | None = None
    report_only_policy: str | None = None
    #: What ``csrf_protection`` decides for the request, when a write check applies:
    #: with the ``Sec-Fetch-Site`` given (or the one a current browser sends), then
    #: without it (older browsers, other clients).
    writes: list[WriteVerdict] = field(default_factory=list)
    #: Where the deciding policy's origins come from when they are loaded at run time
    #: (``CachedOrigins``): the source, its last load, fresh, stale or closed.
    origins: str | None = None


@dataclass
class WriteVerdict:
    """What the first hook's write check decides for one set of request headers."""

    #: ``"Sec-Fetch-Site: cross-site"`` or ``"without Sec-Fetch-Site"``, and why that one.
    label: str
    #: ``"passes"``, ``"refused"`` (403, the view does not run) or ``"would be refused"``
    #: (``csrf_protection='report-only'``: reported, the request goes on).
    verdict: str
    #: The refusal's text, as the log shows it (``None`` when it passes).
    reason: str | None
    policy: str


def normalize_method(method: str) -> str:
    """The method as ``fetch()`` sends it: the six standard names uppercased, others as typed."""
    return method.upper() if method.upper() in _NORMALIZED_METHODS else method


def parse_header(spec: str) -> tuple[str, str | None]:
    """``"X-Token"`` or ``"Content-Type: text/plain"`` -> (name, value or None)."""
    name, sep, value = spec.partition(":")
    return name.strip(), (value.strip() if sep else None)


def is_safelisted_header(name: str, value: str | None) -> bool:
    """Whether a browser sends this request header without a preflight (values simplified)."""
    name = name.lower()
    if name in _SAFELISTED_HEADERS:
        return True
    if name == "content-type" and value is not None:
        return value.split(";", 1)[0].strip().lower() in _SAFELISTED_CONTENT_TYPES
    if name == "range" and value is not None:
        return re.fullmatch(r"bytes=[0-9]+-[0-9]*", value) is not None
    return False


def check_request(
    app: Flask,
    path: str,
    origin: str,
    method: str = "GET",
    headers: Iterable[str] = (),
    *,
    credentials: bool = False,
    preflight: bool = False,
    send: bool = False,
) -> CheckResult:
    """Send a cross-origin request to ``app`` as a browser would, and judge the answer.

    Without ``preflight``, a preflight is sent first when the browser would send
    one, and the actual request only when the preflight passes. With it, only
    the preflight is sent. The actual request runs the view for GET, HEAD and
    OPTIONS, or with ``send``; otherwise the extension only adds its headers to an
    empty answer (a view that changes data is not run by a check).
    """
    # The views checked as at the first request: the after_request hook check runs
    # directly adds nothing while they are not (a failed check is the response's error).
    state_of(app)._check_views_once()
    method = normalize_method(method)
    parsed = [parse_header(spec) for spec in headers]
    # Sec-Fetch-* are set by the browser, never by the page: they need no preflight.
    unsafe = sorted(
        {name.lower() for name, value in parsed
         if not is_safelisted_header(name, value) and not _is_fetch_metadata(name)}
    )
    needs_preflight = method not in SAFELISTED_METHODS or bool(unsafe)
    notes: list[str] = []
    if preflight and not needs_preflight:
        notes.append("a browser sends no preflight for this request; --preflight sent one anyway")
    exchanges: list[Exchange] = []
    refusals: list[str] = []
    mismatches: list[dict[str, Any]] = []

    def on_refused(sender: Flask, **details: Any) -> None:
        refusals.append(details["reason"])

    def on_mismatch(sender: Flask, **details: Any) -> None:
        mismatches.append(details)

    with request_refused.connected_to(on_refused, sender=app), \
            report_only_mismatch.connected_to(on_mismatch, sender=app):
        if preflight or needs_preflight:
            exchange = _send_preflight(app, path, origin, method, unsafe)
            exchange.blocked = _take(refusals) or _judge_preflight(
                exchange, origin, method, unsafe, credentials, app
            )
            exchange.report_only = mismatches.pop() if mismatches else None
            mismatches.clear()
            exchanges.append(exchange)
        if not preflight and not (exchanges and exchanges[0].blocked):
            values = [(name, value if value is not None else _placeholder(name))
                      for name, value in parsed]
            exchange = _send_actual(app, path, origin, method, values, send)
            exchange.blocked = _take(refusals) or _judge_actual(
                exchange, origin, credentials, app
            )
            exchange.report_only = mismatches.pop() if mismatches else None
            mismatches.clear()
            exchanges.append(exchange)
    if exchanges[0].kind == "preflight" and exchanges[0].blocked and not preflight:
        notes.append("a browser sends a preflight first for this request, and stops there")
    notes += [e.withheld for e in exchanges if e.withheld is not None]
    if any(not exchange.view_run for exchange in exchanges):
        notes.append(
            f"the {method} view was not run (it may change data): the response is an empty "
            "200 with the extension's headers; pass --send to run the view"
        )
    if any(exchange.status.startswith("404") for exchange in exchanges):
        notes.append(f"no route matches {path} (404): the headers are those of the 404 response")
    final = exchanges[-1]
    deciding = next((e for e in exchanges if e.blocked), final)
    blocked = deciding.blocked
    if blocked is not None:
        reason = blocked
    else:
        reason = _allowed_reason(
            final, origin, method, unsafe, credentials, len(exchanges) > 1
        )
    result = CheckResult(
        allowed=blocked is None,
        reason=reason,
        policy=deciding.policy,
        exchanges=exchanges,
        notes=notes,
    )
    _report_only_verdict(result)
    result.writes = write_verdicts(app, path, origin, method, parsed)
    refused = next((w for w in result.writes[:1] if w.verdict == "refused"), None)
    if refused is not None and result.allowed:
        # The server answers 403 before the view, without CORS headers: nothing to read.
        result.allowed, result.reason, result.policy = False, refused.reason or "", refused.policy
        if not result.exchanges[-1].view_run:
            result.notes.append(
                "csrf_protection refuses this write with 403 before the app's hooks and the "
                "view run; the response below is what the extension adds otherwise")
    if not result.allowed and not result.writes and result.exchanges[-1].kind == "request":
        note = unchecked_write_note(app, path, origin, method)
        if note is not None:
            result.notes.append(note)
    result.origins = describe_origins(deciding.decided_by)
    return result


def unchecked_write_note(app: Flask, path: str, origin: str, method: str) -> str | None:
    """For a cross-origin write the browser sends and no write check covers: that the
    view runs, whatever CORS decides about reading the answer."""
    if method.upper() in _SAFE_METHODS:
        return None
    with app.test_request_context(path, method=method) as ctx:
        target = ctx.request.host_url.rstrip("/")
    if browser_fetch_site(origin, target) == "same-origin":
        return None
    return (f"csrf_protection does not check this write: a browser sends this {method} from "
            f"{origin} with the user's cookies and the view runs; CORS only keeps the page "
            "from reading the answer")


def _is_fetch_metadata(name: str) -> bool:
    return name.lower().startswith("sec-fetch-")


def write_verdicts(
    app: Flask, path: str, origin: str, method: str, parsed: list[tuple[str, str | None]]
) -> list[WriteVerdict]:
    """What ``csrf_protection`` decides, asked of the code the first hook runs: with the
    ``Sec-Fetch-Site`` given (or the one a current browser sends), then without any.
    Nothing for GET, HEAD and OPTIONS, which are never refused."""
    if method.upper() in _SAFE_METHODS:
        return []
    given = next((value for name, value in parsed
                  if name.lower() == "sec-fetch-site" and value is not None), None)
    others = [(name, value if value is not None else _placeholder(name))
              for name, value in parsed if not _is_fetch_metadata(name)]
    with app.test_request_context(path, method=method) as ctx:
        target = ctx.request.host_url.rstrip("/")
    site = given if given is not None else browser_fetch_site(origin, target)
    how = "as given" if given is not None else f"as a current browser sends it to {target}"
    cases = [(f"Sec-Fetch-Site: {site} ({how})", site),
             ("without Sec-Fetch-Site (older browsers, other clients)", None)]
    verdicts = []
    state = state_of(app)
    for label, value in cases:
        headers = [("Origin", origin), *others]
        if value is not None:
            headers.append(("Sec-Fetch-Site", value))
        with app.test_request_context(path, method=method, headers=headers) as ctx:
            decided = state.judge_write(ctx.request)
        if decided is None:
            return []  # no write check applies to this route
        policy, check, refusal = decided
        verdict = "passes" if refusal is None else (
            "refused" if check.enforce else "would be refused")
        verdicts.append(WriteVerdict(label, verdict, refusal.message if refusal else None,
                                     policy.name))
    return verdicts


def browser_fetch_site(origin: str, target: str) -> str:
    """The ``Sec-Fetch-Site`` a browser sends from a page on ``origin`` to ``target``
    (an origin): same-origin, same-site (same scheme and registrable domain), or
    cross-site."""
    if origin == target:
        return "same-origin"
    page, server = parse_request_origin(origin), parse_request_origin(target)
    if page is None or server is None or page.scheme != server.scheme:
        return "cross-site"
    return "same-site" if _site(page.host) == _site(server.host) else "cross-site"


def _site(host: str) -> str:
    if host.startswith("[") or re.fullmatch(r"[0-9.]+", host):
        return host  # an IP address is a site of its own
    # Names under a suffix the list does not know (localhost, test) are sites one label
    # below it, as browsers treat them.
    return _sites().privatesuffix(host) or host


@lru_cache(maxsize=1)
def _sites() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=True)


def _report_only_verdict(result: CheckResult) -> None:
    """Fill in what the report-only policy would decide, from the mismatches it reported.

    An exchange without a mismatch was decided alike by both policies.
    """
    mismatch = next((e.report_only for e in result.exchanges if e.report_only), None)
    if mismatch is not None:
        kind = "preflight" if mismatch["preflight"] else "request"
        result.report_only_policy = mismatch["report_only_policy"]
        if mismatch["mismatch"] == "would-refuse":
            result.report_only, result.report_only_reason = "blocked", mismatch["reason"]
        else:
            result.report_only = "allowed"
            result.report_only_reason = (
                f"{mismatch['report_only_policy']} would grant the {kind} that "
                f"{mismatch['policy']} refuses: {mismatch['reason']}"
            )
            if result.exchanges[-1].kind == "preflight":
                result.notes.append(
                    "the report-only policy would grant the preflight; the actual request "
                    "a browser sends next was not checked")
        return
    for exchange in result.exchanges:
        enforced = exchange.decided_by
        trial = enforced.report_only if enforced is not None else None
        if enforced is not None and trial is not None:
            result.report_only_policy = trial.name
            result.report_only = "allowed" if result.allowed else "blocked"
            result.report_only_reason = (
                f"the same verdict: {trial.name} decides this as {enforced.name} does")
            return


def _take(refusals: list[str]) -> str | None:
    reason = refusals[-1] if refusals else None
    refusals.clear()
    return reason


def _placeholder(name: str) -> str:
    return "application/json" if name.lower() == "content-type" else "x"


def _send_preflight(
    app: Flask, path: str, origin: str, method: str, unsafe: list[str]
) -> Exchange:
    sent = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if unsafe:
        sent.append(("Access-Control-Request-Headers", ",".join(unsafe)))
    exchange = Exchange("preflight", "OPTIONS", path, sent)
    _send(app, exchange)
    return exchange


def _send_actual(
    app: Flask, path: str, origin: str, method: str, values: list[tuple[str, str]], send: bool
) -> Exchange:
    exchange = Exchange("request", method, path, [("Origin", origin), *values])
    if send or method.upper() in _SAFE_METHODS or not _reaches_a_view(app, exchange):
        _send(app, exchange)  # no view runs for a 404, a 405 or a redirect
        return exchange
    # Pass an empty response through the after_request hook (or, without CORS(app), what
    # a @cross_origin view does with its own response): the request is routed as usual.
    exchange.view_run = False
    with app.test_request_context(path, method=method, headers=exchange.request_headers) as ctx:
        response = app.response_class()
        del response.headers["Content-Type"]  # no body: only what the extension adds
        state_of(app).add_response_headers(response)
        _record(exchange, ctx.request)
    exchange.status = response.status
    exchange.response_headers = list(response.headers.items())
    return exchange


def _reaches_a_view(app: Flask, exchange: Exchange) -> bool:
    with app.test_request_context(
        exchange.path, method=exchange.method, headers=exchange.request_headers
    ) as ctx:
        return ctx.request.routing_exception is None


def _send(app: Flask, exchange: Exchange) -> None:
    # Answer errors with the app's error pages, as in production, even under --debug.
    propagate = app.config.get("PROPAGATE_EXCEPTIONS")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        # The block keeps the request's context after the response, to read what the
        # extension's hooks recorded in its environ.
        # Werkzeug's own response class on the client side: the app's response_class
        # would run again there and add its default headers to what the server sent.
        with FlaskClient(app, TestResponse) as client:
            response = client.open(
                exchange.path, method=exchange.method, headers=exchange.request_headers
            )
            if has_request_context():  # not when a WSGI middleware answered by itself
                _record(exchange, cast(Request, request._get_current_object()))  # type: ignore[attr-defined]
            else:
                exchange.request_path = exchange.path.split("?", 1)[0]
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = propagate
    exchange.status = response.status
    exchange.response_headers = list(response.headers.items())
    response.close()


def _record(exchange: Exchange, req: Request) -> None:
    """Take from the request what the extension's hooks decided: the policy they applied."""
    exchange.request_path = req.path
    decided_by = req.environ.get(POLICY_KEY)
    exchange.decided_by = decided_by if isinstance(decided_by, Policy) else None
    exchange.policy = exchange.decided_by.name if exchange.decided_by is not None else None
    exchange.withheld = req.environ.get(WITHHELD_KEY)


def _not_applied(app: Flask, exchange: Exchange) -> str:
    """Why no policy gave the response its headers (the hooks applied none)."""
    status = exchange.status
    if EXTENSION_KEY not in app.extensions:
        # Without CORS(app) a @cross_origin view adds headers only to what it returns:
        # name the policy the extension's hooks would apply, if there is one.
        with app.test_request_context(
            exchange.path, method=exchange.method, headers=exchange.request_headers
        ) as ctx:
            req = ctx.request
            rule = req.url_rule if req.routing_exception is None else _redirect_rule(req)
            covering = state_of(app).policy_of_rule(rule, req.path)
        if covering is not None:
            return Verdict("view-not-reached", policy=covering.name, status=status).message
    return Verdict("no-policy", path=exchange.request_path).message


def _judge_actual(
    exchange: Exchange,
    origin: str,
    credentials: bool,
    app: Flask,
) -> str | None:
    """The Fetch standard's CORS check; ``None`` when it passes."""
    headers = Headers(exchange.response_headers)
    values = headers.getlist(ACAO)
    policy, path = exchange.decided_by, exchange.request_path
    if not values:
        if policy is None:
            return _not_applied(app, exchange)
        status = int(exchange.status.split(" ", 1)[0])
        if status >= 500 and not policy.intercept_exceptions:
            return Verdict("error-not-intercepted", status=exchange.status,
                           policy=policy.name).message
        return Verdict("no-allow-origin", policy=policy.name, path=path).message
    if len(values) > 1:
        return Verdict("allow-origin-multiple", count=len(values)).message
    value = values[0]
    if value == "*" and credentials:
        return Verdict("wildcard-credentials", path=path).message
    if value != "*" and value != origin:
        return Verdict("allow-origin-mismatch", value=value, origin=origin).message
    if credentials:
        allow_credentials = combined(headers, ACAC)
        if allow_credentials is None:
            name = policy.name if policy is not None else "a policy for " + path
            return Verdict("credentials-missing", policy=name).message
        if allow_credentials != "true":
            return Verdict("credentials-not-true", value=allow_credentials).message
    return None


def combined(headers: Headers, name: str) -> str | None:
    """A header's value as a browser reads it: its lines joined with ', ' (RFC 9110 5.3).

    So two 'Access-Control-Allow-Credentials: true' lines read 'true, true', which
    is not 'true'; two Allow-Methods lines make one list. ``None`` when absent.
    """
    values = headers.getlist(name)
    return ", ".join(values) if values else None


def _judge_preflight(
    exchange: Exchange,
    origin: str,
    method: str,
    unsafe: list[str],
    credentials: bool,
    app: Flask,
) -> str | None:
    """The Fetch standard's CORS-preflight fetch checks; ``None`` when they pass."""
    # A status that is not ok fails whatever the headers say (and gets no grant).
    if not 200 <= int(exchange.status.split(" ", 1)[0]) <= 299:
        return Verdict("preflight-status", status=exchange.status).message
    failed = _judge_actual(exchange, origin, credentials, app)
    if failed is not None:
        return failed
    headers = Headers(exchange.response_headers)
    allow_methods = combined(headers, ACAM) or ""
    methods = _split(allow_methods)
    wildcard = "*" in methods and not credentials
    if method not in methods and method not in SAFELISTED_METHODS and not wildcard:
        return Verdict("preflight-method", value=allow_methods, method=method).message
    allow_headers = combined(headers, ACAH) or ""
    allowed = {name.lower() for name in _split(allow_headers)}
    wildcard = "*" in allowed and not credentials
    missing = [
        name for name in unsafe
        if name not in allowed and not (wildcard and name != "authorization")
    ]
    if missing:
        return Verdict("preflight-headers", value=allow_headers,
                       headers=", ".join(missing)).message
    return None


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _allowed_reason(
    final: Exchange,
    origin: str,
    method: str,
    unsafe: list[str],
    credentials: bool,
    preflighted: bool,
) -> str:
    name = final.policy or "the view's own headers"
    if final.kind == "preflight" or preflighted:
        if unsafe:
            return Verdict("allowed-preflight-headers", policy=name, origin=origin,
                           method=method, headers=", ".join(unsafe)).message
        return Verdict("allowed-preflight", policy=name, origin=origin, method=method).message
    code = "allowed-credentials" if credentials else "allowed"
    return Verdict(code, policy=name, origin=origin).message


def render_check(result: CheckResult) -> Iterator[str]:
    """The report ``flask cors check`` prints."""
    yield f"{'allowed' if result.allowed else 'blocked'}: {result.reason}"
    yield f"policy: {result.policy or '(none)'}"
    for write in result.writes:
        line = f"csrf_protection: {write.label}: {write.verdict}"
        if write.verdict == "refused":
            line += " (403, the view does not run)"
        yield line + (f": {write.reason}" if write.reason else "")
    if result.origins is not None:
        yield f"origins: {result.origins}"
    if result.report_only is not None:
        yield f"report-only: {result.report_only}: {result.report_only_reason}"
        yield f"report-only policy: {result.report_only_policy}"
    for note in result.notes:
        yield f"note: {note}"
    for exchange in result.exchanges:
        verdict = "blocked" if exchange.blocked else "passes"
        yield ""
        yield f"{exchange.kind} ({verdict}):"
        yield f"> {exchange.method} {exchange.path}"
        for name, value in exchange.request_headers:
            yield f"> {name}: {value}"
        yield f"< {exchange.status}"
        # The CORS headers (and Vary) first, each group in the order of the response.
        ordered = sorted(exchange.response_headers, key=lambda header: not _is_cors(header[0]))
        for name, value in ordered:
            yield f"< {name}: {value}"


def _is_cors(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("access-control-") or lowered == "vary"


@click.command("check")
@click.argument("path")
@click.option("--origin", required=True, help="The page's origin, e.g. https://app.example.")
@click.option("--method", default="GET", show_default=True, help="The request's method.")
@click.option("--header", "headers", multiple=True, metavar="NAME[:VALUE]",
              help="A request header the page sets (repeatable).")
@click.option("--credentials", is_flag=True,
              help="The page sends cookies or HTTP auth (credentials: 'include').")
@click.option("--preflight", is_flag=True, help="Send only the preflight and judge it.")
@click.option("--send", is_flag=True,
              help="Run the view for methods other than GET, HEAD and OPTIONS too.")
@with_appcontext
def check_command(
    path: str,
    origin: str,
    method: str,
    headers: tuple[str, ...],
    credentials: bool,
    preflight: bool,
    send: bool,
) -> None:
    """Send a cross-origin request to PATH and say whether a browser would allow it.

    Exit status 0 when the browser would let the page read the response, 1 when
    it would block it, 2 for a usage error, 3 when the app cannot be checked (its
    CORS configuration is invalid, or it fails to load), 4 when the store of origins
    loaded at run time that decides it cannot be reached.
    """
    app = current_state().app
    result = check_request(
        app, path, origin, method, headers,
        credentials=credentials, preflight=preflight, send=send,
    )
    check_loaded([source for exchange in result.exchanges if exchange.decided_by is not None
                  for source in exchange.decided_by.origin_sources()])
    for line in render_check(result):
        click.echo(line)
    raise SystemExit(status.OK if result.allowed else status.FOUND)
