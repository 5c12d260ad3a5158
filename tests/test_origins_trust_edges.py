"""Run-time origins at the edges of their promises (issue 22): ``null`` is never loaded
or added, whatever ``add()`` stored ``remove()`` removes, a Redis password never
reaches output, logs or errors, and ``max_stale`` closes where no thread runs."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import Result
from flask import Flask
from flask.cli import FlaskGroup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_crossorigin import CORS, CachedOrigins, ConfigurationError, RedisOrigins
from flask_crossorigin.cached_origins import entry_problems
from flask_crossorigin.redis_origins import canonical_entry

from .test_cached_origins import A, B, app_with, grant

SECRET = "s3cret-Pa55word"



def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(FlaskGroup(), args=["cors", *args])


# -- null ---------------------------------------------------------------------------------

@pytest.mark.parametrize("entry", ["null", " null\n"])
def test_entry_problems_says_why_null_is_never_trusted(entry: str) -> None:
    [message] = entry_problems(entry)
    assert "'null' cannot be loaded" in message and "sandboxed iframes" in message


def test_a_loaded_null_is_skipped_and_logged_once(
        made: list[CachedOrigins], caplog: pytest.LogCaptureFixture) -> None:
    origins = CachedOrigins(lambda: ["null", A], ttl=3600, max_stale=7200)
    made.append(origins)
    app = app_with(origins, supports_credentials=True)
    with caplog.at_level(logging.WARNING, "flask_crossorigin"):
        origins.refresh()
        origins.refresh()
    assert grant(app, "null") is None
    response = app.test_client().get("/api/data", headers={"Origin": "null"})
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert grant(app, A) == A
    skipped = [r.getMessage() for r in caplog.records
               if "skipped the loaded entry" in r.getMessage()]
    assert len(skipped) == 1 and "'null'" in skipped[0] and "sandboxed" in skipped[0]
    assert origins.describe()["skipped"] == 1


def test_redis_add_and_the_cli_refuse_null(redis_server: Any, made: list[CachedOrigins]) -> None:
    store = RedisOrigins(redis_server.url, ttl=3600, max_stale=7200)
    made.append(store)
    with pytest.raises(ConfigurationError, match="'null' cannot be loaded"):
        store.add("null")
    app = Flask(__name__)
    CORS(app, origins=store)
    result = run(app, "origins", "add", "null")
    assert result.exit_code == 2 and "'null' cannot be loaded" in result.output
    assert redis.Redis.from_url(redis_server.url).smembers(store.key) == set()


# -- one canonical form -------------------------------------------------------------------

def case_variants(text: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(text, upper)))


ENTRIES = ["https://tenant.example", "http://shop.example:8080", "https://*.tenants.example",
           "wss://*.live.example:8443", r"https://[a-z]+\.regions\.example"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_remove_of_any_spelling_add_accepts_removes_what_add_stored(
        redis_server: Any, data: st.DataObject) -> None:
    client = redis.Redis.from_url(redis_server.url)
    store = RedisOrigins(client, key="canonical", ttl=3600, max_stale=7200)
    try:
        entry = data.draw(st.sampled_from(ENTRIES))
        added, removed = data.draw(case_variants(entry)), data.draw(case_variants(entry))
        padding = data.draw(st.sampled_from(["", " ", "\n"]))
        if re.search(r"\[", entry):  # a regex: case is meaning, so only the padding varies
            added, removed = entry, entry + padding
        else:
            removed = padding + removed
        stored = store.add(added)
        assert client.sunion("canonical", "canonical:patterns") == {stored.encode()}
        assert stored == canonical_entry(removed) == canonical_entry(re.compile(
            stored) if "[" in entry else stored)
        assert store.remove(removed) is True
        assert client.sunion("canonical", "canonical:patterns") == set()
    finally:
        client.delete("canonical", "canonical:patterns")
        store.close()


def test_a_regex_in_another_case_is_another_regex(
        redis_server: Any, made: list[CachedOrigins]) -> None:
    store = RedisOrigins(redis_server.url, ttl=3600, max_stale=7200)
    made.append(store)
    regex = r"https://[a-z]+\.regions\.example"
    assert store.add(re.compile(regex)) == regex  # a compiled regex is stored as its pattern
    assert store.remove(regex.upper()) is False
    assert store.list() == [regex]
    assert store.remove(re.compile(regex)) is True and store.list() == []


def test_a_wildcard_stored_before_canonical_forms_is_still_removed(
        redis_server: Any, made: list[CachedOrigins]) -> None:
    client = redis.Redis.from_url(redis_server.url)
    client.sadd("legacy", "https://*.Tenants.example")  # as an older add() stored it
    store = RedisOrigins(client, key="legacy", ttl=3600, max_stale=7200)
    made.append(store)
    assert store.remove("https://*.Tenants.example") is True
    assert client.smembers("legacy") == set()


# -- secrets ------------------------------------------------------------------------------

@pytest.fixture
def password_redis(tmp_path: Path) -> Iterator[Any]:
    from .redis_server import RedisServer

    server = RedisServer(tmp_path, "--requirepass", SECRET)
    server.start()
    yield server
    server.stop()


def secret_app(url: str, made: list[CachedOrigins]) -> Flask:
    store = RedisOrigins(url, key="tenants", ttl=3600, max_stale=7200, load_timeout=2)
    made.append(store)
    app = Flask(__name__)

    @app.route("/api/data")
    def data() -> str:
        return "ok"

    CORS(app, resources={"/api/*": {"origins": store}})
    return app


@pytest.mark.parametrize("where", ["query", "user-info"])
def test_a_redis_password_never_reaches_output_logs_or_errors(
        password_redis: Any, made: list[CachedOrigins], where: str,
        caplog: pytest.LogCaptureFixture) -> None:
    port = password_redis.port

    def url(password: str) -> str:
        if where == "query":
            return f"redis://127.0.0.1:{port}/0?password={password}"
        return f"redis://:{password}@127.0.0.1:{port}/0"

    wrong = "Wr0ng-" + SECRET
    outputs: list[str] = []
    with caplog.at_level(logging.DEBUG, "flask_crossorigin"):
        good = secret_app(url(SECRET), made)
        assert run(good, "origins", "add", A).exit_code == 0
        assert grant(good, A) == A
        bad = secret_app(url(wrong), made)  # refused by the server: every load fails
        assert grant(bad, A) is None
        for app in (good, bad):
            store = made[-1] if app is bad else made[-2]
            outputs.append(repr(store.describe()))
            outputs.append(repr(store))
            for args in (("routes",), ("routes", "--json"), ("origins", "list"),
                         ("check", "/api/data", "--origin", A)):
                outputs.append(run(app, *args).output)
        assert "AuthenticationError" in made[-1].describe()["error"]
        password_redis.stop()  # connection errors, in the channel's log and in loads
        made[-2].refresh()
        time.sleep(0.3)
        outputs.append(run(good, "origins", "list").output)
        outputs.append(repr(made[-2].describe()))
        with pytest.raises(redis.RedisError) as raised:
            made[-2].add(B)
        outputs.append(str(raised.value))
        outputs.append(repr(raised.value))
    outputs += [record.getMessage() for record in caplog.records]
    outputs += [str(record.exc_info[1]) for record in caplog.records if record.exc_info]
    text = "\n".join(outputs)
    assert "127.0.0.1" in text and "***" in text  # the outputs are there...
    assert "ConnectionError" in text
    assert SECRET not in text and wrong not in text  # ...without the password
    assert "s3cret" not in text.lower()


# -- max_stale without a thread ----------------------------------------------------------

def test_max_stale_closes_on_time_where_no_reloading_thread_runs(
        made: list[CachedOrigins]) -> None:
    """As in a process forked without Python's fork hook, before its first request
    started a thread: nothing but the request path is there to close the set."""
    rows: list[str] = [A]

    def load() -> list[str]:
        if not rows:
            raise ConnectionError("the tenant database is down")
        return list(rows)

    origins = CachedOrigins(load, ttl=0.2, max_stale=0.6)
    made.append(origins)
    app = app_with(origins)
    assert grant(app, A) == A
    origins.close()  # no thread any more
    rows.clear()
    time.sleep(0.7)
    assert grant(app, A) is None
    assert origins.state == "closed"


def test_a_process_that_is_not_the_one_that_started_the_thread_starts_its_own(
        made: list[CachedOrigins]) -> None:
    """What a worker forked without Python's fork hook sees: a ``pid`` that is not its own."""
    rows: list[str] = [A]
    origins = CachedOrigins(lambda: list(rows), ttl=0.1, max_stale=60)
    made.append(origins)
    app = app_with(origins)
    parent_thread = origins._thread
    assert parent_thread is not None
    origins._stopped = True  # the parent's thread is gone, as after a C fork...
    origins._wake.set()
    parent_thread.join(5)
    origins._stopped = False
    origins.live.pid = -1  # ...and this process is not the one that started it
    rows.append(B)
    time.sleep(0.3)
    assert grant(app, B) is None or origins._thread is not parent_thread
    grant(app, A)  # the first request notices
    assert origins._thread is not None and origins._thread is not parent_thread
    assert origins._thread.is_alive()
    deadline = time.monotonic() + 2
    while grant(app, B) != B and time.monotonic() < deadline:
        time.sleep(0.05)
    assert grant(app, B) == B
