"""``flask cors origins``, and what ``routes`` and ``check`` say about loaded origins."""

from __future__ import annotations

import json
from typing import Any

import redis
from click.testing import Result
from flask import Flask
from flask.cli import FlaskGroup

from flask_crossorigin import CORS, CachedOrigins, RedisOrigins, cross_origin
from flask_crossorigin.cli import status

A, B = "https://a.example", "https://b.example"


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(FlaskGroup(), args=["cors", *args])



def tenants_app(made: list[CachedOrigins], load: Any) -> Flask:
    def tenant_origins() -> list[str]:
        return load()

    origins = CachedOrigins(tenant_origins, ttl=30, max_stale=300)
    made.append(origins)
    app = Flask(__name__)

    @app.route("/api/data")
    def data() -> str:
        return "ok"

    @app.route("/static-list")
    def static_list() -> str:
        return "ok"

    CORS(app, resources={"/api/*": {"origins": origins}, "/static-list": {"origins": [B]}})
    return app


def test_routes_and_check_say_where_loaded_origins_come_from(made: list[CachedOrigins]) -> None:
    app = tenants_app(made, lambda: [A, "bad entry"])
    rows = {row["rule"]: row for row in json.loads(run(app, "routes", "--json").output)}
    loaded = rows["/api/data"]
    assert loaded["origins"] == ["CachedOrigins(tenant_origins): 1 origins, fresh"]
    line = loaded["origins_loaded"]
    assert line.startswith("CachedOrigins(tenant_origins): 1 origins, 1 entries skipped, fresh, "
                           "last loaded 20")
    assert "ttl 30 s, max_stale 300 s" in line
    assert rows["/static-list"]["origins"] == [B]
    assert rows["/static-list"]["origins_loaded"] is None
    table = run(app, "routes").output
    assert "  Origins        CachedOrigins(tenant_origins): 1 origins, fresh\n" in table

    result = run(app, "check", "/api/data", "--origin", A)
    assert result.exit_code == 0, result.output
    assert "\norigins: CachedOrigins(tenant_origins): 1 origins, 1 entries skipped, fresh" \
        in result.output
    static = run(app, "check", "/static-list", "--origin", B)
    assert "origins:" not in static.output


def test_check_shows_a_closed_policy_and_why(made: list[CachedOrigins]) -> None:
    def down() -> list[str]:
        raise ConnectionError("tenant database unreachable")

    app = tenants_app(made, down)
    result = run(app, "check", "/api/data", "--origin", A)
    # Not "blocked": what a check would say (every origin refused) is not what the app
    # serves once its store answers. One line names the store and what to check.
    assert result.exit_code == status.STORE_UNREACHABLE == 4
    assert result.output == (
        "Error: the origins store CachedOrigins(tenant_origins) could not be reached "
        "(ConnectionError: tenant database unreachable); check that what its load() reads "
        "(a database, a service) is reachable from here\n")
    for command in (["routes"], ["routes", "--json"], ["origins", "list"]):
        assert run(app, *command).exit_code == 4
    # A policy whose origins loaded is checked as before.
    assert run(app, "check", "/static-list", "--origin", B).exit_code == 0


def test_origins_list_shows_cached_origins(made: list[CachedOrigins]) -> None:
    app = tenants_app(made, lambda: [B, A])
    result = run(app, "origins", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("CachedOrigins(tenant_origins): 2 origins")
    assert lines[1:] == [f"  {A}", f"  {B}"]
    refused = run(app, "origins", "add", A)
    assert refused.exit_code == 2  # a usage error, not "blocked"
    assert "Error: no policy of this app uses a RedisOrigins: the origins of " \
           "CachedOrigins(tenant_origins) come from its load(); write the origin where " \
           "load() reads it (your table), then call .invalidate() on it" in refused.output


def test_origins_without_dynamic_origins() -> None:
    app = Flask(__name__)
    CORS(app, origins=[A])
    assert run(app, "origins", "list").output == (
        "no policy of this app loads its origins at run time\n")
    assert run(app, "origins", "add", B).exit_code == 2


def test_origins_add_remove_list_in_redis(redis_server: Any, made: list[CachedOrigins]) -> None:
    store = RedisOrigins(redis_server.url, key="tenants", ttl=3600, max_stale=7200)
    made.append(store)
    app = Flask(__name__)

    @app.route("/view")
    @cross_origin(origins=store)
    def view() -> str:
        return "ok"

    CORS(app, resources={})
    added = run(app, "origins", "add", "https://A.example")
    assert added.exit_code == 0, added.output
    assert added.output == f"added {A} to tenants\n"
    assert redis.Redis.from_url(redis_server.url).smembers("tenants") == {A.encode()}
    listed = run(app, "origins", "list").output.splitlines()
    assert listed[0].startswith("RedisOrigins(set 'tenants' at redis://127.0.0.1:")
    assert "exact origins looked up one by one, 0 patterns loaded" in listed[0]
    # Counted, never listed (a million of them); and how this process's cache does.
    assert listed[1:] == ["  in the store now: 1 exact origins, 0 patterns",
                          "  cached in this process: 1 granted, 0 refused; 0 lookups, "
                          "no requests yet"]
    response = app.test_client().get("/view", headers={"Origin": A})
    assert response.headers["Access-Control-Allow-Origin"] == A

    refused = run(app, "origins", "add", "a.example/")
    assert refused.exit_code == 2
    assert refused.output.endswith(
        "Error: 'a.example/' was not added to tenants: has no scheme; write "
        "'https://a.example'; no browser sends such an Origin\n")
    assert "ignored" not in refused.output
    assert redis.Redis.from_url(redis_server.url).smembers("tenants") == {A.encode()}
    assert run(app, "origins", "add", "--key", "other", B).exit_code == 2

    removed = run(app, "origins", "remove", A)
    assert removed.exit_code == 0 and removed.output == f"removed {A} from tenants\n"
    again = run(app, "origins", "remove", A)  # not there: the answer is no (status 1)
    assert again.exit_code == 1
    assert again.output == f"Error: {A} is not in tenants: nothing was removed\n"
    response = app.test_client().get("/view", headers={"Origin": A})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_origins_list_while_redis_is_down(redis_server: Any, made: list[CachedOrigins]) -> None:
    store = RedisOrigins(redis_server.url, key="tenants", ttl=3600, max_stale=7200)
    made.append(store)
    app = Flask(__name__)

    @app.route("/api")
    def api() -> str:
        return "ok"

    CORS(app, origins=store)
    store.add(A)
    store.add("https://*.tenants.example")
    client = app.test_client()
    for origin in (A, A, A, B):
        client.get("/api", headers={"Origin": origin})
    redis_server.stop()
    result = run(app, "origins", "list")
    assert result.exit_code == 4, result.output
    assert result.output == (
        f"Error: the origins store RedisOrigins(set 'tenants' at {redis_server.url}) could "
        f"not be reached (ConnectionError: Error 111 connecting to 127.0.0.1:"
        f"{redis_server.port}. Connection refused.); check that Redis is running at that "
        "address and that the URL (host, port, database, password) is the app's\n")
