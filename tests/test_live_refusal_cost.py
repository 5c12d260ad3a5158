"""A refused origin under run-time origins costs what it costs under a static list
(issues 23 and 25), counted, never timed.

Whole list (``CachedOrigins(load)``): a refusal is remembered with the set that
decided it, so a reload, a close past ``max_stale`` and a fork all start afresh.
Per origin (``CachedOrigins(lookup=)``): a refusal is remembered, per policy, in the
cached refusal of the store, with the patterns it was decided under, so an
invalidated or expired entry, a close and a reload of the patterns all answer
afresh.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from flask_crossorigin import CORS, CachedOrigins, request_refused
from flask_crossorigin.origin_lookups import OriginLookups
from flask_crossorigin.policy import UNLISTED_MEMO_ORIGIN_LENGTH, UNLISTED_MEMO_SIZE

from .test_cached_origins import wait_until
from .test_origin_lookups import Store
from .test_refusal_cost import executed, ours

LISTED = "https://app.example.com"
REFUSED = "https://evil.example.net"


#: The receivers connected by this module's apps, disconnected after each test (a
#: receiver left connected would make other tests' requests ask who listens).
_connected: list[Any] = []


@pytest.fixture(autouse=True)
def disconnect() -> Iterator[None]:
    yield
    while _connected:
        request_refused.disconnect(_connected.pop())


def app_with(origins: Any) -> tuple[Flask, list[str]]:
    """An app on ``origins`` and the codes of the refusals it signals."""
    app = Flask(__name__)
    app.add_url_rule("/api/items", "items", lambda: "ok")
    CORS(app, origins=origins, supports_credentials=True)
    codes: list[str] = []

    def receiver(sender: Flask, code: str, **_: Any) -> None:
        codes.append(code)

    request_refused.connect(receiver, app, weak=False)
    _connected.append(receiver)
    return app, codes


def allowed(app: Flask, origin: str) -> str | None:
    response = app.test_client().get("/api/items", headers={"Origin": origin})
    assert response.status_code == 200
    return response.headers.get("Access-Control-Allow-Origin")


def whole(made: list[CachedOrigins], rows: list[str], **options: Any) -> CachedOrigins:
    origins = CachedOrigins(lambda: list(rows), **{"ttl": 3600, "max_stale": 7200, **options})
    made.append(origins)
    return origins


def per_origin(made: list[CachedOrigins], store: Store, rows: list[str] | None = None,
               **options: Any) -> CachedOrigins:
    load = (lambda: list(rows)) if rows is not None else None
    origins = CachedOrigins(load, lookup=store,
                            **{"ttl": 3600, "max_stale": 7200, **options})
    made.append(origins)
    return origins


def lookups_of(origins: CachedOrigins) -> OriginLookups:
    assert origins.lookups is not None
    return origins.lookups


# -- the cost -----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["static", "whole", "per-origin"])
def test_a_repeated_refused_origin_runs_no_line_of_the_matching(
        mode: str, made: list[CachedOrigins], formatted_reasons: list[str]) -> None:
    if mode == "static":
        origins: Any = [LISTED]
    elif mode == "whole":
        origins = whole(made, [LISTED])
    else:
        origins = per_origin(made, Store(LISTED))
    app = Flask(__name__)
    app.add_url_rule("/api/items", "items", lambda: "ok")
    CORS(app, origins=origins, supports_credentials=True)
    client = app.test_client()

    def request(origin: str) -> Any:
        return lambda: client.get("/api/items", headers={"Origin": origin})

    for _ in range(2):  # the first: decided (and the lookup asked); the second: remembered
        request(LISTED)()
        request(REFUSED)()
    granted = ours(executed(request(LISTED)))
    refused = ours(executed(request(REFUSED)))
    assert client.get("/api/items", headers={"Origin": REFUSED}).headers.get(
        "Access-Control-Allow-Origin") is None
    assert formatted_reasons == []
    assert not any(name.endswith(("origins.py", "reasons.py", "origin_lookups.py"))
                   for name, _ in refused), sorted(refused)
    # No more lines of the package than the granted answer, beyond asking whether
    # anybody listens (as a static list does, test_refusal_cost.py).
    extra = {function for (_, function) in refused - granted}
    assert extra <= {"_actual_live", "_answer_looked_up", "actual", "add_cors_headers",
                     "_decided", "_report", "listens"}, extra


# -- whole list: never outlives its set -------------------------------------------------

def test_whole_list_remembers_a_refusal_once_bounded_never_long_origins(
        made: list[CachedOrigins], checks: list[str]) -> None:
    origins = whole(made, [LISTED])
    app, codes = app_with(origins)
    for _ in range(3):
        assert allowed(app, REFUSED) is None
    assert checks == [REFUSED]
    assert codes == ["origin-not-allowed"] * 3  # signals as before, from the memo too
    for i in range(UNLISTED_MEMO_SIZE * 3):
        assert allowed(app, f"https://x{i}.evil.example") is None
    policy = app.extensions["crossorigin"].table.entries[0][1]
    assert policy._live_refused[0] is origins.live.current
    assert 0 < len(policy._live_refused[1]) <= UNLISTED_MEMO_SIZE
    long = "https://" + "a" * UNLISTED_MEMO_ORIGIN_LENGTH + ".example"
    checks.clear()
    for _ in range(3):
        assert allowed(app, long) is None
    assert checks == [long] * 3


def test_whole_list_a_reload_answers_afresh(
        made: list[CachedOrigins], checks: list[str]) -> None:
    rows = [LISTED]
    origins = whole(made, rows)
    app, _ = app_with(origins)
    for _ in range(2):
        assert allowed(app, REFUSED) is None
    rows.append("https://*.example.net")  # a pattern: no exact grant answers it
    assert origins.refresh()
    assert allowed(app, REFUSED) == REFUSED
    rows.pop()
    assert origins.refresh()
    checks.clear()
    assert allowed(app, REFUSED) is None and allowed(app, REFUSED) is None
    assert checks == [REFUSED]  # the new set decided once, then remembered


def test_whole_list_a_close_past_max_stale_answers_afresh(made: list[CachedOrigins]) -> None:
    broken = [False]

    def load() -> list[str]:
        if broken[0]:
            raise ConnectionError("database is down")
        return [LISTED]

    origins = CachedOrigins(load, ttl=0.05, max_stale=0.3)
    made.append(origins)
    app, codes = app_with(origins)
    for _ in range(2):
        assert allowed(app, REFUSED) is None
    assert codes == ["origin-not-allowed"] * 2
    broken[0] = True
    wait_until(lambda: origins.state == "closed", timeout=5)
    assert allowed(app, REFUSED) is None
    assert codes[-1] == "origins-closed"  # the closed set's reason, not the memo's


def test_whole_list_a_fork_starts_with_nothing_remembered(
        made: list[CachedOrigins], checks: list[str]) -> None:
    origins = whole(made, [LISTED])
    app, _ = app_with(origins)
    for _ in range(2):
        assert allowed(app, REFUSED) is None
    assert checks == [REFUSED]
    origins.live.pid = -1  # what a worker forked without Python's fork hook sees
    origins.live.check_at = 0.0
    assert allowed(app, REFUSED) is None
    assert allowed(app, REFUSED) is None
    assert checks == [REFUSED, REFUSED]  # decided afresh once in the "child", remembered


def test_whole_list_never_remembers_what_it_grants(
        made: list[CachedOrigins], checks: list[str]) -> None:
    origins = whole(made, [LISTED, "https://*.partner.example"])
    app, _ = app_with(origins)
    for _ in range(3):
        assert allowed(app, "https://a.partner.example") == "https://a.partner.example"
    assert checks == ["https://a.partner.example"] * 3
    policy = app.extensions["crossorigin"].table.entries[0][1]
    assert policy._live_refused[1] == {}


# -- per origin: never outlives the cached refusal, nor its patterns ------------------------

def test_per_origin_a_refusal_is_kept_with_the_cached_refusal(
        made: list[CachedOrigins], checks: list[str]) -> None:
    store = Store(LISTED)
    origins = per_origin(made, store)
    app, codes = app_with(origins)
    for _ in range(4):
        assert allowed(app, REFUSED) is None
    assert store.asked == [REFUSED]
    assert checks == [REFUSED, REFUSED]  # decided, then confirmed by the cache; then kept
    assert codes == ["origin-not-allowed"] * 4
    lookups = lookups_of(origins)
    assert lookups.describe()["hit_rate"] == 3 / 4  # a kept refusal is a cache hit
    policy = app.extensions["crossorigin"].table.entries[0][1]
    until, kept = lookups.refused[REFUSED]
    assert kept[policy][0] is origins.live.current


def test_per_origin_an_invalidated_origin_is_asked_again(
        made: list[CachedOrigins]) -> None:
    store = Store(LISTED)
    origins = per_origin(made, store)
    app, _ = app_with(origins)
    for _ in range(3):
        assert allowed(app, REFUSED) is None
    store.members.add(REFUSED)
    assert origins.invalidate(REFUSED)
    assert allowed(app, REFUSED) == REFUSED
    assert store.asked == [REFUSED, REFUSED]
    # Refused again, through a channel message (applied as such): the entry is new.
    store.members.discard(REFUSED)
    lookups_of(origins).apply(REFUSED, False)
    assert allowed(app, REFUSED) is None
    lookups_of(origins).apply(REFUSED, True)
    assert allowed(app, REFUSED) == REFUSED
    # Everything dropped (invalidate()): asked again.
    lookups_of(origins).apply(REFUSED, False)
    assert allowed(app, REFUSED) is None and allowed(app, REFUSED) is None
    store.members.add(REFUSED)
    asked = len(store.asked)
    assert origins.invalidate()
    assert allowed(app, REFUSED) == REFUSED
    assert len(store.asked) == asked + 1


def test_per_origin_an_expired_refusal_is_asked_again(made: list[CachedOrigins]) -> None:
    store = Store(LISTED)
    origins = per_origin(made, store, negative_ttl=3600)
    app, _ = app_with(origins)
    for _ in range(3):
        assert allowed(app, REFUSED) is None
    store.members.add(REFUSED)
    lookups = lookups_of(origins)
    until, kept = lookups.refused[REFUSED]
    assert kept  # a refusal is kept with it...
    lookups.refused[REFUSED] = (time.monotonic() - 1, kept)  # ...which has now expired
    assert allowed(app, REFUSED) == REFUSED
    assert store.asked == [REFUSED, REFUSED]


def test_per_origin_a_pattern_reload_that_grants_is_never_hidden(
        made: list[CachedOrigins]) -> None:
    rows: list[str] = []
    store = Store(LISTED)
    origins = per_origin(made, store, rows)
    app, _ = app_with(origins)
    for _ in range(3):
        assert allowed(app, REFUSED) is None
    rows.append("https://*.example.net")
    assert origins.refresh()
    assert allowed(app, REFUSED) == REFUSED  # the cached refusal is still fresh
    assert store.asked == [REFUSED]


def test_per_origin_a_close_past_max_stale_answers_afresh(made: list[CachedOrigins]) -> None:
    broken = [False]

    def load() -> list[str]:
        if broken[0]:
            raise ConnectionError("database is down")
        return []

    origins = CachedOrigins(load, lookup=Store(LISTED), ttl=0.05, max_stale=0.3,
                            negative_ttl=3600)
    made.append(origins)
    app, codes = app_with(origins)
    for _ in range(3):
        assert allowed(app, REFUSED) is None
    assert codes == ["origin-not-allowed"] * 3
    broken[0] = True
    wait_until(lambda: origins.state == "closed", timeout=5)
    assert allowed(app, REFUSED) is None
    assert codes[-1] == "origins-closed"  # the closed patterns' reason, not the kept one

