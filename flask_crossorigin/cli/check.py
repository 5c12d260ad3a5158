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
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext
from werkzeug.datastructures import Headers

from ..policy import ACAC, ACAH, ACAM, ACAO, Policy
from ..reasons import Verdict
from ..signals import report_only_mismatch, request_refused
from .context import current_flask_app, state_of
from .origins import describe_origins

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
    #: The report-only policy's mismatch on this exchange (the ``report_only_mismatch``
    #: signal's arguments), ``None`` when it decided alike or there is none.
    report_only: dict[str, Any] | None = None


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
    #: Where the deciding policy's origins come from when they are loaded at run time
    #: (``CachedOrigins``): the source, its last load, fresh, stale or closed.
    origins: str | None = None


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
    method = normalize_method(method)
    parsed = [parse_header(spec) for spec in headers]
    unsafe = sorted(
        {name.lower() for name, value in parsed if not is_safelisted_header(name, value)}
    )
    needs_preflight = method not in SAFELISTED_METHODS or bool(unsafe)
    policy, request_path = _explain_path(app, path, method)
    # A preflight is an OPTIONS request, routed as one: '--method patch' on a view
    # without 'patch' still reaches that view's @cross_origin policy for it.
    preflight_policy, _ = _explain_path(app, path, "OPTIONS")
    notes: list[str] = []
    if preflight and not needs_preflight:
        notes.append("a browser sends no preflight for this request; --preflight sent one anyway")
    exchanges: list[Exchange] = []
    refusals: list[str] = []
    refused_by: list[str] = []

    mismatches: list[dict[str, Any]] = []

    def on_refused(sender: Flask, **details: Any) -> None:
        refusals.append(details["reason"])
        refused_by.append(details["policy"])

    def on_mismatch(sender: Flask, **details: Any) -> None:
        mismatches.append(details)

    with request_refused.connected_to(on_refused, sender=app), \
            report_only_mismatch.connected_to(on_mismatch, sender=app):
        if preflight or needs_preflight:
            exchange = _send_preflight(app, path, origin, method, unsafe)
            exchange.policy = _policy_name(refused_by, preflight_policy)
            exchange.blocked = _take(refusals) or _judge_preflight(
                exchange, origin, method, unsafe, credentials, preflight_policy, request_path
            )
            exchange.report_only = mismatches.pop() if mismatches else None
            exchanges.append(exchange)
        if not preflight and not (exchanges and exchanges[0].blocked):
            values = [(name, value if value is not None else _placeholder(name))
                      for name, value in parsed]
            exchange = _send_actual(app, path, origin, method, values, send)
            exchange.policy = _policy_name(refused_by, policy)
            exchange.blocked = _take(refusals) or _judge_actual(
                exchange, origin, credentials, policy, request_path
            )
            exchange.report_only = mismatches.pop() if mismatches else None
            mismatches.clear()
            exchanges.append(exchange)
    if exchanges[0].kind == "preflight" and exchanges[0].blocked and not preflight:
        notes.append("a browser sends a preflight first for this request, and stops there")
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
            final, policy if final.kind == "request" else preflight_policy,
            origin, method, unsafe, credentials, len(exchanges) > 1,
        )
    result = CheckResult(
        allowed=blocked is None,
        reason=reason,
        policy=deciding.policy,
        exchanges=exchanges,
        notes=notes,
    )
    _report_only_verdict(result, preflight_policy, policy)
    deciding_policy = next((p for p in (preflight_policy, policy)
                            if p is not None and p.name == result.policy), None)
    result.origins = describe_origins(deciding_policy)
    return result


def _report_only_verdict(
    result: CheckResult, preflight_policy: Policy | None, policy: Policy | None
) -> None:
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
        enforced = preflight_policy if exchange.kind == "preflight" else policy
        trial = enforced.report_only if enforced is not None else None
        if enforced is not None and trial is not None:
            result.report_only_policy = trial.name
            result.report_only = "allowed" if result.allowed else "blocked"
            result.report_only_reason = (
                f"the same verdict: {trial.name} decides this as {enforced.name} does")
            return


def _policy_name(refused_by: list[str], policy: Policy | None) -> str | None:
    """The policy the extension named in its refusal, else the one it looks up."""
    if refused_by:
        name = refused_by[-1]
        refused_by.clear()
        return name
    return policy.name if policy is not None else None


def _take(refusals: list[str]) -> str | None:
    reason = refusals[-1] if refusals else None
    refusals.clear()
    return reason


def _placeholder(name: str) -> str:
    return "application/json" if name.lower() == "content-type" else "x"


def _explain_path(app: Flask, path: str, method: str) -> tuple[Policy | None, str]:
    """The policy the extension looks up for ``path``, routed by Flask as for a request."""
    with app.test_request_context(path, method=method) as ctx:
        rule = ctx.request.url_rule
        endpoint = rule.endpoint if rule is not None else None
        blueprints = ctx.request.blueprints if rule is not None else []
        request_path = ctx.request.path
    policy = state_of(app).policy_for(
        request_path, endpoint, blueprints
    )
    return policy, request_path


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
    if send or method.upper() in _SAFE_METHODS:
        _send(app, exchange)
        return exchange
    # Add the extension's headers to an empty response, with the request routed as usual.
    exchange.view_run = False
    with app.test_request_context(path, method=method, headers=exchange.request_headers):
        response = app.response_class()
        del response.headers["Content-Type"]  # no body: only what the extension adds
        state_of(app).add_response_headers(response)
    exchange.status = response.status
    exchange.response_headers = list(response.headers.items())
    return exchange


def _send(app: Flask, exchange: Exchange) -> None:
    # Answer errors with the app's error pages, as in production, even under --debug.
    propagate = app.config.get("PROPAGATE_EXCEPTIONS")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = app.test_client().open(
            exchange.path, method=exchange.method, headers=exchange.request_headers
        )
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = propagate
    exchange.status = response.status
    exchange.response_headers = list(response.headers.items())
    response.close()


def _judge_actual(
    exchange: Exchange,
    origin: str,
    credentials: bool,
    policy: Policy | None,
    path: str,
) -> str | None:
    """The Fetch standard's CORS check; ``None`` when it passes."""
    headers = Headers(exchange.response_headers)
    values = headers.getlist(ACAO)
    if not values:
        if policy is None:
            return Verdict("no-policy", path=path).message
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
    policy: Policy | None,
    path: str,
) -> str | None:
    """The Fetch standard's CORS-preflight fetch checks; ``None`` when they pass."""
    # A status that is not ok fails whatever the headers say (and gets no grant).
    if not 200 <= int(exchange.status.split(" ", 1)[0]) <= 299:
        return Verdict("preflight-status", status=exchange.status).message
    failed = _judge_actual(exchange, origin, credentials, policy, path)
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
    policy: Policy | None,
    origin: str,
    method: str,
    unsafe: list[str],
    credentials: bool,
    preflighted: bool,
) -> str:
    name = policy.name if policy is not None else "the view's own headers"
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
    it would block it.
    """
    result = check_request(
        current_flask_app(), path, origin, method, headers,
        credentials=credentials, preflight=preflight, send=send,
    )
    for line in render_check(result):
        click.echo(line)
    raise SystemExit(0 if result.allowed else 1)
