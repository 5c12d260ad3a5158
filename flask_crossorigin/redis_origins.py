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

import contextlib
import re
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .cached_origins import CachedOrigins, entry_problems
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

    def publish(self) -> None:
        self.client().publish(self.channel, self._token)

    def start(self, reload: Callable[[str], None]) -> None:
        if self._thread is not None:
            return
        self._stopped = False
        self._thread = threading.Thread(
            target=self._listen, args=(reload,), daemon=True,
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

    def _listen(self, reload: Callable[[str], None]) -> None:
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
                        reload("subscribed")
                    elif message["type"] == "message" and _text(message["data"]) != self._token:
                        reload("invalidated")
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


def _without_password(url: str) -> str:
    """``url`` for people: a password in it, in the user info (``redis://:secret@host``)
    or in the query (``?password=secret``, which redis-py reads too), is never shown."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            user_info, _, host = netloc.rpartition("@")
            user, colon, _ = user_info.partition(":")
            netloc = f"{user}:***@{host}" if colon else f"{user_info}@{host}"
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
    """Trusted origins kept in a Redis set, managed with :meth:`add` and :meth:`remove`
    (or ``flask cors origins add|remove``), and reloaded in every process within a
    second of a change.

    ``redis`` is a Redis URL or a ``redis.Redis`` client. Built on
    :class:`CachedOrigins`: ``ttl`` and ``max_stale`` mean the same, and a Redis
    that is down is a load that fails.
    """

    def __init__(
        self,
        redis: Any,
        *,
        key: str = DEFAULT_KEY,
        ttl: float = 60.0,
        max_stale: float = 600.0,
        load_timeout: float = 10.0,
    ) -> None:
        self.key = key
        super().__init__(self._members, ttl=ttl, max_stale=max_stale, invalidate_via=redis,
                         channel=f"{key}:invalidate", load_timeout=load_timeout)

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

    def _members(self) -> list[str]:
        return [_text(member) for member in self._redis_channel.client().smembers(self.key)]

    def list(self) -> list[str]:
        """The origins in the set, read from Redis now, sorted."""
        return sorted(self._members())

    def add(self, origin: str | re.Pattern[str]) -> str:
        """Validate ``origin`` as start-up would, add it, and make every process reload.
        Returns the entry as stored: its one canonical form (see :func:`canonical_entry`),
        so that :meth:`remove` of any spelling :meth:`add` accepts removes it."""
        stored = canonical_entry(origin, "RedisOrigins.add()")
        self._redis_channel.client().sadd(self.key, stored)
        self.invalidate()
        return stored

    def remove(self, origin: str | re.Pattern[str]) -> bool:
        """Remove ``origin`` (as stored, or in any spelling :meth:`add` accepts) and make
        every process reload. ``False`` when it was not in the set."""
        client = self._redis_channel.client()
        removed = isinstance(origin, str) and bool(client.srem(self.key, origin))
        if not removed:
            stored = canonical_entry(origin, "RedisOrigins.remove()")
            removed = bool(client.srem(self.key, stored))
        self.invalidate()
        return removed


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
