"""Origins loaded at run time: :class:`CachedOrigins`, cached, reloaded off the request path.

A request never loads anything: it reads the compiled matcher of the last good
load (see :class:`~flask_crossorigin.origins.LiveOriginMatcher`). One thread per
process and per :class:`CachedOrigins` reloads it every ``ttl`` seconds, when
:meth:`CachedOrigins.refresh` or :meth:`~CachedOrigins.invalidate` asks, or when
another process published an invalidation (``invalidate_via``, see
``redis_origins.py``). Every load goes through the compiler of static origins;
an entry that start-up would refuse, or warn about, is skipped and logged once.

When loads fail, the last good set keeps serving for ``max_stale`` seconds from
its load; then the policy refuses every cross-origin request (fails closed)
until a load succeeds. A load that hangs is abandoned after ``load_timeout``
seconds, and counted as a failure.

Threads are per process: after ``fork`` the child starts its own, and never uses
the parent's Redis connections. Python's fork hook does it where it runs
(gunicorn); where a server forks without it (uWSGI's prefork), the first request
in the child notices that its process is not the one that started the threads
(:meth:`~flask_crossorigin.origins.LiveOriginMatcher.ensure`: a clock read, and a
``getpid`` every 0.1 s), and starts them; uWSGI's master starts none (a worker
forked while one of them held the GIL would hang). ``max_stale`` is enforced there
too, on the request path, so it holds in a process where no thread runs at all.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

from .errors import ConfigurationError, Problem, collected_warnings
from .origin_lookups import LookupOriginMatcher, OriginLookups
from .origins import (
    ANY_ORIGIN,
    IGNORED_ENTRY,
    NULL_ORIGIN,
    PROCESS_CHECK_INTERVAL,
    ClosedOriginMatcher,
    LiveOriginMatcher,
    OriginMatcher,
    OriginSource,
    compile_origins,
)
from .reasons import logger

if TYPE_CHECKING:
    from flask import Flask

#: The Redis channel invalidations are published on, unless told otherwise.
DEFAULT_CHANNEL = "flask-crossorigin:invalidate"
#: The first retry after a failed load, in seconds; doubled up to ``ttl`` (at most 30 s).
FIRST_RETRY = 0.5

Loader = Callable[[], Iterable[Any]]


#: What an invalidation says: one origin and its new answer (``None``: unknown), or
#: ``None`` for everything.
Change = Optional[tuple[str, Optional[bool]]]


class InvalidationChannel(Protocol):
    """How processes tell each other to reload (``redis_origins.RedisChannel``)."""

    def publish(self, change: Change = None) -> None: ...

    def start(self, notify: Callable[[str, Change], None]) -> None:
        """Listen in a thread of this process; call ``notify(why, change)`` on every
        message (``change``: ``None`` when it is not one origin's, or cannot be read)
        and ``notify(why, None)`` on every (re)connection."""

    def after_fork(self) -> None:
        """Forget the parent's connections and threads (in the child, after fork)."""

    def describe(self) -> str: ...

    def close(self) -> None: ...


class CachedOrigins(OriginSource):
    """Allowed origins returned by ``load()``, cached and reloaded off the request path.

    Pass it as ``origins=`` anywhere origins are accepted (``CORS()``, ``init_app``,
    a ``resources`` entry, ``@cross_origin``, ``report_only``)::

        tenants = CachedOrigins(lambda: [t.origin for t in Tenant.query])
        CORS(app, origins=tenants, supports_credentials=True)

    ``load()`` returns the complete list, in the syntax of a static ``origins`` list
    (exact origins, ``https://*.`` wildcards, regexes). It runs in the app's context
    (the first app the extension was initialised on), in a thread of its own.

    :param ttl: seconds after a load before the next one (off the request path).
    :param max_stale: seconds the last good set keeps serving, from its load, while
        loads fail; after that, every cross-origin request is refused until a load
        succeeds.
    :param invalidate_via: a Redis URL or ``redis.Redis`` client: :meth:`invalidate`
        then makes every process listening on ``channel`` reload within a second.
        Needs ``pip install 'flask-crossorigin[redis]'``.
    :param channel: the Redis channel of ``invalidate_via``.
    :param load_timeout: seconds a load may take before it counts as failed.

    **Per-origin mode**, for large sets (thousands of tenant domains and more):
    pass ``lookup``, a callable ``(origin) -> bool`` that asks the store about one
    exact origin (one indexed query). Exact origins are then never loaded: each is
    looked up on its first request and its answer cached in this process, granted
    and refused apart (see ``origin_lookups.py``); ``load``, if given, returns only
    the few wildcards and regexes. ``lookup`` runs on the request path, in the app
    context: give it a short timeout of its own (a failing store opens a one-second
    circuit breaker, but cannot interrupt a lookup that hangs).

    :param lookup: ``(origin) -> bool`` for exact origins (per-origin mode).
    :param cache_size: granted origins cached per process (per-origin mode).
    :param negative_cache_size: refused origins cached per process, apart, so that
        a flood of unknown origins never evicts the granted ones.
    :param negative_ttl: seconds a refusal is cached (default: ``ttl``); a granted
        answer is cached ``ttl`` seconds. :meth:`invalidate` with an origin
        updates both at once, in every process with ``invalidate_via``.
    """

    def __init__(
        self,
        load: Loader | None = None,
        *,
        lookup: Callable[[str], Any] | None = None,
        ttl: float = 60.0,
        max_stale: float = 600.0,
        invalidate_via: Any = None,
        channel: str = DEFAULT_CHANNEL,
        load_timeout: float = 10.0,
        cache_size: int = 10_000,
        negative_cache_size: int = 10_000,
        negative_ttl: float | None = None,
    ) -> None:
        problems = []
        if load is None and lookup is None:
            problems.append(Problem("CachedOrigins()", "load", load,
                                    "must be a callable returning the list of origins (or "
                                    "pass lookup=, a callable origin -> bool)"))
        elif load is not None and not callable(load):
            problems.append(Problem("CachedOrigins()", "load", load,
                                    "must be a callable returning the list of origins"))
        if lookup is not None and not callable(lookup):
            problems.append(Problem("CachedOrigins()", "lookup", lookup,
                                    "must be a callable origin -> bool"))
        for name, size in (("cache_size", cache_size),
                           ("negative_cache_size", negative_cache_size)):
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                problems.append(Problem("CachedOrigins()", name, size,
                                        "must be a whole number of origins, at least 1"))
        if negative_ttl is None:
            negative_ttl = ttl
        for name, value, least in (("ttl", ttl, 0.0), ("max_stale", max_stale, 0.0),
                                   ("load_timeout", load_timeout, 0.0),
                                   ("negative_ttl", negative_ttl, 0.0)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value > least):
                problems.append(Problem("CachedOrigins()", name, value,
                                        "must be a finite number of seconds, more than 0"))
        if not problems and max_stale < ttl:
            problems.append(Problem(
                "CachedOrigins()", "max_stale", max_stale,
                f"is shorter than ttl ({ttl}): the set would close before its next reload; "
                "make max_stale at least ttl (ten times ttl is a good start)"))
        if problems:
            raise ConfigurationError(problems)
        self._load: Loader = load if load is not None else _no_patterns
        self._name = _name_of(load if load is not None else lookup)
        self.ttl = float(ttl)
        self.max_stale = float(max_stale)
        self.load_timeout = float(load_timeout)
        #: The per-origin answers (``None``: the whole-list mode).
        self.lookups: OriginLookups | None = None
        if lookup is not None:
            self.lookups = OriginLookups(
                self, lookup, size=cache_size, negative_size=negative_cache_size,
                ttl=self.ttl, negative_ttl=float(negative_ttl), max_stale=self.max_stale)
        self.live = LiveOriginMatcher(
            self, self._serving(ClosedOriginMatcher("they have not been loaded yet")))
        self._channel: InvalidationChannel | None = None
        if invalidate_via is not None:
            from .redis_origins import RedisChannel  # only when used: it imports redis

            self._channel = RedisChannel(invalidate_via, channel)
        self._app: Flask | None = None
        #: Wall-clock time of the last good load (``None``: never), for people.
        self.loaded_at: float | None = None
        #: How many origins the last good load compiled, and how many it skipped.
        self.loaded_count = 0
        self.skipped_count = 0
        #: Why the last load failed (``None`` after a success).
        self.last_error: str | None = None
        #: Loads that succeeded and failed in this process, for metrics.
        self.loads_ok = 0
        self.loads_failed = 0
        self._good_at: float | None = None  # time.monotonic() of the last good load
        self._closed = True
        self._failures = 0
        self._warned: set[tuple[str, str]] = set()
        self._reset_process_state()
        _instances.add(self)

    def _reset_process_state(self) -> None:
        # Everything that belongs to one process: made anew in a forked child (a lock
        # that another thread of the parent held at the fork would never be released).
        # Neither is ever taken by a request. One load at a time (it may take up to
        # load_timeout); the state (the set served, its age) changes under the other,
        # so max_stale is enforced while a slow load is under way.
        self._load_lock = threading.Lock()
        self._state_lock = threading.RLock()
        self._wake = threading.Event()
        self._reload_wanted = False
        self._thread: threading.Thread | None = None
        self._pending: threading.Thread | None = None  # a load that has not returned
        self._next_load = 0.0
        self._stopped = False
        self._start_wanted = False  # threads to start at this process's first request
        self._pid = os.getpid()
        self.live.pid = self._pid

    def __repr__(self) -> str:
        return f"<CachedOrigins {self._name} {self.state}>"

    # -- state, for people ---------------------------------------------------------------

    @property
    def state(self) -> str:
        """``"loading"`` (the first load has not finished), ``"fresh"`` (last load good,
        within ttl), ``"stale"`` (serving the last good set while loads fail or are late)
        or ``"closed"`` (refusing every cross-origin request)."""
        if self._good_at is None and self.last_error is None:
            return "loading"
        if self._closed or self._good_at is None:
            return "closed"
        if self.last_error is not None or time.monotonic() - self._good_at > 2 * self.ttl:
            return "stale"
        return "fresh"

    def describe(self) -> dict[str, Any]:
        lookups = self.lookups.describe() if self.lookups is not None else {}
        return {
            **lookups,
            "mode": "per-origin" if self.lookups is not None else "whole-list",
            "source": f"CachedOrigins({self._name})",
            "ttl": self.ttl,
            "max_stale": self.max_stale,
            "invalidate_via": self._channel.describe() if self._channel else None,
            "state": self.state,
            "loaded_at": self.loaded_at,
            "origins": self.loaded_count,
            "skipped": self.skipped_count,
            "error": self.last_error,
        }

    # -- public API ----------------------------------------------------------------------

    def refresh(self) -> bool:
        """Reload now, in this process, and wait for it. ``True`` when the new set is in
        place; ``False`` when the load failed (logged; the policy serves as before)."""
        return self._reload("refresh()")

    def invalidate(self, origin: str | None = None) -> bool:
        """Tell this process and, with ``invalidate_via``, every other one that what the
        store says has changed. Call it after the change is committed.

        Without ``origin``: reload now in this process (as :meth:`refresh`), drop every
        cached answer, and make every other process do the same. With ``origin`` (an
        exact origin, per-origin mode): forget the answer about that one origin only,
        here and in every process; its next request asks the store. (In the whole-list
        mode, an origin reloads the whole list.)"""
        if origin is not None and self.lookups is not None:
            return self._publish_change(_canonical_exact(origin), None)
        loaded = self._reload("invalidate()")
        if self.lookups is not None:
            self.lookups.clear()
        return self._publish(None) and loaded

    def _publish_change(self, origin: str, granted: bool | None) -> bool:
        """One origin changed: apply here, then tell the other processes."""
        if self.lookups is not None:
            self.lookups.apply(origin, granted)
        return self._publish((origin, granted))

    def _publish(self, change: Change) -> bool:
        if self._channel is None:
            return True
        try:
            self._channel.publish(change)
        except Exception as error:  # the others still learn within ttl
            logger.error("could not publish the invalidation of %r: %s", self, error)
            return False
        return True

    def attach(self, app: Flask) -> None:
        """Bind to an app (loads run in its context), load for the first time if never
        loaded, and start reloading in this process. Called by the extension."""
        if self._app is None:
            self._app = app
        if self.loaded_at is None and self.last_error is None:
            self._reload("start-up")
        self._start()

    def close(self) -> None:
        """Stop reloading (and listening) in this process. For tests and shutdown."""
        self._stopped = True
        self._wake.set()
        if self._channel is not None:
            self._channel.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # -- loading -------------------------------------------------------------------------

    def _start(self) -> None:
        if self._pid != os.getpid():
            self._after_fork()
        if self._thread is not None or self._stopped:
            return
        if _in_uwsgi_master():
            # uWSGI forks its workers in C: a worker forked while a thread of the master
            # holds the GIL never runs Python again. No thread here, then: the first
            # request of each process (a pid that is never a process's) starts its own.
            self._start_wanted = True
            self.live.pid = -1
            self.live.check_at = 0.0  # every process's first request checks
            return
        with self._state_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name=f"flask-crossorigin reload {_name_of(self._load)}",
                daemon=True)
            self._thread.start()
        if self._channel is not None:
            self._channel.start(self._notified)

    def _notified(self, why: str, change: Change) -> None:
        """A message on the channel (the listening thread): one origin, or everything.
        Per origin, that entry is updated or evicted; everything (a reconnection, a
        message that cannot be applied) drops the cache and reloads the patterns,
        never the exact origins."""
        if change is not None and self.lookups is not None:
            self.lookups.apply(*change)
            return
        if self.lookups is not None:
            self.lookups.clear()
        self.request_reload(why)

    def request_reload(self, why: str) -> None:
        """Ask this process's reloading thread to reload soon (never waits)."""
        self._reload_wanted = True
        self._wake.set()

    def _run(self) -> None:
        while not self._stopped:
            try:
                self._run_once()
            except Exception:  # never let the thread die: max_stale must still close
                logger.error("the reloading thread of %r failed; it goes on", self,
                             exc_info=True)
                time.sleep(min(self.ttl, 1.0))

    def _run_once(self) -> None:
        """Wait for the next load, an invalidation or the max_stale deadline; act."""
        now = time.monotonic()
        deadline = self._next_load
        if not self._closed and self._good_at is not None:
            deadline = min(deadline, self._good_at + self.max_stale)
        if deadline > now:
            self._wake.wait(deadline - now)
        self._wake.clear()
        if self._stopped:
            return
        wanted, self._reload_wanted = self._reload_wanted, False
        if wanted or time.monotonic() >= self._next_load:
            self._reload("invalidation" if wanted else "ttl")
        self._close_if_too_stale()

    def _reload(self, why: str) -> bool:
        with self._load_lock:
            logger.debug("loading the origins of %r (%s)", self, why)
            started = time.monotonic()
            try:
                entries = self._call_load()
            except Exception as error:
                self._failed(f"{type(error).__name__}: {error}" if str(error)
                             else type(error).__name__)
                return False
            try:
                matcher = self._compile(entries)
            except Exception as error:
                logger.error("the origins of %r could not be compiled", self, exc_info=True)
                self._failed(f"compiling failed: {type(error).__name__}: {error}")
                return False
            with self._state_lock:
                self.live.swap(self._serving(matcher))
                if self.last_error is not None:
                    logger.warning("the origins of %r load again (%d origins)",
                                   self, self.loaded_count)
                # max_stale counts from when the load began: its data is at least that new.
                self._good_at = started
                self.live.closes_at = started + self.max_stale
                self.live.check_at = min(self.live.check_at, self.live.closes_at)
                self.loaded_at = time.time() - (time.monotonic() - started)
                self.last_error = None
                self.loads_ok += 1
                self._closed = False
                self._failures = 0
                self._next_load = time.monotonic() + self.ttl
            return True

    def _call_load(self) -> list[Any]:
        """Run ``load`` in a thread of its own, waiting at most ``load_timeout``; while
        waiting, the last good set still closes on time (max_stale)."""
        pending = self._pending
        if pending is not None and pending.is_alive():
            raise TimeoutError(f"the previous load has not returned after "
                               f"{self.load_timeout:g} s")
        box: dict[str, Any] = {}

        give_up = time.monotonic() + self.load_timeout

        def run() -> None:
            try:
                with _fork_gate.loading(give_up):
                    if self._app is not None:
                        with self._app.app_context():
                            box["value"] = _entries_of(self._load())
                    else:
                        box["value"] = _entries_of(self._load())
            except BaseException as error:  # reported by the waiting thread
                box["error"] = error

        if _in_uwsgi_master():  # no thread in uWSGI's master (see _start): load inline
            run()
            if "error" in box:
                raise box["error"]
            return box["value"]  # type: ignore[no-any-return]
        thread = threading.Thread(target=run, name="flask-crossorigin load", daemon=True)
        thread.start()
        while thread.is_alive():
            now = time.monotonic()
            if now >= give_up:
                self._pending = thread  # abandoned: no other load starts until it returns
                raise TimeoutError(f"load() did not return within {self.load_timeout:g} s")
            wait = give_up - now
            good_at = self._good_at
            if not self._closed and good_at is not None:
                wait = min(wait, max(good_at + self.max_stale - now, 0.0) + 0.001)
            thread.join(wait)
            self._close_if_too_stale()
        if "error" in box:
            raise box["error"]
        return box["value"]  # type: ignore[no-any-return]

    def _failed(self, error: str) -> None:
        with self._state_lock:
            self.loads_failed += 1
            self._record_failure(error)
        self._close_if_too_stale()

    def _record_failure(self, error: str) -> None:
        first = self.last_error is None
        self.last_error = error
        self._failures += 1
        retry = min(FIRST_RETRY * 2 ** (self._failures - 1), self.ttl, 30.0)
        self._next_load = time.monotonic() + retry
        if first:  # once per outage
            if self._good_at is None:
                logger.error("the origins of %r could not be loaded (%s): every cross-origin "
                             "request is refused until a load succeeds", self, error)
            else:
                logger.error("the origins of %r could not be reloaded (%s): the last good set "
                             "serves for up to %g s from its load, then every cross-origin "
                             "request is refused", self, error, self.max_stale)

    def _close_if_too_stale(self) -> None:
        with self._state_lock:
            good_at = self._good_at
            if self._closed or good_at is None:
                return
            self._close(good_at)

    def _close(self, good_at: float) -> None:
        age = time.monotonic() - good_at
        if age < self.max_stale:
            return
        self._closed = True
        self.live.closes_at = math.inf
        reason = (f"no load succeeded for {age:.0f} s (max_stale={self.max_stale:g}); last "
                  f"error: {self.last_error}")
        self.live.swap(self._serving(ClosedOriginMatcher(reason)))
        logger.error("the origins of %r are closed: %s", self, reason)

    def _compile(self, entries: list[Any]) -> OriginMatcher:
        """Compile a loaded list like static origins, skipping (and logging) bad entries."""
        bad: dict[int, str] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, (str, re.Pattern)) or _never_loaded(entry):
                bad[index] = "; ".join(entry_problems(entry))
        good = [entry for index, entry in enumerate(entries) if index not in bad]
        with collected_warnings() as notes:
            matcher, problems = compile_origins(good)
        if problems or notes or (
                matcher is not None and (matcher.ineffective or matcher.open_regexes())):
            # Some entry is no good: find which, one by one (rare, so the cost is fine).
            for index, entry in enumerate(entries):
                if index not in bad:
                    messages = entry_problems(entry)
                    if messages:
                        bad[index] = "; ".join(messages)
            good = [entry for index, entry in enumerate(entries) if index not in bad]
            with collected_warnings():
                matcher, problems = compile_origins(good)
            if problems or matcher is None:
                raise ValueError("; ".join(message for _, message in problems))
        for index, message in bad.items():
            shown = _shown(entries[index])
            if (shown, message) not in self._warned:
                self._warned.add((shown, message))
                logger.warning("origins of %r: skipped the loaded entry %s: %s",
                               self, shown, message)
        assert isinstance(matcher, OriginMatcher)
        self.loaded_count = len(good)
        self.skipped_count = len(bad)
        return matcher

    def _serving(self, matcher: OriginMatcher) -> OriginMatcher:
        """What answers: the loaded matcher, or (per-origin mode) it and the lookups."""
        if self.lookups is None:
            return matcher
        return LookupOriginMatcher(matcher, self.lookups)

    # -- processes -----------------------------------------------------------------------

    def adopt_process(self) -> None:
        """From the request path (``LiveOriginMatcher.ensure``): start this process's own
        threads when it was forked without Python's fork hook, and close a set that is
        past ``max_stale`` when no thread did."""
        if self.live.pid != os.getpid():
            with _adopting:
                if self.live.pid != os.getpid():
                    stopped = self._stopped
                    running = (self._thread is not None or self._start_wanted) and not stopped
                    self._after_fork()
                    self._stopped = stopped
                    if running:
                        logger.info("%r: a process forked without Python's fork hook; "
                                    "starting its own reloading thread", self)
                        self._start()
        now = time.monotonic()
        if now >= self.live.closes_at:
            self._close_if_too_stale()
        self.live.check_at = min(self.live.closes_at, now + PROCESS_CHECK_INTERVAL)

    def _after_fork(self) -> None:
        """In a forked child: the parent's threads and connections are not ours."""
        self._reset_process_state()
        self.live.after_fork()
        if self._channel is not None:
            self._channel.after_fork()
        self._close_if_too_stale()


def entry_problems(entry: Any) -> list[str]:
    """What start-up would say about ``entry`` as an origin (an error or a warning);
    empty when it is a good origin, wildcard or regex."""
    if isinstance(entry, str) and entry.strip(" \t\r\n\f\v") == ANY_ORIGIN:
        return ["'*' cannot be loaded: it would allow every origin; set origins='*' in the "
                "configuration instead"]
    if isinstance(entry, str) and entry.strip(" \t\r\n\f\v") == NULL_ORIGIN:
        return ["'null' cannot be loaded: it is the Origin of sandboxed iframes, data: "
                "URLs and local files, which any page can produce, so trusting it trusts "
                "every site; list the real origins of the pages you trust"]
    if not isinstance(entry, (str, re.Pattern)):
        return [f"is a {type(entry).__name__}; load() returns origin strings or compiled "
                "regexes"]
    with collected_warnings() as notes:
        matcher, problems = compile_origins([entry])
    messages = [message for _, message in problems] + notes
    if matcher is not None:
        messages += [message for _, message in matcher.ineffective]
        # What '*' would grant, in disguise: never loaded, with or without credentials.
        messages += [f"allows origins on domains anyone can register (such as {probe!r}), "
                     "as '*' would; load the trusted origins themselves"
                     for _, probe in matcher.open_regexes()]
    return messages


def not_written(entry: Any, messages: Iterable[str], done: str) -> str:
    """Why a write (``add``) refused ``entry``: start-up's reasons, for an entry that was
    ``done`` (``"added to tenants"``) not at all. Start-up ignores an entry that can never
    match, and says so; a refused write stores nothing, so it says why instead."""
    reasons = "; ".join(message.replace(IGNORED_ENTRY, _NEVER_SENT) for message in messages)
    return f"{entry!r} was not {done}: {reasons}"


_NEVER_SENT = "no browser sends such an Origin"


def _no_patterns() -> list[str]:
    return []


def _canonical_exact(origin: str) -> str:
    """An exact origin as browsers send it (the form stores hold and caches key on)."""
    matcher, problems = compile_origins([origin])
    if problems or matcher is None or len(matcher.exact) != 1:
        raise ConfigurationError([Problem("CachedOrigins.invalidate()", "origin", origin,
                                          "must be one exact origin ('https://a.example')")])
    return next(iter(matcher.exact))


def _never_loaded(entry: Any) -> bool:
    """'*' and 'null': refused by every loaded set, whatever else it holds."""
    return isinstance(entry, str) and entry.strip(" \t\r\n\f\v") in (ANY_ORIGIN, NULL_ORIGIN)


def _entries_of(value: Any) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"load() returned a {type(value).__name__}; return a list of origins")
    return list(value)


def _shown(entry: Any) -> str:
    if isinstance(entry, re.Pattern):
        return f"re.compile({entry.pattern!r})"
    return repr(entry)[:200]


def _name_of(load: Any) -> str:
    name = getattr(load, "__qualname__", None) or repr(load)
    return str(name).rpartition("<locals>.")[2]


def _in_uwsgi_master() -> bool:
    """Whether this is uWSGI's master loading the app before forking its workers in C."""
    uwsgi = sys.modules.get("uwsgi")
    if uwsgi is None:
        return False
    try:
        return bool(uwsgi.worker_id() == 0)
    except Exception:  # not uWSGI's own module
        return False


#: The longest a fork waits for the loads under way in other threads, in seconds.
FORK_WAIT = 5.0


class _ForkGate:
    """Forks wait for the loads under way, and no load starts while a process forks.

    A ``load()`` runs user code in a thread of its own: a database driver, SQLite, DNS,
    TLS, each with locks of its own in C. A process forked while such a lock is held
    (gunicorn ``--preload`` forks its workers from a master whose reloading thread
    runs) gets a copy of the lock held by a thread that does not exist there: that
    worker's every load then hangs, is abandoned after ``load_timeout``, and its set
    closes at ``max_stale`` for good. So Python's fork hook waits, before the fork,
    until no load is running (at most until each load's own ``load_timeout``, and at
    most ``FORK_WAIT`` seconds), and holds new loads back until the fork is done.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        # A load's key -> its give-up time and its thread.
        self._running: dict[int, tuple[float, int]] = {}
        self._forking = False
        self._next = 0
        #: Loads still running when the last fork went ahead without them.
        self.late = 0

    @contextlib.contextmanager
    def loading(self, give_up: float) -> Iterator[None]:
        with self._condition:
            while self._forking:
                self._condition.wait(FORK_WAIT)
            self._next += 1
            key = self._next
            self._running[key] = (give_up, threading.get_ident())
        try:
            yield
        finally:
            with self._condition:
                self._running.pop(key, None)
                self._condition.notify_all()

    def before_fork(self) -> None:
        """Wait for the loads that have not been abandoned; keep new ones back. (A
        ``load()`` that forks, itself, is not waited for.)"""
        deadline = time.monotonic() + FORK_WAIT
        me = threading.get_ident()
        with self._condition:
            self._forking = True
            while True:
                now = time.monotonic()
                waiting = [until for until, thread in self._running.values()
                           if until > now and thread != me]
                if not waiting or now >= deadline:
                    self.late = len(waiting)
                    return
                self._condition.wait(min(max(waiting), deadline) - now)

    def after_fork_in_parent(self) -> None:
        with self._condition:
            self._forking = False
            self._condition.notify_all()

    def after_fork_in_child(self) -> int:
        """A gate of the child's own (the parent's lock may be held); the number of loads
        that were still running when the fork went ahead."""
        late = self.late
        self._reset()
        return late


_fork_gate = _ForkGate()
_instances: weakref.WeakSet[CachedOrigins] = weakref.WeakSet()
#: Taken only in a forked child, by the first requests that notice the fork.
_adopting = threading.Lock()


def _before_fork() -> None:
    _fork_gate.before_fork()


def _after_fork_in_parent() -> None:
    _fork_gate.after_fork_in_parent()


def _restart_in_child() -> None:
    global _adopting
    _adopting = threading.Lock()
    late = _fork_gate.after_fork_in_child()
    if late:
        logger.error(
            "this process was forked while %d load() call(s) of origins loaded at run time "
            "were still running after %g s in another thread of its parent; a lock their "
            "code held (a database driver's, SQLite's) may be held for ever here, and this "
            "process's loads then hang and its origins close at max_stale. Make load() "
            "return faster, or load the app in each worker (gunicorn without --preload)",
            late, FORK_WAIT)
    # gunicorn forks its workers from a master that may have loaded the app
    # (--preload): each worker reloads with threads and connections of its own.
    for origins in list(_instances):
        if origins._thread is not None and not origins._stopped:
            origins._after_fork()
            origins._start()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_restart_in_child)
