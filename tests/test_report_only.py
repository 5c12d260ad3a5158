"""report_only at request time: mismatches both ways, never a changed response, the signal,
and a log line at most once per (policy, origin, reason) per interval, from a bounded store."""

from __future__ import annotations

import logging
import random
import threading
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify

from flask_crossorigin import CORS, cross_origin, report_only_mismatch
from flask_crossorigin import extension as extension_module
from flask_crossorigin.reasons import Refusal
from flask_crossorigin.report_only import (
    MAX_ENTRIES,
    MAX_KEY_CHARACTERS,
    MAX_LINES,
    MISMATCH_LOG_KEY,
    ORIGIN_KEY_LENGTH,
    MismatchLog,
    mismatch_log,
)

from .conftest import TRUSTED, make_app, preflight

OLD = "https://old.example"  # granted by the enforced policies below, not by the trials
EVIL = "https://evil.example"
ENFORCED = {"origins": [TRUSTED, OLD], "methods": ["GET", "PUT"],
            "allow_headers": ["Content-Type", "X-Token"]}
TRIAL = {"origins": [TRUSTED], "methods": ["GET", "PUT", "DELETE"],
         "allow_headers": ["Content-Type"]}
POLICY = "resources['/*']"
TRIAL_NAME = "resources['/*'].report_only"


@contextmanager
def mismatches(app: Flask) -> Iterator[list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    def receiver(sender: Flask, **details: Any) -> None:
        assert sender is app
        sent.append(details)

    with report_only_mismatch.connected_to(receiver, sender=app):
        yield sent


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def trial_app(clock: Clock | None = None, **options: Any) -> Flask:
    app = make_app(**{**ENFORCED, "report_only": TRIAL, **options})
    if clock is not None:
        app.extensions[MISMATCH_LOG_KEY] = MismatchLog(clock)
    return app


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "flask_crossorigin" and r.levelno == logging.INFO]


@pytest.fixture
def info(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="flask_crossorigin"):
        yield caplog


# -- mismatches, both ways ---------------------------------------------------------------

def test_would_refuse_a_granted_request() -> None:
    app = trial_app()
    with mismatches(app) as sent:
        response = app.test_client().get("/api/data", headers={"Origin": OLD})
    assert response.headers["Access-Control-Allow-Origin"] == OLD  # enforced: granted
    assert sent == [{
        "policy": POLICY,
        "report_only_policy": TRIAL_NAME,
        "mismatch": "would-refuse",
        "code": "origin-not-allowed",
        "reason": Refusal("origin-not-allowed", origin=OLD, policy=TRIAL_NAME).message,
        "origin": OLD,
        "path": "/api/data",
        "method": "GET",
        "preflight": False,
    }]


def test_would_grant_a_refused_request() -> None:
    app = make_app(origins=[TRUSTED], report_only={"origins": [TRUSTED, OLD]})
    with mismatches(app) as sent:
        response = app.test_client().post("/api/data", headers={"Origin": OLD})
    assert "Access-Control-Allow-Origin" not in response.headers
    [details] = sent
    assert details["mismatch"] == "would-grant"
    # The refusal the report-only policy would lift: the enforced policy's.
    assert details["code"] == "origin-not-allowed"
    assert details["reason"] == Refusal("origin-not-allowed", origin=OLD, policy=POLICY).message
    assert details["method"] == "POST"


def test_would_refuse_a_granted_preflight() -> None:
    app = trial_app()
    with mismatches(app) as sent:
        response = app.test_client().options(
            "/api/items/1", headers=preflight(method="PUT", headers="x-token"))
    assert response.status_code == 204
    [details] = sent
    assert (details["mismatch"], details["code"], details["preflight"], details["method"]) == (
        "would-refuse", "headers-not-allowed", True, "PUT")
    assert details["reason"] == (
        "the request header(s) 'x-token' are not in the allow_headers of "
        f"{TRIAL_NAME} (Content-Type); add them to allow_headers")


def test_would_grant_a_refused_preflight() -> None:
    app = trial_app()
    with mismatches(app) as sent:
        response = app.test_client().options("/api/items/1", headers=preflight(method="DELETE"))
    assert response.status_code == 403
    [details] = sent
    assert (details["mismatch"], details["code"], details["method"]) == (
        "would-grant", "method-not-allowed", "DELETE")
    assert f"the methods of {POLICY} (GET, PUT)" in details["reason"]


@pytest.mark.parametrize(("method", "headers"), [
    ("GET", {"Origin": TRUSTED}),                        # both grant
    ("GET", {"Origin": EVIL}),                           # both refuse
    ("GET", {}),                                         # no Origin: not a CORS request
    ("OPTIONS", preflight(origin=None)),                 # neither: Flask's own OPTIONS
    ("OPTIONS", preflight(method="PATCH")),              # both refuse the method
    ("OPTIONS", preflight(origin=OLD, headers="x-evil")),  # both refuse, for other reasons
    ("OPTIONS", preflight(headers="content-type")),      # both grant
])
def test_no_mismatch_when_both_decide_alike(method: str, headers: dict[str, str]) -> None:
    app = trial_app()
    with mismatches(app) as sent:
        app.test_client().open("/api/items/1", method=method, headers=headers)
    assert sent == []


def test_an_answer_the_app_gave_with_an_error_status_is_not_compared() -> None:
    app = Flask(__name__)

    @app.route("/manual", methods=["GET", "OPTIONS"])
    def manual() -> Any:
        return ("not here", 404)

    CORS(app, report_only={"origins": [TRUSTED]})
    with mismatches(app) as sent:
        response = app.test_client().options("/manual", headers=preflight(origin=OLD))
    assert response.status_code == 404 and "Access-Control-Allow-Origin" not in response.headers
    assert sent == []  # no grant either way: the browser refuses a preflight that is not ok


def test_a_response_left_alone_is_not_compared() -> None:
    app = trial_app(intercept_exceptions=False)
    with mismatches(app) as sent:
        response = app.test_client().get("/boom", headers={"Origin": OLD})
    assert response.status_code == 500
    assert sent == []


def test_error_responses_are_compared() -> None:
    app = trial_app()
    with mismatches(app) as sent:
        for path in ("/private", "/boom", "/nowhere"):
            app.test_client().get(path, headers={"Origin": OLD})
    assert [d["path"] for d in sent] == ["/private", "/boom", "/nowhere"]


def test_the_decorator_without_the_extension_reports_too() -> None:
    app = Flask(__name__)

    @app.route("/widget", methods=["GET", "PUT"])
    @cross_origin(origins="*", report_only={"origins": [TRUSTED]})
    def widget() -> Any:
        return jsonify(ok=True)

    client = app.test_client()
    with mismatches(app) as sent:
        actual = client.get("/widget", headers={"Origin": OLD})
        answer = client.options("/widget", headers=preflight(origin=OLD))
    assert actual.headers["Access-Control-Allow-Origin"] == OLD
    assert answer.status_code == 204
    assert [(d["policy"], d["preflight"]) for d in sent] == [
        ("@cross_origin on widget", False), ("@cross_origin on widget", True)]
    assert {d["report_only_policy"] for d in sent} == {"@cross_origin on widget.report_only"}


def test_a_blueprint_s_report_only_policy() -> None:
    blueprint = Blueprint("shop", __name__)

    @blueprint.route("/shop")
    def shop() -> str:
        return "shop"

    CORS(blueprint, report_only={"origins": [TRUSTED]})
    app = Flask(__name__)
    app.register_blueprint(blueprint)
    with mismatches(app) as sent:
        app.test_client().get("/shop", headers={"Origin": OLD})
    [details] = sent
    assert details["report_only_policy"] == "blueprint 'shop' resources['/*'].report_only"


# -- the response never changes -----------------------------------------------------------

def exchanges() -> list[tuple[str, str, dict[str, str]]]:
    """A fixed mix of requests, preflights and error paths, from many kinds of origin."""
    rng = random.Random(13)
    origins = [TRUSTED, OLD, EVIL, "null", "https://trusted.example.", "HTTPS://OLD.EXAMPLE",
               OLD + ":8443", "www.old.example", None]
    paths = ["/api/data", "/api/items/3", "/private", "/boom", "/vary", "/nowhere"]
    found = []
    for _ in range(300):
        origin = rng.choice(origins)
        path = rng.choice(paths)
        if rng.random() < 0.5:
            headers = preflight(origin=origin, method=rng.choice(["GET", "PUT", "DELETE", "put"]),
                                headers=rng.choice([None, "content-type", "x-token", "x-evil"]))
            found.append(("OPTIONS", path, headers))
        else:
            headers = {"Origin": origin} if origin is not None else {}
            found.append((rng.choice(["GET", "POST", "PUT"]), path, headers))
    return found


def answers(app: Flask) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    client = app.test_client()
    return [
        (response.status_code, list(response.headers.items()), response.get_data())
        for method, path, headers in exchanges()
        for response in [client.open(path, method=method, headers=headers)]
    ]


@pytest.mark.parametrize("debug", [False, True])
def test_the_response_is_the_same_without_report_only(
    debug: bool, caplog: pytest.LogCaptureFixture
) -> None:
    without = make_app(**ENFORCED)
    with_trial = trial_app(report_only_interval=0)
    for app in (without, with_trial):
        app.debug = debug  # debug mode: refused preflights say why in their body
        app.config["PROPAGATE_EXCEPTIONS"] = False
    expected = answers(without)
    with caplog.at_level(logging.INFO, logger="flask_crossorigin"), \
            mismatches(with_trial) as sent:
        got = answers(with_trial)
    assert got == expected
    assert len(sent) > 20  # the trial disagreed often, and still changed nothing
    assert {d["mismatch"] for d in sent} == {"would-refuse", "would-grant"}


def test_an_app_without_report_only_never_compares(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any) -> None:
        raise AssertionError("compared without a report-only policy")

    monkeypatch.setattr(extension_module, "compare_report_only", fail)
    app = make_app(**ENFORCED)
    client = app.test_client()
    assert client.get("/api/data", headers={"Origin": OLD}).status_code == 200
    assert client.options("/api/data", headers=preflight(method="DELETE")).status_code == 403
    assert client.options("/api/data", headers=preflight()).status_code == 204
    # ... and the same app with one does.
    monkeypatch.undo()
    with mismatches(trial := trial_app()) as sent:
        trial.test_client().get("/api/data", headers={"Origin": OLD})
    assert len(sent) == 1


# -- the log line ---------------------------------------------------------------------------

def test_the_log_line(info: pytest.LogCaptureFixture) -> None:
    client = trial_app().test_client()
    client.get("/api/data", headers={"Origin": OLD})
    client.options("/api/items/1", headers=preflight(method="DELETE"))
    assert lines(info) == [
        f"report-only: {TRIAL_NAME} would refuse request GET /api/data from '{OLD}', which "
        f"{POLICY} grants: the origin '{OLD}' matches none of the allowed origins of "
        f"{TRIAL_NAME}; add it to origins if it should be allowed",
        f"report-only: {TRIAL_NAME} would grant preflight OPTIONS /api/items/1 from "
        f"'{TRUSTED}', which {POLICY} refuses: the method 'DELETE' is not in the methods of "
        f"{POLICY} (GET, PUT); add it to methods (methods are compared case-sensitively)",
    ]


def test_request_data_cannot_forge_a_log_line(info: pytest.LogCaptureFixture) -> None:
    app = make_app(report_only={"origins": [TRUSTED]})  # enforced: any origin
    app.test_client().get("/api/x%0d%0aINFO forged", environ_overrides={
        "HTTP_ORIGIN": "https://a.example\r\nINFO forged"})
    [line] = lines(info)
    assert "\r" not in line and "\n" not in line
    assert "GET /api/x\\r\\nINFO forged from 'https://a.example\\r\\nINFO forged'" in line


def test_once_per_key_per_interval_and_again_after_it(info: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    app = trial_app(clock, report_only_interval=30)
    client = app.test_client()
    with mismatches(app) as sent:
        for _ in range(3):
            client.get("/api/data", headers={"Origin": OLD})
        clock.now += 29.9
        client.get("/api/data", headers={"Origin": OLD})
        assert len(lines(info)) == 1
        clock.now += 0.1  # 30 seconds after the first line
        client.get("/api/data", headers={"Origin": OLD})
    assert len(sent) == 5  # the signal every time
    logged = lines(info)
    assert len(logged) == 2
    assert "(" not in logged[0].rsplit("allowed", 1)[1]
    assert logged[1].endswith("if it should be allowed (3 more since last logged)")


def test_each_policy_origin_and_reason_has_its_own_key(info: pytest.LogCaptureFixture) -> None:
    app = trial_app(Clock(), origins=[TRUSTED, OLD, "https://older.example"],
                    resources={"/api/*": {}, "/vary": {}})
    client = app.test_client()
    for _ in range(2):
        client.get("/api/data", headers={"Origin": OLD})
        client.get("/api/data", headers={"Origin": "https://older.example"})  # another origin
        client.get("/vary", headers={"Origin": OLD})  # another policy
        client.options("/api/data", headers=preflight(headers="x-token"))  # another reason
        client.options("/api/data", headers=preflight(method="DELETE"))  # the other way
    assert len(lines(info)) == 5


def test_interval_zero_logs_every_mismatch(info: pytest.LogCaptureFixture) -> None:
    client = trial_app(Clock(), report_only_interval=0).test_client()
    for _ in range(5):
        client.get("/api/data", headers={"Origin": OLD})
    assert len(lines(info)) == 5


def test_nothing_is_stored_or_formatted_when_nobody_listens(
    caplog: pytest.LogCaptureFixture, formatted_reasons: list[str]
) -> None:
    app = trial_app()
    with caplog.at_level(logging.WARNING, logger="flask_crossorigin"):
        app.test_client().get("/api/data", headers={"Origin": OLD})
    assert MISMATCH_LOG_KEY not in app.extensions
    assert formatted_reasons == []


# -- the store is bounded, whatever the requests send ---------------------------------------

def flood(app: Flask, origins: list[str]) -> None:
    client = app.test_client()
    for origin in origins:
        response = client.get("/api/data", headers={"Origin": origin})
        assert response.status_code == 200 and "Access-Control-Allow-Origin" in response.headers


def test_a_flood_of_distinct_origins_keeps_the_store_bounded(
    info: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    app = make_app(report_only={"origins": [TRUSTED]}, report_only_interval=3600)  # enforced: *
    app.extensions[MISMATCH_LOG_KEY] = log = MismatchLog(clock)
    origins = [f"https://host{i}.example" for i in range(3 * MAX_ENTRIES)]
    with mismatches(app) as sent:
        for start in range(0, len(origins), MAX_LINES):
            flood(app, origins[start:start + MAX_LINES])
            clock.now += 60  # a new window of lines, well within the interval of each key
            assert len(log) == min(start + MAX_LINES, MAX_ENTRIES)
    assert len(sent) == len(origins)  # every mismatch signalled
    assert len(lines(info)) == len(origins)  # and logged: a new key each time
    assert log.characters <= MAX_KEY_CHARACTERS
    # The newest keys are remembered, the oldest were evicted: their origin logs again.
    flood(app, [origins[-1], origins[0]])
    assert lines(info)[len(origins):] == [lines(info)[0]]


def test_a_flood_within_one_window_logs_at_most_max_lines(
    info: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    app = make_app(report_only={"origins": [TRUSTED]}, report_only_interval=3600)
    app.extensions[MISMATCH_LOG_KEY] = log = MismatchLog(clock)
    count = 5 * MAX_LINES
    with mismatches(app) as sent:
        flood(app, [f"https://host{i}.example" for i in range(count)])
    assert len(sent) == count
    assert len(lines(info)) == MAX_LINES
    assert len(log) == MAX_LINES  # what was held back is counted, not stored
    clock.now += 60
    flood(app, ["https://late.example"])
    logged = lines(info)
    # Every mismatch is accounted for: logged, or counted in the next line.
    assert logged[MAX_LINES] == (
        f"report-only: {count - MAX_LINES} more mismatch lines were not logged (at most "
        f"{MAX_LINES} every 60 seconds); the report_only_mismatch signal is sent for every "
        "mismatch")
    assert "'https://late.example'" in logged[MAX_LINES + 1]
    assert len(logged) == MAX_LINES + 2


def test_long_origins_are_bounded_in_characters() -> None:
    log = MismatchLog(Clock(), max_lines=10**9)
    app = make_app(report_only={"origins": [TRUSTED]})
    app.extensions[MISMATCH_LOG_KEY] = log
    logger = logging.getLogger("flask_crossorigin")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler := logging.NullHandler())
    try:
        flood(app, [f"https://{i}{'a' * 4000}.example" for i in range(MAX_ENTRIES + 200)])
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    # The characters give out first: fewer keys than MAX_ENTRIES, each at most so long.
    assert MAX_KEY_CHARACTERS - 200 < log.characters <= MAX_KEY_CHARACTERS
    assert len(log) < MAX_ENTRIES
    longest = max(len(key[2]) for key in log._entries)
    assert longest == ORIGIN_KEY_LENGTH


def key(i: int, origin_length: int = 40) -> tuple[str, str, str, str]:
    origin = f"https://{i}.".ljust(origin_length, "a")[:ORIGIN_KEY_LENGTH]
    return ("resources['/api/*'].report_only", "would-refuse", origin, "origin-not-allowed")


@pytest.mark.parametrize("origin_length", [30, 4000])
def test_the_store_s_memory_stops_growing(origin_length: int) -> None:
    """Retained memory after 10,000 and after 40,000 distinct keys: the same."""
    log = MismatchLog(Clock(), max_lines=10**9)
    retained = []
    tracemalloc.start()
    try:
        for start, stop in ((0, 10_000), (10_000, 40_000)):
            for i in range(start, stop):
                assert log.admit(key(i, origin_length), 60) is not None
            retained.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert len(log) <= MAX_ENTRIES and log.characters <= MAX_KEY_CHARACTERS
    assert retained[1] <= retained[0] * 1.05 + 4096
    assert retained[1] < 1024 * 1024  # about a few hundred bytes per remembered key


def test_the_characters_count_is_exact_after_evictions() -> None:
    log = MismatchLog(Clock(), max_entries=50, max_characters=10**9, max_lines=10**9)
    for i in range(500):
        log.admit(key(i, 30 + i % 90), 60)
    assert len(log) == 50
    assert log.characters == sum(sum(map(len, k)) for k in log._entries)
    assert min(int(k[2][8:].split(".")[0]) for k in log._entries) == 450  # oldest went first


# -- threads ---------------------------------------------------------------------------------

def test_threads_share_one_store_and_log_each_key_once() -> None:
    clock = Clock()
    log = MismatchLog(clock)
    keys = [key(i) for i in range(40)]
    admitted: list[tuple[int, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        for _ in range(2000):
            found = log.admit(rng.choice(keys), 60)
            if found is not None:
                with lock:
                    admitted.append(found)

    threads = [threading.Thread(target=hammer, args=(seed,)) for seed in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == len(keys)  # each key once in the interval
    clock.now += 60
    repeats = [log.admit(k, 60) for k in keys]
    # Every admission is accounted for: logged, or counted on the key's next line.
    assert len(keys) + sum(r[0] for r in repeats if r is not None) == 16 * 2000
    assert log.characters == sum(sum(map(len, k)) for k in log._entries)


def test_concurrent_requests_each_mismatch_signalled_each_key_logged_once(
    info: pytest.LogCaptureFixture,
) -> None:
    app = trial_app()
    origins = [TRUSTED, OLD, EVIL] + [f"https://t{i}.example" for i in range(10)]
    app = trial_app(origins=origins)
    expected: Counter[str] = Counter()
    plan = [random.Random(5).choice(origins) for _ in range(800)]
    for origin in plan:
        if origin != TRUSTED and origin != EVIL:
            expected[origin] += 1
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def receiver(sender: Flask, **details: Any) -> None:
        with lock:
            counts[details["origin"]] += 1

    def call(origin: str) -> str | None:
        with app.test_client() as client:
            return client.get("/api/data", headers={"Origin": origin}).headers.get(
                "Access-Control-Allow-Origin")

    from concurrent.futures import ThreadPoolExecutor

    with report_only_mismatch.connected_to(receiver, sender=app), \
            ThreadPoolExecutor(max_workers=16) as pool:
        granted = list(pool.map(call, plan))
    assert granted == [origin if origin != EVIL else None for origin in plan]
    assert counts == expected
    logged = Counter(line.split(" from '", 1)[1].split("'", 1)[0] for line in lines(info))
    assert logged == Counter(set(expected))  # each (policy, origin, reason) once
    assert mismatch_log(app) is app.extensions[MISMATCH_LOG_KEY]


def test_a_failing_receiver_leaves_the_response_alone(caplog: pytest.LogCaptureFixture) -> None:
    app = trial_app()

    def broken(sender: Flask, **details: Any) -> None:
        raise RuntimeError("metrics backend down")

    expected = make_app(**ENFORCED).test_client().get("/api/data", headers={"Origin": OLD})
    with report_only_mismatch.connected_to(broken, sender=app), \
            caplog.at_level(logging.ERROR, logger="flask_crossorigin"):
        response = app.test_client().get("/api/data", headers={"Origin": OLD})
    assert (response.status_code, list(response.headers), response.data) == (
        expected.status_code, list(expected.headers), expected.data)
    [record] = [r for r in caplog.records if r.name == "flask_crossorigin"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == (f"report-only: trying {TRIAL_NAME} failed; the response is "
                                   "the enforced policy's, unchanged")
    assert record.exc_info is not None and "metrics backend down" in str(record.exc_info[1])
