"""Writing decisions onto responses: the one place every path's CORS headers go through.

The extension's preflight answer (once the app's ``after_request`` hooks ran on
it), actual responses, error responses and redirects, with the hooks or with
``@cross_origin`` alone, all end here, so that whatever the app's own code set:

* **each CORS header appears once.** A CORS header the app set itself (in a
  view, a hook, ``make_response``) keeps the app's value (its last one when it
  set the header twice); the extension adds the others. When the app set
  ``Access-Control-Allow-Origin`` on an actual response, the extension adds
  nothing (as flask-cors). ``Vary`` names are merged into one line;
* **credentials never reach an origin the policy does not list.** When the
  response would carry ``Access-Control-Allow-Credentials: true`` beside an
  ``Access-Control-Allow-Origin`` naming an origin that the policy does not
  allow explicitly (only through ``"*"``, or not at all), the origin becomes
  ``*`` under an any-origin policy (browsers refuse ``*`` with credentials, and
  still serve requests without them) and is removed otherwise: no grant. The
  case is logged with the fix;
* **any mapping the app left in ``response.headers`` is accepted** (a plain
  ``dict``): it is turned back into Werkzeug ``Headers``, as Werkzeug itself
  does when it serves the response.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import Headers

from .headers import merged_vary
from .policy import ACAO, Decision, Header, Policy
from .reasons import escape, logger

if TYPE_CHECKING:
    from flask import Flask
    from flask.wrappers import Response as FlaskResponse
    from werkzeug.wrappers import Response

_ACAO = "access-control-allow-origin"
_ACAC = "access-control-allow-credentials"
#: Set in the WSGI environ, to the explanation, when credentials were withheld.
WITHHELD_KEY = "flask_crossorigin.withheld"
# Policies whose withheld credentials were logged at WARNING (later ones: DEBUG).
_warned: set[str] = set()

#: Decides for a response once the app's own headers are known: the policy, the
#: response (a preflight's decision depends on its status), the request's WSGI environ.
Decide = Callable[[Policy, "Response", Any], Decision]


def response_headers(response: Response) -> Headers:
    """The response's ``Headers``; a mapping the app put in their place is converted."""
    headers = response.headers
    if not isinstance(headers, Headers):
        headers = Headers(headers)  # Werkzeug does the same when it serves the response
        response.headers = headers
    return headers


def write(
    app: Flask, response: Response, policy: Policy, environ: Any, decide: Decide
) -> Decision | None:
    """Add ``policy``'s headers to an actual response (or an answer the app gave to a
    preflight); ``None`` when the app's own ``Access-Control-Allow-Origin`` stands."""
    lines = getattr(response.headers, "_list", None)
    if type(lines) is list:
        for name, _ in lines:
            if name[:1] in "AaVv":
                break  # perhaps a CORS header or a Vary of the app's own: read them all
        else:
            # The common case: the app set neither. The policy's lines (validated when
            # it compiled) go straight onto Werkzeug's list, in one step.
            plain = decide(policy, response, environ)
            lines.extend(plain.lines)
            return plain
    return _write_beside(app, response, policy, environ, decide)


def _write_beside(
    app: Flask, response: Response, policy: Policy, environ: Any, decide: Decide
) -> Decision | None:
    """:func:`write` for a response that may carry CORS headers or ``Vary`` of its own,
    or whose headers are not Werkzeug's list."""
    headers = response_headers(response)
    lines = _lines(headers)
    cors, vary_at = _scan(lines)
    if cors is None and vary_at is None:
        plain = decide(policy, response, environ)
        lines.extend(plain.lines)  # validated when the policy compiled
        _store(headers, lines)
        return plain
    decision: Decision | None = None
    if cors is None or _ACAO not in cors:
        decision = decide(policy, response, environ)
        add = decision.headers
        if cors is None:
            lines.extend(add)  # names and values were validated when the policy compiled
        else:
            for header in add:
                name = header[0].lower()
                if name not in cors:
                    cors[name] = [len(lines)]
                    lines.append(header)
    ours = decision.headers if decision is not None else ()
    vary = decision.vary if decision is not None else ()
    _finish(app, lines, cors, vary_at, vary, policy, ours, environ)
    _store(headers, lines)
    return decision


def own_answer(app: Flask, status: int) -> FlaskResponse:
    """A fresh response of the app's ``response_class`` for one of the extension's own
    answers (a preflight's 204 or 403, a fail-closed 403).

    A CORS header the class adds by default is removed: on the extension's own
    answer, only the policy's decision grants (a class that defaults to
    ``Access-Control-Allow-Credentials: true`` would otherwise ride every
    preflight answer, beside whatever origin the policy echoes).
    """
    response = app.response_class(status=status)
    headers = response_headers(response)
    lines = _lines(headers)
    cors, _ = _scan(lines)
    if cors is not None:
        _drop_cors(lines, cors)
        _store(headers, lines)
    return response


def write_answer(response: Response, decision: Decision) -> tuple[Header, ...]:
    """Write a decision onto the extension's own (fresh, see :func:`own_answer`)
    preflight answer; returns its header lines as written, for :func:`finish_answer`."""
    headers = response_headers(response)
    lines = _lines(headers)
    cors, vary_at = _scan(lines)
    if cors is not None:  # not made by own_answer: still, only the decision grants
        _drop_cors(lines, cors)
        _, vary_at = _scan(lines)
    lines.extend(decision.headers)
    if vary_at is None:
        if decision.vary:
            lines.append(("Vary", decision.vary_value))
    elif decision.vary:  # the class's default Vary: one line naming both
        merged = merged_vary([lines[index][1] for index in vary_at], decision.vary)
        if merged is not None:
            lines[vary_at[0]] = ("Vary", merged)
            drop = set(vary_at[1:])
            lines[:] = [line for index, line in enumerate(lines) if index not in drop]
    _store(headers, lines)
    return tuple(lines)


def finish_answer(
    app: Flask,
    response: Response,
    policy: Policy,
    decision: Decision,
    written: tuple[Header, ...],
    environ: Any,
) -> None:
    """The extension's own preflight answer, after the app's ``after_request`` hooks:
    whatever CORS headers they added, each appears once, and never a leak."""
    headers = response_headers(response)
    lines = _lines(headers)
    if len(lines) == len(written) and tuple(lines) == written:
        return  # untouched by the hooks (the common case): nothing to read again
    cors, vary_at = _scan(lines)
    ours = decision.headers
    vary_as_written = (not decision.vary) if vary_at is None else (
        len(vary_at) == 1 and lines[vary_at[0]][1] == decision.vary_value)
    if vary_as_written and (cors is None or all(
            len(at) == 1 and lines[at[0]] in ours for at in cors.values())):
        return  # as the extension wrote it (or the hooks replaced the answer: no grant)
    _finish(app, lines, cors, vary_at, decision.vary, policy, decision.headers, environ)
    _store(headers, lines)


def withhold_grants(response: Response) -> None:
    """Remove every ``Access-Control-Allow-Origin`` and ``-Credentials`` line: no grant.

    Any other CORS header keeps one line, its last (a response class may add one by
    default and a hook again): each CORS header appears once, here too.
    """
    headers = response_headers(response)
    lines = _lines(headers)
    cors, _ = _scan(lines)
    if cors is None:
        return
    drop = {index for name, at in cors.items()
            for index in (at if name in (_ACAO, _ACAC) else at[:-1])}
    if drop:
        lines[:] = [line for index, line in enumerate(lines) if index not in drop]
        _store(headers, lines)


def _lines(headers: Headers) -> list[Header]:
    """The list behind Werkzeug's ``Headers``, to append precomputed lines to without
    validating them again; a copy for a Werkzeug that stores them otherwise (then
    :func:`_store` writes it back through the public API)."""
    lines = getattr(headers, "_list", None)
    return lines if type(lines) is list else list(headers.items())


def _drop_cors(lines: list[Header], cors: dict[str, list[int]]) -> None:
    """Remove the CORS header lines that :func:`_scan` found."""
    at = {index for found in cors.values() for index in found}
    lines[:] = [line for index, line in enumerate(lines) if index not in at]


def _store(headers: Headers, lines: list[Header]) -> None:
    if getattr(headers, "_list", None) is not lines:
        headers.clear()
        headers.extend(lines)


def _scan(lines: list[Header]) -> tuple[dict[str, list[int]] | None, list[int] | None]:
    """Where the CORS header lines are, by lower-case name, and the ``Vary`` lines."""
    cors: dict[str, list[int]] | None = None
    vary_at: list[int] | None = None
    for index, (name, _) in enumerate(lines):
        if name and name[0] in "AaVv":  # only these can matter: skip lower() for the others
            lowered = name.lower()
            if lowered.startswith("access-control-"):
                if cors is None:
                    cors = {}
                cors.setdefault(lowered, []).append(index)
            elif lowered == "vary":
                if vary_at is None:
                    vary_at = []
                vary_at.append(index)
    return cors, vary_at


def _finish(
    app: Flask,
    lines: list[Header],
    cors: dict[str, list[int]] | None,
    vary_at: list[int] | None,
    vary: tuple[str, ...],
    policy: Policy,
    ours: tuple[Header, ...],
    environ: Any,
) -> None:
    drop: set[int] = set()
    if cors is not None:
        for at in cors.values():
            if len(at) > 1:
                # The app's value wins over ours, and its last line over its earlier ones.
                theirs = [index for index in at if lines[index] not in ours]
                keep = theirs[-1] if theirs else at[0]
                drop.update(index for index in at if index != keep)
                at[:] = [keep]
        _guard_credentials(app, lines, cors, drop, policy, ours, environ)
    if vary_at is None:
        if vary:
            lines.append(("Vary", ", ".join(vary)))
    elif vary:
        merged = merged_vary([lines[index][1] for index in vary_at], vary)
        if merged is not None:
            lines[vary_at[0]] = ("Vary", merged)
            drop.update(vary_at[1:])
    if drop:
        lines[:] = [line for index, line in enumerate(lines) if index not in drop]


def _guard_credentials(
    app: Flask,
    lines: list[Header],
    cors: dict[str, list[int]],
    drop: set[int],
    policy: Policy,
    ours: tuple[Header, ...],
    environ: Any,
) -> None:
    """Never ``Access-Control-Allow-Credentials: true`` beside an origin the policy
    does not list explicitly, whoever set either header."""
    credentials = cors.get(_ACAC)
    origin_at = cors.get(_ACAO)
    if not credentials or not origin_at:
        return
    if lines[credentials[0]][1].strip().lower() != "true":
        return
    at = origin_at[0]
    value = lines[at][1].strip()
    if value == "*":
        return  # browsers refuse '*' with credentials
    if policy.credentials and lines[at] in ours:
        return  # the policy's own grant, to an origin it lists
    if policy.names_origin(value):
        return
    if policy.origins.any_origin:
        lines[at] = (ACAO, "*")
        outcome = "answered 'Access-Control-Allow-Origin: *' instead"
    else:
        drop.add(at)
        outcome = "removed Access-Control-Allow-Origin (no grant)"
    _log_withheld(app, policy, value, outcome, environ)


def _log_withheld(app: Flask, policy: Policy, value: str, outcome: str, environ: Any) -> None:
    text = (
        f"withheld credentials on the response to {escape(environ.get('REQUEST_METHOD', ''))} "
        f"{escape(environ.get('PATH_INFO', ''))}: it carries Access-Control-Allow-Credentials: "
        f"true with Access-Control-Allow-Origin '{escape(value)}', an origin that "
        f"{policy.name} does not list ("
        + ("it allows every origin, never with credentials" if policy.origins.any_origin
           else "it grants no credentials to unlisted origins")
        + f"); {outcome}. The app set one of these headers itself: to let that origin "
        "send credentials, list it in origins and set supports_credentials=True, and "
        "remove the app's own CORS headers"
    )
    environ[WITHHELD_KEY] = text  # for flask cors check
    first = policy.name not in _warned
    if first:
        _warned.add(policy.name)
    logger.log(logging.WARNING if app.debug or first else logging.DEBUG, "%s", text)
