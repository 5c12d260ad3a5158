"""A refused origin costs no more than a granted one (issue 23), counted, never timed.

A tracer counts the lines a request executes. When nobody listens (no signal
receiver, the log level off), a refused request formats no reason and logs
nothing; an origin seen before is answered from the policy's memo of answers to
unlisted origins, without parsing it again. That memo is bounded, never holds
what a callable decided, and starts empty with each new set of loaded origins.
"""

from __future__ import annotations

import logging
import sys
import types
from collections import Counter
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from flask import Flask

from flask_crossorigin import CORS, CachedOrigins, request_refused
from flask_crossorigin.policy import UNLISTED_MEMO_ORIGIN_LENGTH, UNLISTED_MEMO_SIZE

PACKAGE = "flask_crossorigin"
LISTED = "https://app.example.com"
REFUSED = "https://evil.example.net"


def make_app(**options: Any) -> Flask:
    app = Flask(__name__)

    @app.route("/api/items")
    def items() -> Any:
        return {"items": [1, 2, 3]}

    settings = {"origins": [LISTED, "https://admin.example.com"],
                "supports_credentials": True, "max_age": 600}
    CORS(app, resources={"/api/*": {**settings, **options}})
    return app


def executed(action: Callable[[], Any]) -> Counter[tuple[str, str]]:
    """Lines executed by ``action``, per (file, function), all code included."""
    counts: Counter[tuple[str, str]] = Counter()

    def local(frame: types.FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            counts[(frame.f_code.co_filename, frame.f_code.co_name)] += 1
        return local

    def global_(frame: types.FrameType, event: str, arg: Any) -> Any:
        return local

    previous = sys.gettrace()
    sys.settrace(global_)
    try:
        action()
    finally:
        sys.settrace(previous)
    return counts


def ours(counts: Counter[tuple[str, str]]) -> Counter[tuple[str, str]]:
    return Counter({key: n for key, n in counts.items() if f"/{PACKAGE}/" in key[0]})


def request_from(client: Any, origin: str) -> Callable[[], Any]:
    def action() -> None:
        response = client.get("/api/items", headers={"Origin": origin})
        assert response.status_code == 200
        granted = "Access-Control-Allow-Origin" in response.headers
        assert granted == (origin != REFUSED)
    return action


@pytest.fixture
def quiet() -> Iterator[None]:
    """The extension's log level off (INFO: refusals are logged at DEBUG)."""
    logger = logging.getLogger(PACKAGE)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(level)


@pytest.mark.parametrize("another_app_listens", [False, True],
                         ids=["no-receiver", "another-app-has-one"])
def test_a_refused_request_does_no_more_work_than_a_granted_one(
        quiet: None, formatted_reasons: list[str], monkeypatch: pytest.MonkeyPatch,
        another_app_listens: bool) -> None:
    # No receiver at all (other tests' apps may have left some: set aside here), or one
    # for another app only.
    monkeypatch.setattr(request_refused, "receivers", {})
    other = Flask("other")

    def receiver(sender: Flask, **details: Any) -> None:
        raise AssertionError("another app's receiver heard this app")

    if another_app_listens:
        request_refused.connect(receiver, other)
    try:
        app = make_app()
        assert not request_refused.has_receivers_for(app)
        client = app.test_client()
        for origin in (LISTED, REFUSED):  # first requests: the one-time work
            request_from(client, origin)()
        granted = executed(request_from(client, LISTED))
        refused = executed(request_from(client, REFUSED))
    finally:
        request_refused.disconnect(receiver, other)
    assert formatted_reasons == []  # no reason was formatted
    # Beyond the granted path, the refused one only asks, inline, whether anybody
    # listens or logs: no origin parsed, no reason built, nothing logged or sent. With
    # no receiver connected anywhere, not even a call into the code that would
    # (_decided, _report, signals.listens); with another app's, _report asks whether
    # one is this app's.
    extra = {function for (_, function) in ours(refused) - ours(granted)}
    asked = {"_report", "listens"} if another_app_listens else set()
    assert extra <= {"actual", "add_cors_headers"} | asked, extra
    assert not any(name.endswith(("origins.py", "reasons.py")) for name, _ in ours(refused))
    assert {function for name, function in ours(refused)
            if name.endswith("signals.py")} == asked & {"listens"}
    # The whole request (Flask and Werkzeug included): a refusal adds fewer header
    # lines, and the extension's extra checks cost less than Werkzeug's copy of those.
    assert sum(refused.values()) <= sum(granted.values()), (
        sum(refused.values()), sum(granted.values()))


def test_the_refusal_is_explained_as_soon_as_somebody_listens(
        formatted_reasons: list[str], caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    client = app.test_client()
    request_from(client, REFUSED)()
    request_from(client, REFUSED)()  # answered from the memo
    assert formatted_reasons == []
    heard: list[dict[str, Any]] = []

    def receiver(sender: Flask, **details: Any) -> None:
        heard.append(details)

    with request_refused.connected_to(receiver, app):
        request_from(client, REFUSED)()
    assert [details["code"] for details in heard] == ["origin-not-allowed"]
    assert "https://evil.example.net" in heard[0]["reason"]
    with caplog.at_level(logging.DEBUG, logger=PACKAGE):
        request_from(client, REFUSED)()
    assert [record.getMessage() for record in caplog.records] == [
        "refused request GET /api/items (resources['/api/*']): the origin "
        "'https://evil.example.net' matches none of the allowed origins of "
        "resources['/api/*']; add it to origins if it should be allowed"]
    assert formatted_reasons == ["origin-not-allowed", "origin-not-allowed"]


def test_an_unlisted_origin_is_checked_once_then_remembered(checks: list[str]) -> None:
    client = make_app(origins=[LISTED, "https://*.example.org"]).test_client()
    for _ in range(3):
        request_from(client, REFUSED)()
        request_from(client, "https://a.example.org")()
        request_from(client, LISTED)()
    assert checks == [REFUSED, "https://a.example.org"]


def test_the_memo_is_bounded_in_entries_and_in_origin_length(checks: list[str]) -> None:
    app = make_app()
    client = app.test_client()
    for i in range(UNLISTED_MEMO_SIZE * 3):
        response = client.get("/api/items", headers={"Origin": f"https://x{i}.evil.example"})
        assert "Access-Control-Allow-Origin" not in response.headers
    policy = app.extensions["crossorigin"].table.entries[0][1]
    assert 0 < len(policy._unlisted) <= UNLISTED_MEMO_SIZE
    long = "https://" + "a" * UNLISTED_MEMO_ORIGIN_LENGTH + ".example"
    checks.clear()
    for _ in range(3):
        client.get("/api/items", headers={"Origin": long})
    assert checks == [long] * 3  # never remembered: checked afresh each time
    assert all(len(origin) <= UNLISTED_MEMO_ORIGIN_LENGTH for _, origin in policy._unlisted)


def test_a_callable_is_asked_on_every_request() -> None:
    answers = iter([False, True, False])
    asked: list[str] = []

    def allow(origin: str) -> bool:
        asked.append(origin)
        return next(answers)

    client = make_app(origins=[allow]).test_client()
    got = [client.get("/api/items", headers={"Origin": REFUSED}).headers
           .get("Access-Control-Allow-Origin") for _ in range(3)]
    assert got == [None, REFUSED, None]
    assert asked == [REFUSED] * 3


def test_policies_sharing_origins_keep_their_own_answers() -> None:
    # Three resources share one compiled set of origins; /b/* and /c/* add the same
    # headers (and share a memo). Each refusal names its own policy, and each grant
    # carries its own policy's headers.
    app = Flask(__name__)
    for name in "abc":
        app.add_url_rule(f"/{name}/x", name, lambda: "ok")
    CORS(app, origins=["https://*.example.org"],
         resources={"/a/*": {"supports_credentials": True}, "/b/*": {}, "/c/*": {}})
    heard: list[str] = []

    def receiver(sender: Flask, **details: Any) -> None:
        assert f"of {details['policy']};" in details["reason"]  # its own policy's reason
        heard.append(details["policy"])

    client = app.test_client()
    with request_refused.connected_to(receiver, app):
        for _ in range(2):
            for path in ("/a/x", "/b/x", "/c/x"):
                client.get(path, headers={"Origin": REFUSED})
    assert heard == ["resources['/a/*']", "resources['/b/*']", "resources['/c/*']"] * 2
    for _ in range(2):
        a_headers = client.get("/a/x", headers={"Origin": "https://w.example.org"}).headers
        b_headers = client.get("/b/x", headers={"Origin": "https://w.example.org"}).headers
        assert a_headers.get("Access-Control-Allow-Credentials") == "true"
        assert "Access-Control-Allow-Credentials" not in b_headers
        assert a_headers["Access-Control-Allow-Origin"] == "https://w.example.org"
        assert b_headers["Access-Control-Allow-Origin"] == "https://w.example.org"


def test_a_new_set_of_loaded_origins_starts_with_no_remembered_answer() -> None:
    rows = [LISTED]
    origins = CachedOrigins(lambda: list(rows), ttl=3600, max_stale=36000)
    try:
        app_one = Flask("one")
        app_two = Flask("two")
        for app in (app_one, app_two):
            app.add_url_rule("/api/items", "items", lambda: "ok")
        # The same policy name over the same loaded set, with other headers.
        CORS(app_one, origins=origins, supports_credentials=True)
        CORS(app_two, origins=origins)
        partner = "https://shop.partner.example"
        for app in (app_one, app_two):
            for _ in range(2):  # refused, then refused from the memo
                response = app.test_client().get("/api/items", headers={"Origin": partner})
                assert "Access-Control-Allow-Origin" not in response.headers
        rows.append("https://*.partner.example")  # not an exact origin: the memo decided
        assert origins.refresh()
        one = app_one.test_client().get("/api/items", headers={"Origin": partner}).headers
        two = app_two.test_client().get("/api/items", headers={"Origin": partner}).headers
        assert one["Access-Control-Allow-Origin"] == partner
        assert one["Access-Control-Allow-Credentials"] == "true"
        assert two["Access-Control-Allow-Origin"] == partner
        assert "Access-Control-Allow-Credentials" not in two
    finally:
        origins.close()
