"""Redis, for origins loaded at run time: the invalidation channel, and a set of origins.

Imported only when a :class:`~flask_crossorigin.CachedOrigins` has
``invalidate_via`` or a :class:`RedisOrigins` is made; it imports ``redis``
(``pip install 'flask-crossorigin[redis]'``), which nothing else in the
package does.

* :class:`RedisChannel` publishes "reload" on a pub/sub channel, and listens on
  it in a thread of each process. Every (re)subscription also reloads: an
  invalidation published while a process was disconnected is never lost, and
  while it is disconnected ``ttl`` still bounds how stale its set gets.
* :class:`RedisOrigins` keeps the trusted origins in a Redis set.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .cached_origins import CachedOrigins, Change, entry_problems
from .errors import ConfigurationError, Problem
from .origins import LiveOriginMatcher, compile_origins
from .reasons import logger

if TYPE_CHECKING:
    import redis as redis_module

DEFAULT_KEY = "flask-crossorigin:origins"
#: Longest wait between two attempts to reconnect the channel, in seconds.
MAX_RECONNECT_DELAY = 0.5


def _redis() -> Any:
    try:
        import redis
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "origins kept in Redis need redis-py: pip install 'flask-crossorigin[redis]'"
        ) from error
    return redis


class RedisChannel:
    """Invalidations over Redis pub/sub: ``redis`` is a URL or a ``redis.Redis`` client."""

    def __init__(self, redis: Any, channel: str) -> None:
        module = _redis()
        if isinstance(redis, str):
            self._url: str | None = redis
            self._given: redis_module.Redis | None = None
        elif isinstance(redis, module.Redis):
            self._url = None
            self._given = redis
        else:
            # Shown only when it cannot hold a password (a URL in bytes, a dict can).
            shown = redis if isinstance(redis, (int, float, type(None))) else \
                f"a {type(redis).__name__}"
            raise ConfigurationError([Problem(
                "CachedOrigins()", "invalidate_via", shown,
                "must be a Redis URL ('redis://localhost:6379/0') or a redis.Redis client")])
        self.channel = channel
        self._made: redis_module.Redis | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._pubsub: Any = None
        # Who published: an instance skips its own invalidations (it reloaded already).
        self._token = uuid.uuid4().hex

    def client(self) -> redis_module.Redis:
        """This process's client (one made from the URL is made in each process)."""
        if self._given is not None:
            return self._given
        if self._made is None:
            self._made = _redis().Redis.from_url(
                self._url, socket_connect_timeout=2, socket_timeout=5,
                health_check_interval=5)
        return self._made

    def describe(self) -> str:
        if self._url is not None:
            where = _without_password(self._url)
        else:
            kwargs = self.client().connection_pool.connection_kwargs
            where = f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/" \
                    f"{kwargs.get('db', 0)}"
        return f"{where} channel {self.channel!r}"

    def publish(self, change: Change = None) -> None:
        """Everything (``None``), or one origin and its new answer: a few dozen bytes."""
        message: dict[str, Any] = {"from": self._token}
        if change is not None:
            message["origin"], message["granted"] = change
        self.client().publish(self.channel, json.dumps(message))

    def start(self, notify: Callable[[str, Change], None]) -> None:
        if self._thread is not None:
            return
        self._stopped = False
        self._thread = threading.Thread(
            target=self._listen, args=(notify,), daemon=True,
            name=f"flask-crossorigin listen {self.channel}")
        self._thread.start()

    def after_fork(self) -> None:
        # The parent's listening thread does not exist here, and its sockets are not ours.
        self._thread = None
        self._pubsub = None
        self._made = None
        self._token = uuid.uuid4().hex

    def close(self) -> None:
        self._stopped = True
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=3)
        self._thread = None

    def _listen(self, notify: Callable[[str, Change], None]) -> None:
        delay = 0.05
        lost_at: float | None = None
        while not self._stopped:
            pubsub = None
            try:
                client: Any = self.client()
                pubsub = client.pubsub()
                pubsub.subscribe(self.channel)
                while not self._stopped:
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        # Subscribed (again, perhaps after redis-py reconnected on its own):
                        # reload, as invalidations sent meanwhile never reached us.
                        if lost_at is not None:
                            logger.warning("the invalidation channel %r is back after %.1f s",
                                           self.channel, time.monotonic() - lost_at)
                            lost_at = None
                        delay = 0.05
                        notify("subscribed", None)
                    elif message["type"] == "message":
                        mine, change = self._read(_text(message["data"]))
                        if not mine:
                            notify("invalidated", change)
            except Exception as error:
                if self._stopped:
                    break
                if lost_at is None:
                    lost_at = time.monotonic()
                    logger.error("lost the invalidation channel %r (%s): reloading every ttl "
                                 "until it is back", self.channel, error)
                time.sleep(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # a dead connection
                        pubsub.close()


    def _read(self, data: str) -> tuple[bool, Change]:
        """(sent by this instance, the change); a message that cannot be read, or one
        of an older version (its token alone), changes everything."""
        if data == self._token:
            return True, None
        try:
            message = json.loads(data)
            origin, granted = message.get("origin"), message.get("granted")
            if message.get("from") == self._token:
                return True, None
            if isinstance(origin, str) and (granted is None or isinstance(granted, bool)):
                return False, (origin, granted)
        except (ValueError, AttributeError):
            pass
        return False, None


def _without_password(url: str) -> str:
    """``url`` for people: a password in it, in the user info (``redis://:secret@host``,
    or a lone ``redis://secret@host``) or in the query (``?password=secret``, which
    redis-py reads too), is never shown."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            user_info, _, host = netloc.rpartition("@")
            user, colon, _ = user_info.partition(":")
            netloc = f"{user}:***@{host}" if colon else f"***@{host}"
        query = parts.query
        if query:
            query = urlencode([(name, "***" if "password" in name.lower() else value)
                               for name, value in parse_qsl(query, keep_blank_values=True)],
                              safe="*")
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:  # not a URL that parses: show none of it
        return "redis://(a URL that does not parse)"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class RedisOrigins(CachedOrigins):
    """Trusted origins kept in Redis, managed with :meth:`add` and :meth:`remove` (or
    ``flask cors origins add|remove``); a change reaches every process within a second.

    ``redis`` is a Redis URL or a ``redis.Redis`` client. Exact origins are members of
    the set at ``key``, and are never loaded: each process asks Redis about one origin
    (``SISMEMBER``) on its first request from it, and caches the answer (see
    :class:`CachedOrigins`'s per-origin mode: ``cache_size``, ``negative_cache_size``,
    ``negative_ttl``). Wildcards and regexes are the set at ``<key>:patterns``, small,
    loaded as a whole every ``ttl``. :meth:`add` and :meth:`remove` of an exact origin
    publish that one origin: every process updates that one cached answer.

    :param lookup_timeout: seconds a lookup may wait for Redis (connect and answer)
        before it counts as failed; then no lookup is tried for a second.
    """

    def __init__(
        self,
        redis: Any,
        *,
        key: str = DEFAULT_KEY,
        ttl: float = 60.0,
        max_stale: float = 600.0,
        load_timeout: float = 10.0,
        cache_size: int = 10_000,
        negative_cache_size: int = 10_000,
        negative_ttl: float | None = None,
        lookup_timeout: float = 0.25,
    ) -> None:
        self.key = key
        #: Where the wildcards and regexes are (exact origins are at ``key``).
        self.patterns_key = f"{key}:patterns"
        self.lookup_timeout = lookup_timeout
        self._lookup_made: Any = None
        super().__init__(self._patterns, lookup=self._is_member, ttl=ttl,
                         max_stale=max_stale, invalidate_via=redis,
                         channel=f"{key}:invalidate", load_timeout=load_timeout,
                         cache_size=cache_size, negative_cache_size=negative_cache_size,
                         negative_ttl=negative_ttl)

    @property
    def _redis_channel(self) -> RedisChannel:
        assert isinstance(self._channel, RedisChannel)
        return self._channel

    def __repr__(self) -> str:
        return f"<RedisOrigins {self.key!r} {self.state}>"

    def describe(self) -> dict[str, Any]:
        found = super().describe()
        where = self._redis_channel.describe().partition(" channel ")[0]
        found["source"] = f"RedisOrigins(set {self.key!r} at {where})"
        return found

    # -- reading ---------------------------------------------------------------------------

    def _patterns(self) -> list[str]:
        client = self._redis_channel.client()
        return [_text(member) for member in client.smembers(self.patterns_key)]

    def _lookup_client(self) -> Any:
        """This process's client for lookups: short timeouts, no retry (a request waits
        at most ``lookup_timeout`` on a Redis that is down)."""
        if self._lookup_made is None:
            module = _redis()
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            pool = self._redis_channel.client().connection_pool
            kwargs = {**pool.connection_kwargs, "socket_timeout": self.lookup_timeout,
                      "socket_connect_timeout": self.lookup_timeout,
                      "retry": Retry(NoBackoff(), 0)}
            kwargs.pop("retry_on_timeout", None)
            self._lookup_made = module.Redis(connection_pool=module.ConnectionPool(
                connection_class=pool.connection_class, **kwargs))
        return self._lookup_made

    def _is_member(self, origin: str) -> bool:
        return bool(self._lookup_client().sismember(self.key, origin))

    def _after_fork(self) -> None:
        self._lookup_made = None  # its sockets are the parent's
        super()._after_fork()

    def list(self) -> list[str]:
        """Every entry, exact origins and patterns, read from Redis now, sorted (a whole
        scan of the set: for people and small sets, never used to answer requests)."""
        client = self._redis_channel.client()
        exact = [_text(member) for member in client.sscan_iter(self.key, count=1000)]
        return sorted(exact + self._patterns())

    def count(self) -> tuple[int, int]:
        """(exact origins, patterns) in Redis now."""
        client = self._redis_channel.client()
        return int(client.scard(self.key)), int(client.scard(self.patterns_key))

    # -- writing ---------------------------------------------------------------------------

    def add(self, origin: str | re.Pattern[str]) -> str:
        """Validate ``origin`` as start-up would, add it, and tell every process.
        Returns the entry as stored: its one canonical form (see :func:`canonical_entry`),
        so that :meth:`remove` of any spelling :meth:`add` accepts removes it."""
        stored = canonical_entry(origin, "RedisOrigins.add()")
        client = self._redis_channel.client()
        if _is_exact(stored):
            client.sadd(self.key, stored)
            self._publish_change(stored, True)
        else:
            client.sadd(self.patterns_key, stored)
            self.invalidate()
        return stored

    def remove(self, origin: str | re.Pattern[str]) -> bool:
        """Remove ``origin`` (as stored, or in any spelling :meth:`add` accepts) and tell
        every process. ``False`` when it was not there."""
        client = self._redis_channel.client()
        spellings = [origin] if isinstance(origin, str) else []
        removed_as: str | None = None
        for spelling in spellings + [""]:
            if not spelling:
                spelling = canonical_entry(origin, "RedisOrigins.remove()")
            # An older version kept patterns in the set itself: removed from both.
            if client.srem(self.key, spelling) | client.srem(self.patterns_key, spelling):
                removed_as = spelling
                break
        if removed_as is not None and _is_exact(removed_as):
            self._publish_change(removed_as, False)
        else:
            self.invalidate()
        return removed_as is not None

    def migrate(self) -> builtins.list[str]:
        """Move the wildcards and regexes an older version kept in the set at ``key``
        to ``<key>:patterns`` (one scan of the set); returns what moved."""
        client = self._redis_channel.client()
        moved = []
        for member in client.sscan_iter(self.key, count=1000):
            entry = _text(member)
            if not _is_exact(entry):
                client.smove(self.key, self.patterns_key, entry)
                moved.append(entry)
        self.invalidate()
        return sorted(moved)


def _is_exact(entry: str) -> bool:
    """Whether a stored entry is an exact origin (not a wildcard nor a regex)."""
    matcher, problems = compile_origins([entry])
    return not problems and matcher is not None and len(matcher.exact) == 1


def canonical_entry(origin: Any, where: str = "canonical_entry()") -> str:
    """The one form in which ``origin`` is stored, or :class:`ConfigurationError` with
    start-up's message. Exact origins as browsers send them (``https://a.example``);
    wildcards the same way (``https://*.a.example``: scheme and host lowercase, no
    default port); regexes as their pattern, without surrounding whitespace (a
    regex is case-sensitive: ``https://A\\.example`` is another regex)."""
    messages = entry_problems(origin)
    if not isinstance(origin, (str, re.Pattern)):
        messages = messages or ["must be a string"]
    if messages:
        raise ConfigurationError([Problem(where, "origins", origin, m) for m in messages])
    matcher, _ = compile_origins([origin])
    assert matcher is not None and not isinstance(matcher, LiveOriginMatcher)
    if matcher.exact:
        return next(iter(matcher.exact))
    if matcher.wildcards:
        scheme, parent, port = next(iter(matcher.wildcards))
        return f"{scheme}://*.{parent}:{port}" if port else f"{scheme}://*.{parent}"
    return matcher.regexes[0].pattern
