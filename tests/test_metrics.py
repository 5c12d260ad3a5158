"""The ``metrics`` option in one process: exact counts per series (Prometheus and the
OpenTelemetry SDK), hostile traffic adding no series, two apps, start-up errors, and
neither library imported unless chosen. Under gunicorn: tests/test_metrics_workers.py;
a real Prometheus: tests/test_metrics_prometheus.py."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Blueprint, Flask
from prometheus_client import REGISTRY, generate_latest

from flask_crossorigin import CORS, CachedOrigins, ConfigurationError
from flask_crossorigin.metrics import COUNTS, KINDS
from flask_crossorigin.reasons import REASONS

from .metrics_app import (
    API,
    APP,
    EVIL,
    REPORT_ONLY,
    REPORT_ONLY_LABELS,
    REQUEST_LABELS,
    REQUESTS,
    ROOT,
    create_app,
    samples,
    send_mix,
)


@pytest.fixture(autouse=True)
def fresh_counts() -> Iterator[None]:
    COUNTS.clear()
    yield
    COUNTS.clear()


def client_sender(app: Flask) -> Any:
    client = app.test_client()

    def send(method: str, path: str, headers: dict[str, str]) -> int:
        return client.open(path, method=method, headers=headers).status_code

    return send


def scrape() -> str:
    return generate_latest(REGISTRY).decode()


def requests_series() -> dict[tuple[str, ...], float]:
    return samples(scrape(), "flask_crossorigin_requests_total", REQUEST_LABELS)


def report_only_series() -> dict[tuple[str, ...], float]:
    return samples(scrape(), "flask_crossorigin_report_only_total", REPORT_ONLY_LABELS)


def times(table: dict[Any, int], factor: int) -> dict[Any, float]:
    return {key: float(value * factor) for key, value in table.items()}


def test_prometheus_counts_every_kind_and_decision_exactly() -> None:
    send_mix(client_sender(create_app("prometheus")), times=2)
    assert requests_series() == times(REQUESTS, 2)
    assert report_only_series() == times(REPORT_ONLY, 2)
    # Every kind and both decisions are in the mix, and a report-only policy.
    assert {key[0] for key in REQUESTS} == set(KINDS)
    assert {key[1] for key in REQUESTS} == {"granted", "refused"}


def test_a_refused_write_counts_once_as_write_and_a_reported_one_goes_on() -> None:
    send = client_sender(create_app("prometheus"))
    assert send("POST", "/api/items", {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}) == 403
    assert requests_series() == {("write", "refused", API, "write-untrusted"): 1.0}
    COUNTS.clear()
    assert send("POST", "/feedback", {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}) == 200
    assert requests_series() == {
        ("actual", "refused", "resources['/feedback']", "origin-not-allowed"): 1.0}
    assert report_only_series() == {
        ("write", "resources['/feedback']", "write-untrusted"): 1.0}


def test_metrics_off_hands_no_policy_counters_and_counts_nothing() -> None:
    app = create_app(False)
    send_mix(client_sender(app))
    state = app.extensions["crossorigin"]
    assert state.metrics is None
    assert all(policy.metrics is None for _, policy in state.table.entries)
    assert COUNTS.snapshot() == ({}, {})


def test_hostile_traffic_adds_no_series() -> None:
    app = create_app("prometheus")
    send = client_sender(app)
    send_mix(send)

    def hostile(start: int) -> None:
        for n in range(start, start + 300):
            origin = f"https://h{n}.attacker.example"
            path = ["/api/items", "/catalog/list", "/feedback", "/api/widget",
                    "/partner/data"][n % 5]
            headers = {"Origin": origin, "Host": f"host{n}.example",
                       "Access-Control-Request-Method": f"M{n}",
                       "Access-Control-Request-Headers": f"x-h{n}",
                       "Sec-Fetch-Site": "cross-site"}
            method = ["OPTIONS", "GET", "POST", f"VERB{n}"][n % 4]
            send(method, path, headers)

    hostile(0)
    after_first = (set(requests_series()), set(report_only_series()))
    hostile(1000)  # another 300 origins, hosts, methods and header names
    assert (set(requests_series()), set(report_only_series())) == after_first
    policies = {API, "resources['/catalog/*']", "resources['/feedback']",
                "blueprint 'partner' resources['/*']", "@cross_origin on widget"}
    for kind, decision, policy, reason in after_first[0]:
        assert kind in KINDS and decision in ("granted", "refused") and policy in policies
        assert reason in REASONS if decision == "refused" else reason == ""
    for kind, policy, reason in after_first[1]:
        assert kind in KINDS and policy in policies and reason in REASONS
    assert "attacker" not in scrape() and "host1" not in scrape()


def test_two_apps_in_one_process_share_the_counters() -> None:
    first, second = create_app("prometheus"), create_app("prometheus")
    client_sender(first)("GET", "/api/items", {"Origin": APP})
    client_sender(second)("GET", "/api/items", {"Origin": APP})
    assert requests_series() == {("actual", "granted", API, ""): 2.0}
    names = [line for line in scrape().splitlines()
             if line.startswith("# TYPE flask_crossorigin_requests")]
    assert names == ["# TYPE flask_crossorigin_requests_total counter"]


def test_metrics_from_app_config_and_errors_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    app = Flask(__name__)
    app.config["CORS_METRICS"] = "prometheus"
    CORS(app)
    assert app.extensions["crossorigin"].metrics.name == "prometheus"
    for value, says in [("Prometheus", "write 'prometheus' (lowercase)"),
                        (True, "name the library"), ("statsd", "must be False")]:
        with pytest.raises(ConfigurationError) as caught:
            CORS(Flask(__name__), metrics=value)
        assert repr(value) in str(caught.value) and says in str(caught.value)
    app = Flask(__name__)
    app.config["CORS_METRICS"] = "datadog"
    with pytest.raises(ConfigurationError, match=r"CORS_METRICS.*datadog"):
        CORS(app)
    blueprint = Blueprint("b", __name__)
    CORS(blueprint, metrics="prometheus")
    with pytest.raises(ConfigurationError, match="is app-wide"):
        Flask(__name__).register_blueprint(blueprint)
    # A library that is not installed: the error names the extra that installs it.
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ConfigurationError,
                       match=r"prometheus_client, which is not installed; "
                             r"pip install 'flask-crossorigin\[prometheus\]'"):
        CORS(Flask(__name__), metrics="prometheus")
    monkeypatch.setitem(sys.modules, "opentelemetry.metrics", None)
    with pytest.raises(ConfigurationError, match=r"flask-crossorigin\[opentelemetry\]"):
        CORS(Flask(__name__), metrics="opentelemetry")


_IMPORTS = """
import json, sys
sys.path.insert(0, {root!r})
from tests.metrics_app import create_app, send_mix
app = create_app({metrics!r})
client = app.test_client()
send_mix(lambda m, p, h: client.open(p, method=m, headers=h).status_code)
print(json.dumps(sorted({{name.split('.')[0] for name in sys.modules
                         if name.split('.')[0] in ('prometheus_client', 'opentelemetry')}})))
"""


@pytest.mark.parametrize(("metrics", "imported"), [
    (False, []), ("prometheus", ["prometheus_client"]), ("opentelemetry", ["opentelemetry"]),
])
def test_only_the_chosen_library_is_imported(metrics: Any, imported: list[str]) -> None:
    # The mix app's /metrics view imports prometheus_client only when it is asked for.
    code = _IMPORTS.format(root=str(ROOT), metrics=metrics)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout
    assert json.loads(output.splitlines()[-1]) == imported


def test_run_time_origin_sources_are_reported_at_scrape_time() -> None:
    answers: list[Any] = [["https://a.example", "https://b.example"]]

    def load() -> list[str]:
        if isinstance(answers[0], Exception):
            raise answers[0]
        return list(answers[0])

    source = CachedOrigins(load, ttl=3600, max_stale=7200)
    try:
        app = Flask(__name__)
        CORS(app, origins=source, metrics="prometheus")
        text = scrape()
        name = "CachedOrigins(load)"  # as `flask cors origins` shows it
        assert samples(text, "flask_crossorigin_origins", ("source",))[(name,)] == 2.0
        states = samples(text, "flask_crossorigin_origins_state", ("source", "state"))
        assert {key[1]: value for key, value in states.items() if key[0] == name} == {
            "fresh": 1.0, "stale": 0.0, "closed": 0.0}
        loads = samples(text, "flask_crossorigin_origin_loads_total", ("source", "result"))
        assert loads[name, "ok"] == 1.0 and loads[name, "failed"] == 0.0
        answers[0] = RuntimeError("database down")
        assert source.refresh() is False
        text = scrape()
        states = samples(text, "flask_crossorigin_origins_state", ("source", "state"))
        assert states[name, "stale"] == 1.0 and states[name, "fresh"] == 0.0
        loads = samples(text, "flask_crossorigin_origin_loads_total", ("source", "result"))
        assert loads[name, "failed"] == 1.0
    finally:
        source.close()


def test_opentelemetry_sdk_in_memory_reader() -> None:
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    send_mix(client_sender(create_app("opentelemetry")), times=2)
    found: dict[str, dict[tuple[Any, ...], float]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                table = found.setdefault(metric.name, {})
                for point in metric.data.data_points:
                    table[tuple(point.attributes.items())] = point.value
    requests = {tuple(value for _, value in key): value
                for key, value in found["flask_crossorigin.requests"].items()}
    assert requests == times(REQUESTS, 2)
    report_only = {tuple(value for _, value in key): value
                   for key, value in found["flask_crossorigin.report_only"].items()}
    assert report_only == times(REPORT_ONLY, 2)
    assert [key for key, _ in next(iter(found["flask_crossorigin.requests"]))] == list(
        REQUEST_LABELS)


def test_flask_cors_status_says_whether_metrics_are_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask_crossorigin.cli import cli

    def status(app: Flask) -> str:
        result = app.test_cli_runner().invoke(cli, ["status"])
        assert result.exit_code == 0, result.output
        return result.output

    assert "metrics: off (metrics=False)\n" in status(create_app(False))
    assert ("metrics: prometheus (prometheus_client's default registry)\n"
            in status(create_app("prometheus")))
    assert ("metrics: opentelemetry (observable instruments of the global MeterProvider)\n"
            in status(create_app("opentelemetry")))
    output = status(create_app("prometheus"))
    assert ("policies: 3 from the app's resource patterns, 1 from those of 1 blueprints, "
            "1 from @cross_origin\n") in output
    assert "origins loaded at run time: none\n" in output


def test_a_decorator_only_app_counts_with_an_empty_resource_table() -> None:
    from flask_crossorigin import cross_origin

    app = Flask(__name__)
    CORS(app, resources={}, metrics="prometheus")  # as docs/metrics.rst says

    @app.get("/embed")
    @cross_origin(origins=[APP])
    def embed() -> dict[str, bool]:
        return {"ok": True}

    send = client_sender(app)
    assert send("GET", "/embed", {"Origin": APP}) == 200
    assert send("GET", "/embed", {"Origin": EVIL}) == 200
    assert send("GET", "/embed", {}) == 200  # no Origin: not counted
    assert requests_series() == {
        ("actual", "granted", "@cross_origin on embed", ""): 1.0,
        ("actual", "refused", "@cross_origin on embed", "origin-not-allowed"): 1.0}


def test_a_bad_metrics_value_is_listed_with_the_other_problems() -> None:
    with pytest.raises(ConfigurationError) as caught:
        CORS(Flask(__name__), metrics="statsd", max_age=-1)
    assert len(caught.value.problems) == 2
    assert {problem.option for problem in caught.value.problems} == {"metrics", "max_age"}


def test_preflights_the_view_answers_and_report_only_preflights() -> None:
    app = Flask(__name__)
    CORS(app, metrics="prometheus", resources={
        "/own": {"origins": [APP], "automatic_options": False},
        "/tried": {"origins": "*", "report_only": {"origins": [APP]}},
    })

    @app.route("/own", methods=["GET", "PUT", "OPTIONS"])
    def own() -> str:
        return ""

    @app.route("/tried", methods=["GET", "PUT"])
    def tried() -> str:
        return ""

    send = client_sender(app)
    preflight = {"Access-Control-Request-Method": "PUT"}
    assert send("OPTIONS", "/own", {"Origin": APP, **preflight}) == 200  # the view answers
    assert send("OPTIONS", "/own", {"Origin": EVIL, **preflight}) == 200
    assert send("OPTIONS", "/tried", {"Origin": EVIL, **preflight}) == 204
    assert requests_series() == {
        ("preflight", "granted", "resources['/own']", ""): 1.0,
        ("preflight", "refused", "resources['/own']", "origin-not-allowed"): 1.0,
        ("preflight", "granted", "resources['/tried']", ""): 1.0}
    assert report_only_series() == {
        ("preflight", "resources['/tried']", "origin-not-allowed"): 1.0}


def test_every_documented_prometheus_name_is_exported() -> None:
    import re

    documented = re.findall(r"^   \* - ``(flask_crossorigin_\w+)``$",
                            (ROOT / "docs" / "metrics.rst").read_text(), flags=re.MULTILINE)
    assert len(documented) == 5
    source = CachedOrigins(lambda: ["https://a.example"], ttl=3600, max_stale=7200)
    try:
        app = create_app("prometheus")
        CORS(Flask(__name__), origins=source, metrics="prometheus")
        send_mix(client_sender(app))
        exported = {line.split("{")[0].split(" ")[0] for line in scrape().splitlines()
                    if line.startswith("flask_crossorigin_")}
    finally:
        source.close()
    assert set(documented) <= exported, (documented, exported)


def test_lint_warns_when_cors_metrics_is_set_without_the_extension() -> None:
    from flask_crossorigin import cross_origin
    from flask_crossorigin.cli import cli
    from flask_crossorigin.cli.lint import WARNINGS

    app = Flask(__name__)
    app.config["CORS_METRICS"] = "prometheus"

    @app.get("/embed")
    @cross_origin(origins=[APP])
    def embed() -> str:
        return ""

    result = app.test_cli_runner().invoke(cli, ["lint"])
    assert result.exit_code == 1
    assert WARNINGS["metrics-without-extension"].format(value="prometheus") in result.output
    CORS(app, resources={})
    assert "CORS_METRICS" not in app.test_cli_runner().invoke(cli, ["lint"]).output
