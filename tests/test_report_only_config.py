"""report_only: validated at start-up like any policy, wherever it is set, and merged over
the policy it shadows."""

from __future__ import annotations

import math
import warnings
from datetime import timedelta
from typing import Any

import pytest
from flask import Blueprint, Flask

from flask_crossorigin import CORS, ConfigurationError, ConfigurationWarning, Policy, cross_origin
from flask_crossorigin.extension import EXTENSION_KEY, CrossOriginState

from .conftest import make_app

A = "https://a.example"
B = "https://b.example"


def problems_of(build: Any) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        build()
    return [str(problem) for problem in caught.value.problems]


def state(app: Flask) -> CrossOriginState:
    found: CrossOriginState = app.extensions[EXTENSION_KEY]
    return found


def policy_at(app: Flask, path: str) -> Policy:
    policy = state(app).policy_for(path, None, [])
    assert policy is not None
    return policy


def with_config(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    return app


def decorated(**options: Any) -> None:
    @cross_origin(**options)
    def view() -> str:
        return ""


def blueprint_app(**options: Any) -> None:
    blueprint = Blueprint("bp", __name__)
    CORS(blueprint, **options)
    Flask(__name__).register_blueprint(blueprint)


# -- where a problem comes from ----------------------------------------------------------

BAD = {"max_age": -1}


@pytest.mark.parametrize(("build", "where"), [
    (lambda: CORS(Flask(__name__), report_only=BAD), "CORS().report_only"),
    (lambda: CORS().init_app(Flask(__name__), report_only=BAD), "CORS().report_only"),
    (lambda: CORS(Flask(__name__), resources={"/api/*": {"report_only": BAD}}),
     "resources['/api/*'].report_only"),
    (lambda: CORS(with_config(CORS_REPORT_ONLY=BAD)), "app.config['CORS_REPORT_ONLY']"),
    (lambda: decorated(report_only=BAD), "@cross_origin().report_only"),
    (lambda: blueprint_app(report_only=BAD), "blueprint 'bp' CORS().report_only"),
])
def test_a_problem_names_where_the_report_only_dict_was_set(build: Any, where: str) -> None:
    assert problems_of(build) == [f"{where}: max_age=-1: must not be negative"]


@pytest.mark.parametrize("options", [
    {"origins": "https://*.github.io"},
    {"origins": "http://localhost:*"},
    {"methods": ["GET", "P UT"]},
    {"allow_headers": ["X-Bad\r\nSet-Cookie: a"]},
    {"max_age": 10**9},
    {"supports_credentials": "yes"},
    {"expose_headers": 5},
])
def test_report_only_options_get_the_same_messages_as_enforced_ones(
    options: dict[str, Any],
) -> None:
    enforced = problems_of(lambda: CORS(Flask(__name__), **options))
    tried = problems_of(lambda: CORS(Flask(__name__), report_only=options))
    assert tried == [problem.replace("CORS():", "CORS().report_only:", 1)
                     for problem in enforced]


@pytest.mark.parametrize(("report_only", "expected"), [
    ([A], "CORS(): report_only=['https://a.example']: must be a dict of policy options, "
          "e.g. {'origins': [...]}, or None"),
    ({"orgins": [A]}, "CORS().report_only: orgins=['https://a.example']: is not an option; "
                      "did you mean 'origins'?"),
    ({"resources": {}}, "CORS().report_only: resources={}: is not an option"),
    ({"report_only": {}}, "CORS().report_only: report_only={}: a report-only policy has no "
                          "report-only policy of its own"),
    ({"report_only_interval": 5}, "CORS().report_only: report_only_interval=5: set it beside "
                                  "report_only, not inside it"),
])
def test_a_report_only_value_that_is_no_policy(report_only: Any, expected: str) -> None:
    [problem] = problems_of(lambda: CORS(Flask(__name__), report_only=report_only))
    assert problem.startswith(expected)


def test_every_problem_at_once_enforced_and_report_only() -> None:
    problems = problems_of(lambda: CORS(
        Flask(__name__), max_age=-1,
        resources={"/api/*": {"report_only": {"methods": "P UT", "origin": A}}},
    ))
    assert problems == [
        "CORS(): max_age=-1: must not be negative",
        "resources['/api/*'].report_only: origin='https://a.example': is not an option; "
        "did you mean 'origins'?",
        "resources['/api/*'].report_only: methods=['P UT']: 'P UT' not a valid HTTP token "
        "(letters, digits and !#$%&'*+-.^_`|~; no spaces, commas or line breaks)",
    ]


def test_an_inherited_problem_is_reported_once() -> None:
    # The bad max_age is the enforced policy's: the report-only policy inherits it.
    problems = problems_of(lambda: CORS(Flask(__name__), max_age=-1, report_only={"origins": [A]}))
    assert problems == ["CORS(): max_age=-1: must not be negative"]


def test_a_conflict_only_the_merge_creates_names_both_places() -> None:
    problems = problems_of(lambda: CORS(
        Flask(__name__), origins=[A], supports_credentials=True, report_only={"origins": "*"}))
    assert len(problems) == 1
    assert problems[0].startswith(
        "CORS().report_only (merged with CORS()): supports_credentials=True: cannot be "
        "combined with origins='*'")


def test_a_conflict_inside_the_report_only_dict_names_it() -> None:
    problems = problems_of(lambda: CORS(
        Flask(__name__), report_only={"supports_credentials": True}))
    assert problems[0].startswith(
        "CORS().report_only: supports_credentials=True: cannot be combined with origins='*' "
        "(the default)")


def test_the_decorator_checks_conflicts_once_app_config_is_known() -> None:
    @cross_origin(report_only={"supports_credentials": True})
    def view() -> str:
        return ""

    app = Flask(__name__)
    app.add_url_rule("/v", "v", view)
    with pytest.raises(ConfigurationError, match=r"@cross_origin\(\)\.report_only: "
                                                 r"supports_credentials=True"):
        CORS(app, resources={})
    app = Flask(__name__)
    app.config["CORS_ORIGINS"] = [A]
    app.add_url_rule("/v", "v", view)
    CORS(app, resources={})  # CORS_ORIGINS supplies the listed origins credentials need


@pytest.mark.parametrize("value", [-1, "soon", True, math.nan, math.inf, timedelta(seconds=-5),
                                   [60]])
def test_a_bad_interval(value: Any) -> None:
    [problem] = problems_of(lambda: CORS(Flask(__name__), report_only_interval=value))
    assert problem.startswith(f"CORS(): report_only_interval={value!r}: must be a")


@pytest.mark.parametrize(("value", "seconds"), [
    (0, 0.0), (2.5, 2.5), ("30", 30.0), (timedelta(minutes=2), 120.0), (86400 * 7, 604800.0),
])
def test_an_interval(value: Any, seconds: float) -> None:
    app = make_app(report_only={"origins": [A]}, report_only_interval=value)
    assert policy_at(app, "/api/data").report_only_interval == seconds


def test_the_interval_from_config_and_its_default() -> None:
    assert policy_at(make_app(), "/x").report_only_interval == 60.0
    app = with_config(CORS_REPORT_ONLY_INTERVAL=5, CORS_REPORT_ONLY={"origins": [A]})
    CORS(app)
    assert policy_at(app, "/x").report_only_interval == 5.0


# -- warnings ------------------------------------------------------------------------------

def caught_warnings(build: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build()
    return [str(w.message) for w in caught if issubclass(w.category, ConfigurationWarning)]


def test_an_inherited_ineffective_origin_warns_once() -> None:
    found = caught_warnings(lambda: CORS(
        Flask(__name__), origins=["https://a.example/"], report_only={"methods": ["GET"]}))
    assert len(found) == 1 and found[0].startswith("CORS(): origins='https://a.example/'")


def test_the_report_only_policy_s_own_ineffective_origin_warns_with_its_place() -> None:
    found = caught_warnings(lambda: CORS(
        Flask(__name__), resources={"/api/*": {"report_only": {"origins": ["a.example"]}}}))
    assert len(found) == 1
    assert found[0].startswith("resources['/api/*'].report_only: origins='a.example': ")


# -- merging -------------------------------------------------------------------------------

def test_report_only_is_merged_over_the_policy_it_shadows() -> None:
    app = make_app(origins=[A, B], methods=["GET", "PUT"], allow_headers=["X-Token"],
                   supports_credentials=True, max_age=600,
                   report_only={"origins": [A]})
    policy = policy_at(app, "/api/data")
    trial = policy.report_only
    assert trial is not None
    assert trial.name == "resources['/*'].report_only"
    assert trial.origins.exact == frozenset({A})
    for option in ("methods", "allow_headers", "supports_credentials", "max_age"):
        assert trial.settings[option] == policy.settings[option], option
    assert policy.origins.exact == frozenset({A, B})  # the enforced policy is unchanged
    assert policy.settings["report_only"] == {"origins": [A]}
    assert trial.report_only is None


def test_a_resource_entry_s_report_only_replaces_the_app_s() -> None:
    app = make_app(
        origins=[A, B], report_only={"origins": [A]},
        resources={"/api/*": {"report_only": {"methods": ["GET"]}}, "/other/*": {},
                   "/off/*": {"report_only": None}},
    )
    api = policy_at(app, "/api/data").report_only
    assert api is not None
    assert api.name == "resources['/api/*'].report_only"
    assert api.origins.exact == frozenset({A, B})  # not the app's report-only origins
    assert api.methods == frozenset({"GET"})
    other = policy_at(app, "/other/x").report_only
    assert other is not None and other.origins.exact == frozenset({A})
    assert policy_at(app, "/off/x").report_only is None


def test_report_only_from_config_and_keyword_precedence() -> None:
    app = with_config(CORS_ORIGINS=[A, B], CORS_REPORT_ONLY={"origins": [B]})
    CORS(app)
    trial = policy_at(app, "/x").report_only
    assert trial is not None and trial.origins.exact == frozenset({B})
    app = with_config(CORS_ORIGINS=[A, B], CORS_REPORT_ONLY={"origins": [B]})
    CORS(app, report_only={"origins": [A]})
    trial = policy_at(app, "/x").report_only
    assert trial is not None and trial.origins.exact == frozenset({A})


def test_the_decorator_s_report_only_is_merged_over_app_config() -> None:
    app = with_config(CORS_ORIGINS=[A, B], CORS_MAX_AGE=30)

    @app.route("/v")
    @cross_origin(report_only={"origins": [A]})
    def v() -> str:
        return ""

    CORS(app, resources={})
    policy = state(app).view_policy("v")
    assert policy is not None and policy.report_only is not None
    assert policy.report_only.name == "@cross_origin on v.report_only"
    assert policy.origins.exact == frozenset({A, B})
    assert policy.report_only.origins.exact == frozenset({A})
    assert policy.report_only.settings["max_age"] == 30


def test_a_blueprint_s_report_only() -> None:
    blueprint = Blueprint("bp", __name__)

    @blueprint.route("/b")
    def b() -> str:
        return ""

    CORS(blueprint, report_only={"origins": [A]})
    app = Flask(__name__)
    app.register_blueprint(blueprint)
    policy = state(app).policy_for("/b", "bp.b", ["bp"])
    assert policy is not None and policy.report_only is not None
    assert policy.report_only.name == "blueprint 'bp' resources['/*'].report_only"


def test_no_report_only_policy_anywhere_by_default() -> None:
    app = make_app(resources={"/api/*": {}, "/other/*": {"origins": [A]}})
    for _, policy in state(app).table.entries:  # type: ignore[union-attr]
        assert policy.report_only is None
        assert policy.settings["report_only"] is None
