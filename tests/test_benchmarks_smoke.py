"""The benchmark's smoke mode runs in-process and produces a complete report.

No timing is asserted: CI machines are shared and noisy. What is checked is
that every scenario ran for every contestant available, the answers passed the
benchmark's own sanity checks, and every figure is a positive number.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("flask_cors", reason="flask-cors is the benchmark's second contestant")

from benchmarks import __main__ as cli  # noqa: E402
from benchmarks import contestants, report, scenarios  # noqa: E402

TARGET_KEYS = {
    "simple_vs_flask_cors",
    "simple_vs_bare",
    "refused_vs_granted",
    "resources_1000_vs_1",
    "origins_1000_vs_1",
    "glob_1000_vs_1",
    "preflight_vs_automatic_options",
    "adversarial_vs_preflight",
    "adversarial_memory",
    "decorator_vs_extension",
    "csrf_safe_method",
    "csrf_write",
    "cached_vs_static_granted",
    "lookup_cached_vs_static_granted",
    "lookup_cached_vs_static_refused",
    "cached_vs_static_refused",
}


@pytest.fixture(scope="module")
def doc():
    return cli.run(["--smoke", "--quiet"])


def test_all_contestants_load(doc):
    assert set(doc["contestants"]) == set(contestants.ALL_KEYS), doc["skipped"]


def test_every_scenario_for_every_contestant(doc):
    names = {s.name for s in scenarios.all_scenarios()}
    expected = {
        "simple_allowed",
        "simple_refused",
        "simple_no_origin",
        "preflight",
        "preflight_adversarial",
        "resources_1",
        "resources_100",
        "resources_1000",
        "origins_1",
        "origins_1000",
        "glob_1",
        "glob_1000",
        "origin_subdomain",
        "origin_regex",
        "decorator",
        "decorator_preflight",
        "report_only",
        "report_only_mismatch",
        "csrf_get",
        "csrf_write",
        "csrf_write_same_origin",
        "csrf_write_refused",
        "origins_10000",
        "origins_10000_refused",
        "origins_cached_10000",
        "origins_cached_10000_refused",
    }
    assert expected <= names
    assert set(doc["scenarios"]) == names
    variants = {s.name for s in scenarios.all_scenarios() if s.variant is not None}
    for name, scenario in doc["scenarios"].items():
        extra = {scenarios.CSRF_VARIANT} if name in variants else set()
        assert set(scenario["contestants"]) == set(doc["contestants"]) | extra, name
        for key, entry in scenario["contestants"].items():
            assert entry["problem"] is None, (name, key, entry["problem"])
            assert entry["median_us"] > 0 and entry["min_us"] > 0, (name, key)
            assert len(entry["samples_us"]) == doc["config"]["rounds"]
            assert all(s > 0 for s in entry["samples_us"])
            assert isinstance(entry["overhead_us"], float)


def test_startup_and_memory(doc):
    for key in (contestants.FLASK_CORS, contestants.CROSSORIGIN):
        for policy in ("policy", "resources_1000", "origins_1000", "resources_100_origins_1000"):
            assert doc["startup"][key][policy]["install_ms"] > 0
            assert doc["startup"][key][policy]["first_request_ms"] > 0
            assert doc["memory"][key][policy] > 0
        for scenario in ("simple_allowed", "preflight", "preflight_adversarial"):
            assert doc["request_memory"][key][scenario] > 0


def test_targets_reported_never_fatal(doc):
    targets = {t["key"]: t for t in doc["targets"]}
    assert set(targets) == TARGET_KEYS
    for t in targets.values():
        # N/A only when a tiny smoke sample makes a denominator <= 0.
        assert t["status"] in {"PASS", "MISS", "N/A"}, t
        assert t["text"] and t["unit"]


def test_text_rst_and_json_outputs(doc):
    text = report.format_text(doc)
    for name in doc["scenarios"]:
        assert name in text
    assert "CHECK FAILED" not in text
    assert report.format_rst(doc).startswith(".. list-table::")
    json.loads(json.dumps(doc))


def test_command_line_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert (
        cli.main(["--smoke", "--quiet", "--no-startup", "--only", "simple_*", "--json", str(out)])
        == 0
    )
    written = json.loads(out.read_text(encoding="utf-8"))
    assert set(written["scenarios"]) == {"simple_allowed", "simple_refused", "simple_no_origin"}
    assert "simple_allowed" in capsys.readouterr().out


def test_adversarial_header_is_64_kib_of_commas_spaces_and_names():
    value = scenarios.adversarial_request_headers()
    assert len(value) == 64 * 1024
    assert set(value) <= set("abcdefghijklmnopqrstuvwxyz0123456789-, ")
    assert ",," in value and " , " in value


def test_the_report_only_scenarios_try_a_report_only_policy_on_crossorigin_only():
    from flask_crossorigin import report_only_mismatch

    found = {s.name: s for s in scenarios.all_scenarios()}
    loaded, _ = contestants.load((contestants.CROSSORIGIN, contestants.FLASK_CORS))
    for contestant in loaded:
        for name, expected in (("report_only", 0), ("report_only_mismatch", 1)):
            scenario = found[name]
            app = scenario.build(contestant)
            sent: list[dict] = []

            def receiver(sender, sent=sent, **details):
                sent.append(details)

            with report_only_mismatch.connected_to(receiver, app):
                response = app.test_client().get(
                    scenario.request.path, headers=dict(scenario.request.headers))
            assert response.headers["Access-Control-Allow-Origin"] == scenario.origin
            mine = contestant.key == contestants.CROSSORIGIN
            assert len(sent) == (expected if mine else 0), (name, contestant.key)


def test_the_csrf_scenarios_pair_the_same_app_with_and_without_the_option():
    found = {s.name: s for s in scenarios.all_scenarios()}
    [ours], _ = contestants.load((contestants.CROSSORIGIN,))
    for name, status in (("csrf_write", 200), ("csrf_write_refused", 403),
                         ("csrf_get", 200), ("csrf_write_same_origin", 200)):
        scenario = found[name]
        assert scenario.variant is not None
        request = scenario.request
        plain, protected = scenario.build(ours), scenario.variant(ours)
        responses = [app.test_client().open(request.path, method=request.method,
                                            headers=dict(request.headers))
                     for app in (plain, protected)]
        assert [r.status_code for r in responses] == [200, status], name


def test_the_csrf_figures_are_reported(doc):
    for name in ("csrf_get", "csrf_write"):
        entry = doc["scenarios"][name]["contestants"][scenarios.CSRF_VARIANT]
        for field in ("extra_us", "hooks_extra_us", "hooks_extra_q1_us", "hooks_extra_q3_us"):
            assert isinstance(entry[field], float), (name, field)
    assert "csrf_protection=True" in report.format_text(doc)
    assert "csrf_protection=True" in report.format_rst(doc)


def test_the_baseline_comparison_runs(capsys):
    from benchmarks import baseline

    assert baseline.main(["--ref", "HEAD", "--smoke", "--only", "simple_allowed"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "baseline HEAD at" in lines[0]
    assert lines[1].startswith("scenario") and "paired" in lines[1]
    assert lines[2].startswith("simple_allowed") and "[" in lines[2]


def test_metrics_rows_for_every_mode(doc):
    """metrics='prometheus' (one process and multiprocess) and 'opentelemetry', each
    measured in a process of its own, for every request of the table."""
    from benchmarks import metrics

    assert set(doc["metrics"]) == set(metrics.MODES)
    for rows in doc["metrics"].values():
        assert set(rows) == set(metrics.REQUESTS)
        for figures in rows.values():
            assert set(figures) == {"median_us", "q1_us", "q3_us"}
            assert all(isinstance(value, float) for value in figures.values())
    assert "prometheus_multiprocess" in metrics.format_text(doc["metrics"])
