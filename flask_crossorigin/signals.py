"""Signals: refusals, preflight answers and report-only mismatches, for metrics and logs.

All three are sent with the Flask app as sender, like Flask's own signals, and
only cost anything when a receiver is connected::

    from flask_crossorigin.signals import request_refused

    @request_refused.connect_via(app)
    def count(app, *, code, policy, **details):
        metrics.increment("cors.refused", tags={"code": code, "policy": policy})

Keyword arguments, for both (``report_only_mismatch`` has its own, see
:mod:`flask_crossorigin.report_only`):

``origin``
    The request's ``Origin`` header as sent (``None`` when absent). Request
    data: escape it before writing it anywhere.
``path``
    ``request.path``, as routed. Request data too.
``method``
    The method of the request the browser wants to make: the request's own
    method, or ``Access-Control-Request-Method`` for a preflight.
``preflight``
    ``True`` for a preflight.
``policy``
    The name of the policy that decided (``"resources['/api/*']"``).
``code``
    The refusal's stable key in :data:`flask_crossorigin.reasons.REASONS`
    (``"origin-not-allowed"``), ``None`` when granted.
``reason``
    The refusal's text, the same one the log, ``flask cors check`` and the
    debug body show; ``None`` when granted.
"""

from __future__ import annotations

from typing import Any

from blinker import NamedSignal, Namespace
from flask import Flask, request

from .failures import log_failure
from .policy import Decision, Policy
from .reasons import Refusal

_signals = Namespace()

#: Sent when the extension refuses a request or a preflight (any kind of refusal).
request_refused = _signals.signal(
    "request-refused",
    doc="A CORS request or preflight was refused. Sender: the app.",
)

#: Sent when the extension answers a preflight itself, granted or refused
#: (``automatic_options=True``, the default). Extra keyword: ``granted`` (bool).
preflight_answered = _signals.signal(
    "preflight-answered",
    doc="The extension answered a CORS preflight. Sender: the app.",
)


#: Sent when a report-only policy decides a request differently from the enforced
#: policy (see :mod:`flask_crossorigin.report_only` for its keyword arguments).
report_only_mismatch = _signals.signal(
    "report-only-mismatch",
    doc="A report-only policy would refuse what is granted, or grant what is refused. "
    "Sender: the app.",
)


def listens(signal: NamedSignal, app: Flask) -> bool:
    """Whether a connected receiver of ``signal`` would hear ``app``: cheap while no
    receiver is connected at all. (blinker's ``has_receivers_for`` also answers yes for
    an app whose receivers were all disconnected, and a refusal would then format its
    reason for nobody.)"""
    return bool(signal.receivers) and next(signal.receivers_for(app), None) is not None


def send_refused(
    app: Flask, policy: Policy, refusal: Refusal, environ: dict[str, Any], preflight: bool
) -> None:
    """Send :data:`request_refused`; callers check ``request_refused.receivers`` first."""
    if request_refused.has_receivers_for(app):  # not only another app's receivers
        send_isolated(request_refused, app, _details(policy, refusal, environ, preflight))


def send_preflight_answered(
    app: Flask, policy: Policy, decision: Decision, environ: dict[str, Any]
) -> None:
    """Send :data:`preflight_answered`; callers check ``preflight_answered.receivers`` first."""
    if not preflight_answered.has_receivers_for(app):
        return
    send_isolated(preflight_answered, app, {
        "granted": decision.refusal is None,
        **_details(policy, decision.refusal, environ, True),
    })


def send_isolated(signal: NamedSignal, app: Flask, details: dict[str, Any]) -> None:
    """Send ``signal`` to each receiver in turn: one that raises is logged at ERROR
    (once per cause, with the traceback) and the others still hear it. A receiver
    never changes the response, nor turns it into a 500 (any client can make the
    extension refuse a request, by sending a foreign ``Origin``)."""
    if signal.is_muted:
        return
    for receiver in signal.receivers_for(app):
        try:
            receiver(app, **details)
        except Exception as error:
            log_failure(
                f"the {signal.name} receiver {getattr(receiver, '__qualname__', receiver)!r}",
                error, "the response is unchanged",
            )


def _details(
    policy: Policy, refusal: Refusal | None, environ: dict[str, Any], preflight: bool
) -> dict[str, Any]:
    if preflight:
        method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "")
    else:
        method = environ.get("REQUEST_METHOD", "")
    return {
        "origin": environ.get("HTTP_ORIGIN"),
        "path": request.path,
        "method": method,
        "preflight": preflight,
        "policy": policy.name,
        "code": refusal.code if refusal is not None else None,
        "reason": refusal.message if refusal is not None else None,
    }


__all__ = ["preflight_answered", "report_only_mismatch", "request_refused"]
