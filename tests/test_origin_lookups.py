"""Per-origin mode (issue 25): ``CachedOrigins(lookup=...)`` and ``RedisOrigins`` answer
an exact origin by asking the store about that one origin, and cache the answer."""

from __future__ import annotations

import logging
import threading
import time
import tracemalloc
from typing import Any

import pytest
import redis
from flask import Flask

from flask_crossorigin import CORS, CachedOrigins, ConfigurationError, RedisOrigins, request_refused
from flask_crossorigin.origin_lookups import BREAKER_SECONDS

from .test_cached_origins import A, B, C, app_with, grant, wait_until


class Store:
    """A store of exact origins that counts how often it is asked, and can fail."""

    def __init__(self, *members: str) -> None:
        self.members = set(members)
        self.asked: list[str] = []
        self.down = False

    def __call__(self, origin: str) -> bool:
        self.asked.append(origin)
        if self.down:
            raise ConnectionError("the tenant database is down")
        return origin in self.members



def per_origin(made: list[CachedOrigins], store: Store, **options: Any) -> CachedOrigins:
    origins = CachedOrigins(lookup=store, **{"ttl": 3600, "max_stale": 7200, **options})
    made.append(origins)
    return origins


def test_each_origin_is_asked_about_once_and_cached_granted_or_refused(
        made: list[CachedOrigins]) -> None:
    store = Store(A)
    app = app_with(per_origin(made, store), supports_credentials=True)
    assert store.asked == []  # nothing is loaded at start
    for _ in range(3):
        assert grant(app, A) == A
        assert grant(app, B) is None
    assert store.asked == [A, B]
    response = app.test_client().options("/api/data", headers={
        "Origin": A, "Access-Control-Request-Method": "PUT"})
    assert response.headers["Access-Control-Allow-Origin"] == A
    assert store.asked == [A, B]


def test_patterns_come_from_load_and_exact_origins_from_lookup(
        made: list[CachedOrigins]) -> None:
    store = Store(A)
    origins = CachedOrigins(lambda: ["https://*.tenants.example"], lookup=store,
                            ttl=3600, max_stale=7200)
    made.append(origins)
    app = app_with(origins)
    assert grant(app, "https://x.tenants.example") == "https://x.tenants.example"
    assert grant(app, A) == A and grant(app, C) is None
    assert store.asked == [A, C]  # the wildcard's origin never reached the store


@pytest.mark.parametrize("origin", [
    "https://A.example",  # browsers send hosts of special schemes in lowercase
    "https://a.example/", "https://a.example/path", "a.example", "null", "*",
    "https://a.example:443", "https://" + "a" * 5000 + ".example", "https://a.example ",
    "https://user@a.example", "",
])
def test_a_malformed_origin_never_reaches_the_lookup(
        origin: str, made: list[CachedOrigins]) -> None:
    store = Store(A, origin)
    app = app_with(per_origin(made, store))
    response = app.test_client().get("/api/data", headers={"Origin": origin})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert store.asked == []


def test_a_lookup_that_raises_is_a_refusal_logged_once_never_a_500(
        made: list[CachedOrigins], caplog: pytest.LogCaptureFixture) -> None:
    store = Store(A, B)
    store.down = True
    app = app_with(per_origin(made, store))
    seen: list[str] = []

    def record(sender: Any, code: str, **_: Any) -> None:
        seen.append(code)

    request_refused.connect(record, app)
    with caplog.at_level(logging.ERROR, "flask_crossorigin"):
        for origin in (A, B, A, C):
            assert grant(app, origin) is None
    assert store.asked == [A]  # the breaker: no request waits on a store that is down
    assert seen == ["origin-lookup-failed"] * 4
    errors = [r for r in caplog.records if "lookup" in r.getMessage()]
    assert len(errors) == 1 and "the tenant database is down" in errors[0].getMessage()
    store.down = False
    time.sleep(BREAKER_SECONDS + 0.05)
    assert grant(app, A) == A  # back within seconds


def test_confirmed_origins_keep_their_answer_until_max_stale_others_are_refused(
        made: list[CachedOrigins]) -> None:
    store = Store(A, B)
    app = app_with(per_origin(made, store, ttl=0.1, max_stale=0.6))
    assert grant(app, A) == A
    confirmed = time.monotonic()
    store.down = True
    time.sleep(0.15)  # A's cached answer is no longer fresh: asked again, fails
    assert grant(app, A) == A  # confirmed within max_stale
    assert grant(app, B) is None  # a member, but never confirmed: refused at once
    time.sleep(max(0.0, confirmed + 0.65 - time.monotonic()))
    assert grant(app, A) is None  # past max_stale: refused
    store.down = False
    time.sleep(BREAKER_SECONDS)
    assert grant(app, A) == A and grant(app, B) == B


def test_a_flood_of_unknown_origins_costs_one_lookup_each_and_keeps_memory_flat(
        made: list[CachedOrigins]) -> None:
    store = Store(A)
    origins = per_origin(made, store, cache_size=100, negative_cache_size=1000)
    app = app_with(origins)
    client = app.test_client()
    assert grant(app, A) == A

    def flood(start: int, count: int) -> None:
        for i in range(start, start + count):
            client.get("/api/data", headers={"Origin": f"https://flood{i}.example"})

    flood(0, 1000)
    flood(0, 1000)  # the same origins again: answered from the refused cache
    assert len(store.asked) == 1 + 1000
    tracemalloc.start()
    flood(1000, 2000)
    before = tracemalloc.take_snapshot()
    flood(3000, 5000)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename")
                if "flask_crossorigin" in str(stat.traceback))
    assert grown < 200_000, grown  # bounded: 5,000 more unknown origins cost nothing kept
    assert origins.lookups is not None
    assert len(origins.lookups.refused) <= 1000
    asked = len(store.asked)
    assert grant(app, A) == A and len(store.asked) == asked  # the hot entry survived


def test_invalidate_one_origin_evicts_it_and_invalidate_drops_everything(
        made: list[CachedOrigins]) -> None:
    store = Store(A)
    origins = per_origin(made, store)
    app = app_with(origins)
    assert grant(app, A) == A and grant(app, B) is None
    store.members = {B}
    assert grant(app, A) == A and grant(app, B) is None  # cached
    origins.invalidate("https://B.example")  # any spelling of the origin
    assert grant(app, B) == B and grant(app, A) == A  # only B was asked again
    assert store.asked == [A, B, B]
    origins.invalidate()
    assert grant(app, A) is None
    with pytest.raises(ConfigurationError, match="one exact origin"):
        origins.invalidate("https://*.b.example")


def test_a_lookup_under_way_during_an_invalidation_caches_nothing(
        made: list[CachedOrigins]) -> None:
    """A removal that lands while a lookup of the same origin is under way: the lookup's
    (old) answer is not cached, so the next request asks again."""
    started, release = threading.Event(), threading.Event()
    members = {A}

    def slow(origin: str) -> bool:
        answer = origin in members
        started.set()
        release.wait(5)
        return answer

    origins = CachedOrigins(lookup=slow, ttl=3600, max_stale=7200)
    made.append(origins)
    app = app_with(origins)
    box: dict[str, Any] = {}
    asking = threading.Thread(target=lambda: box.setdefault("first", grant(app, A)))
    asking.start()
    started.wait(5)
    members.clear()
    origins.invalidate(A)  # removed while the lookup was under way
    release.set()
    asking.join(5)
    assert box["first"] == A  # the request concurrent with the removal
    started.clear()
    assert grant(app, A) is None  # asked again: not the stale cached grant


def test_write_protection_trusts_the_same_answers(made: list[CachedOrigins]) -> None:
    store = Store(A)
    app = Flask(__name__)

    @app.route("/api/data", methods=["GET", "POST"])
    def data() -> str:
        return "ok"

    CORS(app, origins=per_origin(made, store), csrf_protection=True)
    client = app.test_client()
    cross_site = {"Sec-Fetch-Site": "cross-site"}
    assert client.post("/api/data", headers={"Origin": A, **cross_site}).status_code == 200
    assert client.post("/api/data", headers={"Origin": B, **cross_site}).status_code == 403
    assert store.asked == [A, B]


def test_bad_per_origin_settings_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="lookup=") as error:
        CachedOrigins()
    with pytest.raises(ConfigurationError, match="cache_size") as error:
        CachedOrigins(lookup=bool, cache_size=0)
    with pytest.raises(ConfigurationError, match="negative_ttl") as error:
        CachedOrigins(lookup=bool, negative_ttl=-1)
    with pytest.raises(ConfigurationError, match="lookup") as error:
        CachedOrigins(lookup="SELECT 1")  # type: ignore[arg-type]
    assert error.value.problems


# -- Redis --------------------------------------------------------------------------------

def test_redis_changes_reach_another_process_per_origin_within_a_second(
        redis_server: Any, made: list[CachedOrigins]) -> None:
    admin = RedisOrigins(redis_server.url, ttl=3600, max_stale=7200)
    worker = RedisOrigins(redis.Redis.from_url(redis_server.url), ttl=3600, max_stale=7200)
    made += [admin, worker]
    app = app_with(worker, supports_credentials=True)
    time.sleep(0.3)  # subscribed
    assert grant(app, A) is None  # cached as refused
    admin.add("https://A.example")
    wait_until(lambda: grant(app, A) == A, timeout=1.0)  # updated, not just evicted
    assert grant(app, A) == A
    admin.remove(A)
    wait_until(lambda: grant(app, A) is None, timeout=1.0)  # also when cached as granted
    assert worker.lookups is not None
    assert A in worker.lookups.refused


def test_redis_lookups_never_read_the_whole_set(
        redis_server: Any, made: list[CachedOrigins]) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.sadd("flask-crossorigin:origins", *[f"https://t{i}.example" for i in range(5000)])
    store = RedisOrigins(redis_server.url, ttl=3600, max_stale=7200)
    made.append(store)
    client.config_resetstat()
    app = app_with(store)
    assert grant(app, "https://t4999.example") == "https://t4999.example"
    assert grant(app, "https://t5000.example") is None
    time.sleep(0.3)  # subscribed (which reloads the patterns)
    stats = client.info("commandstats")
    assert stats["cmdstat_sismember"]["calls"] == 2
    assert "cmdstat_sscan" not in stats
    # SMEMBERS of the patterns only: the 5,000 members (110 kB) were never sent.
    assert client.info("stats")["total_net_output_bytes"] < 20_000


def test_migrate_moves_patterns_an_older_version_kept_in_the_set(
        redis_server: Any, made: list[CachedOrigins]) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.sadd("legacy", A, "https://*.tenants.example", r"https://[a-z]+\.r\.example")
    store = RedisOrigins(redis_server.url, key="legacy", ttl=3600, max_stale=7200)
    made.append(store)
    app = app_with(store)
    assert grant(app, "https://x.tenants.example") is None  # not where it is looked for
    assert store.migrate() == ["https://*.tenants.example", r"https://[a-z]+\.r\.example"]
    assert client.smembers("legacy") == {A.encode()}
    assert grant(app, "https://x.tenants.example") == "https://x.tenants.example"
    assert grant(app, A) == A


@pytest.mark.parametrize("message", ["not json", '{"origin": 42}', "0123456789abcdef"])
def test_a_message_that_cannot_be_applied_drops_the_cache_never_reads_the_set(
        redis_server: Any, made: list[CachedOrigins], message: str) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.sadd("flask-crossorigin:origins", A, *[f"https://t{i}.example" for i in range(2000)])
    worker = RedisOrigins(redis_server.url, ttl=3600, max_stale=7200)
    made.append(worker)
    app = app_with(worker)
    time.sleep(0.3)  # subscribed
    assert grant(app, A) == A
    assert worker.lookups is not None and A in worker.lookups.granted
    client.config_resetstat()
    client.publish("flask-crossorigin:origins:invalidate", message)
    wait_until(lambda: A not in worker.lookups.granted, timeout=1.0)  # type: ignore[union-attr]
    assert grant(app, A) == A  # asked again, one origin
    stats = client.info("commandstats")
    assert stats["cmdstat_sismember"]["calls"] == 1
    assert "cmdstat_sscan" not in stats
    assert client.info("stats")["total_net_output_bytes"] < 5_000


def test_check_and_routes_answer_through_the_lookup(made: list[CachedOrigins]) -> None:
    from flask.cli import FlaskGroup

    def is_tenant(origin: str) -> bool:
        return origin == A

    app = app_with(per_origin(made, is_tenant))  # type: ignore[arg-type]

    def run(*args: str) -> Any:
        return app.test_cli_runner().invoke(FlaskGroup(), args=["cors", *args])

    granted = run("check", "/api/data", "--origin", A)
    assert granted.exit_code == 0, granted.output
    assert "CachedOrigins(is_tenant): exact origins looked up one by one, 0 patterns " \
           "loaded" in granted.output
    refused = run("check", "/api/data", "--origin", B)
    assert refused.exit_code == 1 and "matches none of the allowed origins" in refused.output
    assert "exact origins looked up one by one" in run("routes").output
