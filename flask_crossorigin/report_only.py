"""Report-only policies at request time: try a stricter policy without enforcing it.

A policy compiled with ``report_only={...}`` carries its shadow in
:attr:`Policy.report_only <flask_crossorigin.Policy.report_only>`. After the
enforced policy has decided a request (and only then, so the response is
exactly what it would be without the shadow), :func:`compare` asks the shadow
the same question. When one grants and the other refuses, it sends
:data:`report_only_mismatch` and logs one ``INFO`` line (``WARNING`` in debug
mode) on the ``flask_crossorigin`` logger, at most once per (policy, origin,
reason) per ``report_only_interval`` seconds.

Keyword arguments of :data:`report_only_mismatch` (sender: the app):

``policy``
    The name of the enforced policy, which decided the response.
``report_only_policy``
    The name of the report-only policy (``"resources['/api/*'].report_only"``).
``mismatch``
    ``"would-refuse"``: the report-only policy would refuse what the enforced
    one grants (enforcing it would break this request); ``"would-grant"``: it
    would grant what the enforced one refuses.
``code``, ``reason``
    The refusal the two disagree about, a code of
    :data:`flask_crossorigin.reasons.REASONS` and its text: the report-only
    policy's for ``"would-refuse"``, the enforced policy's (the one it would
    lift) for ``"would-grant"``.
``origin``, ``path``, ``method``, ``preflight``
    As for :data:`~flask_crossorigin.signals.request_refused`: request data,
    to escape before writing it anywhere; ``method`` is
    ``Access-Control-Request-Method`` for a preflight.

The signal is sent for every mismatch (receivers can count); only the log line
is rate-limited, by a :class:`MismatchLog` per app, bounded in entries and in
bytes whatever the requests send.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, cast

from flask import Flask, request

from .policy import Decision, Policy, is_preflight
from .reasons import Refusal, escape, logger
from .signals import report_only_mismatch

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: The key of an app's :class:`MismatchLog` in ``app.extensions`` (created on first use).
MISMATCH_LOG_KEY = "crossorigin.report_only"
#: Characters of an ``Origin`` kept in a key: longer ones share the key of their prefix.
ORIGIN_KEY_LENGTH = 128
#: Bounds of an app's :class:`MismatchLog`: keys remembered, and their characters in all.
MAX_ENTRIES = 1024
MAX_KEY_CHARACTERS = 128 * 1024
#: At most this many report-only lines per window of this many seconds, per app; the
#: lines left out are counted, and the next line says how many.
MAX_LINES = 100
LINE_WINDOW = 60.0

_CREATE_LOCK = threading.Lock()

Key = tuple[str, str, str, str]


class MismatchLog:
    """Which report-only mismatches were logged recently, and how many were held back.

    Thread-safe. Remembers at most ``max_entries`` keys of at most
    ``max_characters`` characters in all (the oldest go first), so a flood of
    distinct origins costs a bounded amount of memory; the ``Origin`` part of a
    key is cut to :data:`ORIGIN_KEY_LENGTH` characters by the caller. Beyond the
    per-key interval, at most ``max_lines`` lines are admitted per ``window``
    seconds. ``clock`` returns seconds (``time.monotonic``; tests pass their own).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_entries: int = MAX_ENTRIES,
        max_characters: int = MAX_KEY_CHARACTERS,
        max_lines: int = MAX_LINES,
        window: float = LINE_WINDOW,
    ) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self.max_characters = max_characters
        self.max_lines = max_lines
        self.window = window
        #: key -> [time until which it is not logged again, mismatches held back since].
        self._entries: OrderedDict[Key, list[float]] = OrderedDict()
        self._characters = 0
        self._window_start: float | None = None
        self._lines = 0
        self._held_back = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def characters(self) -> int:
        """The characters of every remembered key, in all (bounded by ``max_characters``)."""
        return self._characters

    def admit(self, key: Key, interval: float) -> tuple[int, int] | None:
        """Whether to log the mismatch ``key`` now: ``None`` when not, else
        ``(repeats, held_back)``: how many times it occurred unlogged since its
        last line, and how many lines the per-window limit held back before this
        one (to say so first)."""
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now < entry[0]:
                entry[1] += 1
                return None
            held_back = 0
            if self._window_start is None or now >= self._window_start + self.window:
                self._window_start, self._lines = now, 0
                held_back, self._held_back = self._held_back, 0
            if self._lines >= self.max_lines:
                self._held_back += 1
                return None
            self._lines += 1
            repeats = 0
            if entry is not None:
                repeats = int(entry[1])
                del self._entries[key]
                self._characters -= _size(key)
            self._entries[key] = [now + interval, 0]
            self._characters += _size(key)
            while self._entries and (len(self._entries) > self.max_entries
                                     or self._characters > self.max_characters):
                oldest, _ = self._entries.popitem(last=False)
                self._characters -= _size(oldest)
            return repeats, held_back


def _size(key: Key) -> int:
    return sum(map(len, key))


def mismatch_log(app: Flask) -> MismatchLog:
    """The app's :class:`MismatchLog`, created on first use."""
    found = app.extensions.get(MISMATCH_LOG_KEY)
    if found is None:
        with _CREATE_LOCK:
            found = app.extensions.setdefault(MISMATCH_LOG_KEY, MismatchLog())
    return cast(MismatchLog, found)


def compare(app: Flask, policy: Policy, decision: Decision, environ: WSGIEnvironment) -> None:
    """Try ``policy.report_only`` on the request ``policy`` decided as ``decision``.

    Called after the enforced decision is applied; it reads the request and
    changes nothing in the response. Whatever fails in here (a signal receiver
    that raises, say) is logged at ERROR and leaves the response as it is.
    """
    trial = policy.report_only
    if trial is None:
        return
    try:
        _compare(app, policy, trial, decision, environ)
    except Exception:
        logger.exception("report-only: trying %s failed; the response is the enforced "
                         "policy's, unchanged", trial.name)


def _compare(
    app: Flask, policy: Policy, trial: Policy, decision: Decision, environ: WSGIEnvironment
) -> None:
    preflight = is_preflight(environ)
    if preflight:
        if decision.refusal is None and not decision.headers:
            return  # an answer the app gave with a status that is not ok: no grant either way
        tried = trial.preflight_for(environ)
    else:
        tried = trial.actual(environ.get("HTTP_ORIGIN"))
    if (decision.refusal is None) == (tried.refusal is None):
        return
    if tried.refusal is not None:
        _report(app, policy, trial.name, "would-refuse", tried.refusal, environ, preflight)
    else:
        assert decision.refusal is not None
        _report(app, policy, trial.name, "would-grant", decision.refusal, environ, preflight)


def report_write(app: Flask, policy: Policy, refusal: Refusal, environ: WSGIEnvironment) -> None:
    """Report a write that ``csrf_protection='report-only'`` would refuse: the
    ``report_only_mismatch`` signal (``mismatch="would-refuse"``,
    ``report_only_policy`` the policy's name followed by ``.csrf_protection``) and
    the deduplicated INFO line. A failure in here is logged at ERROR, and the request
    goes on."""
    try:
        _report(app, policy, f"{policy.name}.csrf_protection", "would-refuse", refusal,
                environ, False, write=True)
    except Exception:
        logger.exception("report-only: reporting a cross-origin write under %s failed; "
                         "the request goes on", policy.name)


def _report(
    app: Flask,
    policy: Policy,
    trial: str,
    mismatch: str,
    refusal: Refusal,
    environ: WSGIEnvironment,
    preflight: bool,
    *,
    write: bool = False,
) -> None:
    origin: str = environ.get("HTTP_ORIGIN") or ""
    metrics = policy.metrics  # the enforced policy's counters (metrics on)
    if metrics is not None:
        metrics.mismatch("preflight" if preflight else "write" if write else "actual",
                         refusal.code)
    if report_only_mismatch.receivers and report_only_mismatch.has_receivers_for(app):
        method_key = "HTTP_ACCESS_CONTROL_REQUEST_METHOD" if preflight else "REQUEST_METHOD"
        report_only_mismatch.send(app, **_details(
            policy, trial, mismatch, refusal, origin, environ.get(method_key, ""), preflight))
    # In debug mode at WARNING, as refusals are: Python's default handler shows it under
    # 'flask run --debug' without any logging configuration.
    level = logging.WARNING if app.debug else logging.INFO
    if not logger.isEnabledFor(level):
        return
    key = (trial, mismatch, origin[:ORIGIN_KEY_LENGTH], refusal.code)
    log = mismatch_log(app)
    admitted = log.admit(key, policy.report_only_interval)
    if admitted is None:
        return
    repeats, held_back = admitted
    if held_back:
        logger.log(
            level,
            "report-only: %d more mismatch lines were not logged (at most %d every %g "
            "seconds); the report_only_mismatch signal is sent for every mismatch",
            held_back, log.max_lines, log.window,
        )
    would_refuse = mismatch == "would-refuse"
    logger.log(
        level,
        "report-only: %s would %s %s %s %s from '%s', which %s %s: %s%s",
        trial,
        "refuse" if would_refuse else "grant",
        "preflight" if preflight else "write" if write else "request",
        escape(environ.get("REQUEST_METHOD", "")),
        escape(request.path),
        escape(origin),
        policy.name,
        "lets through" if write else "grants" if would_refuse else "refuses",
        refusal.message,
        f" ({repeats} more since last logged)" if repeats else "",
    )


def _details(
    policy: Policy,
    trial: str,
    mismatch: str,
    refusal: Refusal,
    origin: str,
    method: str,
    preflight: bool,
) -> dict[str, Any]:
    return {
        "policy": policy.name,
        "report_only_policy": trial,
        "mismatch": mismatch,
        "code": refusal.code,
        "reason": refusal.message,
        "origin": origin,
        "path": request.path,
        "method": method,
        "preflight": preflight,
    }


__all__ = ["MismatchLog", "compare", "mismatch_log", "report_only_mismatch", "report_write"]
