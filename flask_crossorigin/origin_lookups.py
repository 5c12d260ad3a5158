"""Per-origin answers for :class:`~flask_crossorigin.CachedOrigins` (``lookup=``).

A set of a million tenant domains is never loaded: each exact origin is asked
about once (``lookup(origin) -> bool``: one indexed query, one Redis
``SISMEMBER``) and the answer is kept in this process, in two bounded caches kept
apart, so that a flood of unknown origins can never push out the hot granted ones:

* granted origins: ``origin -> (fresh until, confirmed at, grants)``, at most
  ``size`` (``grants``: each policy's answer, made at its first use);
* refused origins: ``origin -> (fresh until, refusals)``, at most ``negative_size``
  (``refusals``: each policy's answer, with the patterns it was decided under).

A cached answer costs one dictionary lookup and one clock read. A miss costs one
lookup, on the request path: that is why a lookup that fails opens a short
circuit breaker (no request waits on a store that is down), and why only a
well-formed origin, as browsers serialize it, ever reaches ``lookup``.

While the store is unreachable, an origin confirmed within ``max_stale`` keeps its
answer; any other is refused at once. An invalidation of one origin (this
process, or another one through the channel) updates or evicts that one entry;
a generation counter keeps a lookup that was under way during an invalidation
from caching its (perhaps stale) answer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable

from .origins import OriginMatcher, parse_request_origin
from .reasons import STORE_DECIDES, Refusal, logger

if TYPE_CHECKING:
    from .cached_origins import CachedOrigins

#: Seconds during which lookups are not tried after one failed (the circuit breaker).
BREAKER_SECONDS = 1.0


class OriginLookups:
    """The per-origin answers of one :class:`CachedOrigins`, in one process."""

    def __init__(self, source: CachedOrigins, lookup: Callable[[str], Any], *, size: int,
                 negative_size: int, ttl: float, negative_ttl: float,
                 max_stale: float) -> None:
        self.source = source
        self.lookup = lookup
        self.size = size
        self.negative_size = negative_size
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.max_stale = max_stale
        self.granted: dict[str, tuple[float, float, dict[object, Any]]] = {}
        self.refused: dict[str, tuple[float, dict[object, Any]]] = {}
        #: Bumped by every invalidation: a lookup begun before it caches nothing.
        self.generation = 0
        self.hits = 0
        self.lookups = 0
        self.failures = 0
        self.breaker_until = 0.0
        #: Why the last lookup failed (``None`` after a success).
        self.last_error: str | None = None

    # -- the request path -----------------------------------------------------------------

    def decide(self, origin: str, refusal: Refusal, policy_name: str) -> Refusal | None:
        """``origin`` is not granted by a fresh cached answer nor by the patterns:
        answer from the refused cache, or ask the store (``refusal``: the patterns')."""
        now = time.monotonic()
        refused = self.refused.get(origin)
        if refused is not None and refused[0] > now:
            self.hits += 1
            return refusal
        if parse_request_origin(origin) is None:
            return Refusal("origin-malformed", origin=origin)  # never reaches lookup
        if now < self.breaker_until:
            return self._unreachable(origin, now, policy_name)
        generation = self.generation
        self.lookups += 1
        try:
            found = bool(self.lookup(origin))
        except Exception as error:
            self._failed(error)
            return self._unreachable(origin, time.monotonic(), policy_name)
        if self.last_error is not None:
            logger.warning("the origin lookups of %r answer again", self.source)
            self.last_error = None
        if generation == self.generation:
            self.store(origin, found, time.monotonic())
        return None if found else refusal

    def _unreachable(self, origin: str, now: float, policy_name: str) -> Refusal | None:
        entry = self.granted.get(origin)
        if entry is not None and now - entry[1] < self.max_stale:
            return None  # confirmed within max_stale: keeps its answer
        return Refusal("origin-lookup-failed", origin=origin, policy=policy_name,
                       error=self.last_error or "the store did not answer")

    def _failed(self, error: Exception) -> None:
        self.failures += 1
        self.breaker_until = time.monotonic() + BREAKER_SECONDS
        first = self.last_error is None
        self.last_error = f"{type(error).__name__}: {error}" if str(error) \
            else type(error).__name__
        if first:  # once per outage
            logger.error("the origin lookup of %r failed (%s): origins confirmed within "
                         "max_stale (%g s) keep their answer, any other is refused; retried "
                         "every %g s", self.source, self.last_error, self.max_stale,
                         BREAKER_SECONDS)

    # -- what is cached -------------------------------------------------------------------

    def store(self, origin: str, granted: bool, now: float) -> None:
        if granted:
            self.refused.pop(origin, None)
            self.granted.pop(origin, None)  # to the end: the last evicted
            _bounded_put(self.granted, origin, (now + self.ttl, now, {}), self.size)
        else:
            self.granted.pop(origin, None)
            self.refused.pop(origin, None)
            _bounded_put(self.refused, origin, (now + self.negative_ttl, {}),
                         self.negative_size)

    def apply(self, origin: str, granted: bool | None) -> None:
        """An invalidation of one origin: its new answer (``None``: unknown, evict)."""
        self.generation += 1
        if granted is None:
            self.granted.pop(origin, None)
            self.refused.pop(origin, None)
        else:
            self.store(origin, granted, time.monotonic())

    def clear(self) -> None:
        self.generation += 1
        self.granted = {}
        self.refused = {}

    def describe(self) -> dict[str, Any]:
        asked = self.hits + self.lookups
        return {
            "cached_granted": len(self.granted),
            "cached_refused": len(self.refused),
            "lookups": self.lookups,
            "hit_rate": self.hits / asked if asked else None,
            "lookup_error": self.last_error,
        }


def _bounded_put(cache: dict[str, Any], origin: str, value: Any, size: int) -> None:
    while len(cache) >= size:
        try:
            cache.pop(next(iter(cache)), None)  # the oldest
        except (StopIteration, RuntimeError):  # emptied or changed by another thread
            break
    cache[origin] = value


class LookupOriginMatcher(OriginMatcher):
    """The loaded patterns of a per-origin :class:`CachedOrigins`, and its lookups."""

    def __init__(self, patterns: OriginMatcher, lookups: OriginLookups) -> None:
        super().__init__(any_origin=False, exact=patterns.exact, wildcards=patterns.wildcards,
                         regexes=patterns.regexes, callables=(), entries=patterns.entries,
                         boundaries=patterns.boundaries)
        self.patterns = patterns
        self.lookups = lookups

    def check(self, origin: str, policy_name: str) -> Refusal | None:
        lookups = self.lookups
        entry = lookups.granted.get(origin)
        if entry is not None and entry[0] > time.monotonic():
            lookups.hits += 1
            return None  # a fresh cached answer: the common case
        refusal = self.patterns.check(origin, policy_name)
        if refusal is None or refusal.code not in STORE_DECIDES:
            return refusal  # granted by a pattern; or null, or malformed
        return lookups.decide(origin, refusal, policy_name)
