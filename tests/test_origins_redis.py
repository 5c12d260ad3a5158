"""Origins and invalidations through a real redis-server (Debian's, started per test)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import redis
from flask import Flask

from flask_crossorigin import CORS, CachedOrigins, ConfigurationError, RedisOrigins

from .test_cached_origins import A, B, C, app_with, grant, wait_until


def test_invalidate_reloads_every_instance_on_the_channel_within_a_second(
        redis_server: Any, made: list[CachedOrigins]) -> None:
    rows = [A]
    # Two instances stand for two processes: each has its own connection and thread.
    here = CachedOrigins(lambda: list(rows), ttl=3600, max_stale=7200,
                         invalidate_via=redis_server.url)
    there = CachedOrigins(lambda: list(rows), ttl=3600, max_stale=7200,
                          invalidate_via=redis.Redis.from_url(redis_server.url))
    made += [here, there]
    app_here, app_there = app_with(here), app_with(there)
    wait_until(lambda: there._channel is not None and there._channel._thread is not None)
    time.sleep(0.2)  # both subscribed
    rows.append(B)
    start = time.monotonic()
    here.invalidate()
    assert grant(app_here, B) == B  # this process: at once
    took = wait_until(lambda: grant(app_there, B) == B, timeout=1.0)
    assert time.monotonic() - start < 1.0, took
    rows.remove(A)
    there.invalidate()
    wait_until(lambda: grant(app_here, A) is None, timeout=1.0)


def test_a_dropped_subscription_reconnects_and_reloads(
        redis_server: Any, made: list[CachedOrigins]) -> None:
    rows = [A]
    listener = CachedOrigins(lambda: list(rows), ttl=3600, max_stale=7200,
                             invalidate_via=redis_server.url)
    made.append(listener)
    app = app_with(listener)
    time.sleep(0.2)
    redis_server.stop()
    rows.append(B)  # changed while Redis is down: the invalidation cannot be sent
    publisher = CachedOrigins(lambda: list(rows), invalidate_via=redis_server.url)
    made.append(publisher)
    assert publisher.invalidate() is False  # loaded here, but could not tell the others
    time.sleep(0.5)
    assert grant(app, B) is None
    redis_server.start()
    # On reconnecting, the listener reloads: nothing sent meanwhile is lost.
    wait_until(lambda: grant(app, B) == B, timeout=5)


def test_redis_origins_add_remove_list(redis_server: Any, made: list[CachedOrigins]) -> None:
    store = RedisOrigins(redis_server.url, ttl=3600, max_stale=7200)
    other = RedisOrigins(redis.Redis.from_url(redis_server.url), ttl=3600, max_stale=7200)
    made += [store, other]
    app, other_app = app_with(store, supports_credentials=True), app_with(other)
    time.sleep(0.2)
    assert store.list() == [] and grant(app, A) is None
    assert store.add("https://A.example") == A  # stored as browsers send it
    assert store.add("https://*.tenants.example") == "https://*.tenants.example"
    assert grant(app, A) == A
    wait_until(lambda: grant(other_app, A) == A, timeout=1.0)
    wait_until(lambda: grant(other_app, "https://x.tenants.example") is not None, timeout=1.0)
    assert store.list() == ["https://*.tenants.example", A]
    assert store.remove("https://A.example") is True
    assert store.remove(C) is False
    assert grant(app, A) is None
    wait_until(lambda: grant(other_app, A) is None, timeout=1.0)
    described = store.describe()
    assert described["source"].startswith("RedisOrigins(set 'flask-crossorigin:origins' at "
                                          "redis://127.0.0.1:")
    assert described["state"] == "fresh" and described["origins"] == 1


@pytest.mark.parametrize("bad", ["app.example", "https://app.example/", "https://*.github.io",
                                 "*", r"https://.*.example.com", "http://localhost:*"])
def test_add_refuses_what_start_up_refuses_with_the_same_message(
        bad: str, redis_server: Any, made: list[CachedOrigins]) -> None:
    store = RedisOrigins(redis_server.url)
    made.append(store)
    app_with(store)
    with pytest.raises(ConfigurationError) as refused:
        store.add(bad)
    assert store.list() == []  # nothing was written
    if bad == "*":
        assert "'*' cannot be loaded" in str(refused.value)
        return
    # What start-up says about the same entry (an error, or a warning made an error).
    with pytest.raises((ConfigurationError, Warning)) as start_up:  # type: ignore[arg-type]
        app = Flask(__name__)
        CORS(app, origins=[bad])
    if isinstance(start_up.value, ConfigurationError):
        said = start_up.value.problems[0].message
    else:
        said = str(start_up.value).split(f"origins={bad!r}: ")[-1]  # after where it was
    assert said in str(refused.value)


def test_redis_down_keeps_confirmed_origins_until_max_stale_refuses_others_then_recovers(
        redis_server: Any, made: list[CachedOrigins]) -> None:
    """Per origin (issue 25): an origin confirmed within max_stale keeps its answer while
    Redis is down; one never confirmed in this process is refused at once, without
    waiting; after max_stale nothing is granted; back, answers return within seconds."""
    store = RedisOrigins(redis_server.url, ttl=0.2, max_stale=1.5, load_timeout=1.0)
    made.append(store)
    app = app_with(store)
    store.add(A)
    redis.Redis.from_url(redis_server.url).sadd(store.key, B)  # by another process
    wait_until(lambda: grant(app, A) == A, timeout=2)  # asked, and confirmed, here
    client = app.test_client()
    redis_server.stop()
    stopped = time.monotonic()
    while time.monotonic() - stopped < 1.0:
        response = client.get("/api/data", headers={"Origin": A})
        assert response.status_code == 200
        assert response.headers.get("Access-Control-Allow-Origin") == A
        time.sleep(0.05)
    asked = time.monotonic()
    assert grant(app, B) is None  # a member, but never confirmed here: refused
    assert time.monotonic() - asked < 0.5  # at once (the breaker is open)
    time.sleep(max(0.0, stopped + 1.6 - time.monotonic()))
    response = client.get("/api/data", headers={"Origin": A})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers
    redis_server.start()  # an empty server: nothing was saved
    redis.Redis.from_url(redis_server.url).sadd(store.key, A)
    wait_until(lambda: grant(app, A) == A, timeout=5)


def test_redis_origins_needs_a_url_or_a_client() -> None:
    with pytest.raises(ConfigurationError, match=re.escape("invalidate_via=42")):
        RedisOrigins(42)



@pytest.mark.parametrize("url, shown", [
    ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("redis://app:s3cret@cache.internal/2", "redis://app:***@cache.internal/2"),
    ("rediss://cache.internal:6380/0", "rediss://cache.internal:6380/0"),
    # Issue 23: a password in the query, or a lone userinfo, is hidden too.
    ("redis://cache.internal/0?password=s3cret&ssl_cert_reqs=none",
     "redis://cache.internal/0?password=***&ssl_cert_reqs=none"),
    ("redis://s3cret@cache.internal/0", "redis://***@cache.internal/0"),
])
def test_a_password_in_the_url_is_never_shown(url: str, shown: str) -> None:
    origins = CachedOrigins(lambda: [A], invalidate_via=url)
    described = origins.describe()["invalidate_via"]
    assert described == f"{shown} channel 'flask-crossorigin:invalidate'"
    assert "s3cret" not in repr(origins.describe())
