"""A view's ``@cross_origin`` policy is found wherever the decorator sits, never replaced.

One table of the shapes a decorated view takes in real apps (wrappers with and
without ``functools.wraps``, class-based views, blueprints, ``add_url_rule``,
async views, one URL shared by several views), each run with and without
``CORS(app)``. The app-wide policy admits ``APP`` and ``ADMIN`` with
credentials; every decorator admits ``ADMIN`` only, for the method ``method``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.views import MethodView, View

from flask_crossorigin import CORS, ConfigurationError, cross_origin

from .conftest import preflight

# Alone, several shapes warn at their first request that Flask answers their preflights
# (tested below, with every warning recorded).
pytestmark = pytest.mark.filterwarnings(
    r"ignore:without CORS\(app\), the preflights:flask_crossorigin.ConfigurationWarning")

ADMIN = "https://admin.example"
APP = "https://app.example"
EVIL = "https://evil.example"
ACAO = "Access-Control-Allow-Origin"


def nowraps(view: Callable[..., Any]) -> Callable[..., Any]:
    """An audit wrapper that copies nothing from the view (no functools.wraps)."""
    def audited(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)
    return audited


def wraps(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def timed(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)
    return timed


class Audit:
    """A class-based wrapper holding the view in an attribute."""

    def __init__(self, view: Callable[..., Any]) -> None:
        self.view = view
        self.__name__ = "audit_" + view.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.view(*args, **kwargs)


def admin_only() -> Callable[[Any], Any]:
    return cross_origin(origins=[ADMIN], supports_credentials=True,
                        methods=["GET", "PUT", "DELETE"])


def plain(app: Flask) -> None:
    @app.route("/v", methods=["GET", "PUT"])
    @admin_only()
    def v() -> str:
        return "v"


def asynchronous(app: Flask) -> None:
    @app.route("/v", methods=["GET", "PUT"])
    @admin_only()
    async def v() -> str:
        return "v"


def under_wraps(app: Flask) -> None:
    @app.route("/v", methods=["GET", "PUT"])
    @wraps
    @admin_only()
    def v() -> str:
        return "v"


def under_nowraps(app: Flask) -> None:
    @app.route("/v", methods=["GET", "PUT"])
    @nowraps
    @admin_only()
    def v() -> str:
        return "v"


def under_two_nowraps(app: Flask) -> None:
    @app.route("/v", methods=["GET", "PUT"], endpoint="v")
    @nowraps
    @wraps
    @nowraps
    @admin_only()
    def v() -> str:
        return "v"


def under_a_class(app: Flask) -> None:
    @app.route("/v", methods=["GET", "PUT"])
    @Audit
    @admin_only()
    def v() -> str:
        return "v"


def above_nowraps(app: Flask) -> None:
    @app.route("/v", methods=["GET", "PUT"])
    @admin_only()
    @nowraps
    def v() -> str:
        return "v"


def method_view(app: Flask) -> None:
    class Account(MethodView):
        def get(self) -> str:
            return "get"

        @admin_only()
        def delete(self) -> str:
            return "deleted"

    app.add_url_rule("/v", view_func=Account.as_view("v"))


def method_view_async(app: Flask) -> None:
    class Account(MethodView):
        def get(self) -> str:
            return "get"

        @admin_only()
        async def delete(self) -> str:
            return "deleted"

    app.add_url_rule("/v", view_func=Account.as_view("v"))


def class_decorators(app: Flask) -> None:
    class Account(MethodView):
        decorators = [admin_only()]

        def get(self) -> str:
            return "get"

        def put(self) -> str:
            return "put"

    app.add_url_rule("/v", view_func=Account.as_view("v"))


def class_decorators_nowraps(app: Flask) -> None:
    class Account(MethodView):
        decorators = [admin_only(), nowraps]

        def get(self) -> str:
            return "get"

        def put(self) -> str:
            return "put"

    app.add_url_rule("/v", view_func=Account.as_view("v"))


def dispatch_request(app: Flask) -> None:
    class Page(View):
        methods = ["GET", "PUT"]

        @admin_only()
        def dispatch_request(self) -> str:
            return "page"

    app.add_url_rule("/v", view_func=Page.as_view("v"))


def blueprint(app: Flask) -> None:
    bp = Blueprint("bp", __name__)

    @bp.route("/v", methods=["GET", "PUT"])
    @admin_only()
    def v() -> str:
        return "v"

    app.register_blueprint(bp)


def add_url_rule(app: Flask) -> None:
    def v() -> str:
        return "v"

    app.add_url_rule("/v", "v", admin_only()(v), methods=["GET", "PUT"])


def same_url(app: Flask) -> None:
    @app.get("/v")
    def read() -> str:
        return "read"

    @app.put("/v")
    @admin_only()
    def write() -> str:
        return "write"


@dataclass(frozen=True)
class Shape:
    build: Callable[[Flask], None]
    method: str  # a method the decorator covers
    other: str | None  # a method of the view it does not cover (the app policy's)
    alone_preflights: bool  # whether Flask routes the preflights to the decorator alone


SHAPES = {
    "plain": Shape(plain, "PUT", None, True),
    "async": Shape(asynchronous, "PUT", None, True),
    "under functools.wraps": Shape(under_wraps, "PUT", None, True),
    "under a wrapper without wraps": Shape(under_nowraps, "PUT", None, False),
    "under three wrappers": Shape(under_two_nowraps, "PUT", None, False),
    "under a class-based wrapper": Shape(under_a_class, "PUT", None, False),
    "above a wrapper without wraps": Shape(above_nowraps, "PUT", None, True),
    "MethodView, one method": Shape(method_view, "DELETE", "GET", False),
    "MethodView, one async method": Shape(method_view_async, "DELETE", "GET", False),
    "MethodView decorators=[...]": Shape(class_decorators, "PUT", None, False),
    "MethodView decorators=[..., nowraps]": Shape(class_decorators_nowraps, "PUT", None, False),
    "View.dispatch_request": Shape(dispatch_request, "PUT", None, False),
    "blueprint": Shape(blueprint, "PUT", None, True),
    "add_url_rule(view_func=...)": Shape(add_url_rule, "PUT", None, True),
    "same URL, undecorated GET first": Shape(same_url, "PUT", "GET", False),
}


def build(shape: Shape, extension: bool) -> Flask:
    app = Flask(__name__)
    shape.build(app)
    if extension:
        CORS(app, origins=[APP, ADMIN], supports_credentials=True)
    return app


def granted(response: Any) -> str | None:
    return response.headers.get(ACAO)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", SHAPES)
def test_with_the_extension_the_decorators_policy_decides(name: str) -> None:
    shape = SHAPES[name]
    client = build(shape, extension=True).test_client()
    admin = client.options("/v", headers=preflight(origin=ADMIN, method=shape.method))
    assert admin.status_code == 204
    assert granted(admin) == ADMIN
    for origin in (APP, EVIL):  # APP is the app policy's, never the view's
        refused = client.options("/v", headers=preflight(origin=origin, method=shape.method))
        assert refused.status_code == 403, origin
        assert granted(refused) is None
        assert granted(client.open("/v", method=shape.method, headers={"Origin": origin})) is None
    actual = client.open("/v", method=shape.method, headers={"Origin": ADMIN})
    assert actual.status_code == 200
    assert granted(actual) == ADMIN


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("origin", [ADMIN, APP, EVIL, None])
def test_adding_the_extension_never_changes_what_the_view_admits(
    name: str, origin: str | None
) -> None:
    shape = SHAPES[name]
    headers = {"Origin": origin} if origin else {}
    answers = []
    for extension in (False, True):
        client = build(shape, extension).test_client()
        response = client.open("/v", method=shape.method, headers=headers)
        answers.append((response.status_code, granted(response),
                        response.headers.get("Access-Control-Allow-Credentials")))
    assert answers[0] == answers[1]


@pytest.mark.parametrize("name", [name for name, shape in SHAPES.items() if shape.alone_preflights])
def test_alone_the_decorator_answers_the_preflights_flask_routes_to_it(name: str) -> None:
    shape = SHAPES[name]
    client = build(shape, extension=False).test_client()
    admin = client.options("/v", headers=preflight(origin=ADMIN, method=shape.method))
    assert admin.status_code == 204
    assert granted(admin) == ADMIN
    refused = client.options("/v", headers=preflight(origin=APP, method=shape.method))
    assert refused.status_code == 403
    assert granted(refused) is None


@pytest.mark.parametrize("name", [name for name, shape in SHAPES.items() if shape.other])
def test_the_methods_a_decorator_does_not_cover_get_the_app_policy(name: str) -> None:
    shape = SHAPES[name]
    assert shape.other is not None
    with_app = build(shape, extension=True).test_client()
    response = with_app.open("/v", method=shape.other, headers={"Origin": APP})
    assert granted(response) == APP
    answer = with_app.options("/v", headers=preflight(origin=APP, method=shape.other))
    assert answer.status_code == 204
    assert granted(answer) == APP
    alone = build(shape, extension=False).test_client()
    assert granted(alone.open("/v", method=shape.other, headers={"Origin": APP})) is None


def test_a_method_view_head_request_takes_the_policy_of_get() -> None:
    class Page(MethodView):
        @admin_only()
        def get(self) -> str:
            return "page"

    app = Flask(__name__)
    app.add_url_rule("/v", view_func=Page.as_view("v"))
    CORS(app, origins=[APP], supports_credentials=True)
    client = app.test_client()
    assert granted(client.head("/v", headers={"Origin": ADMIN})) == ADMIN
    assert granted(client.head("/v", headers={"Origin": APP})) is None


def test_a_view_calling_a_sibling_view_keeps_its_own_policy() -> None:
    """A closure over another (decorated) view is not a wrapper: the app policy decides."""
    app = Flask(__name__)

    def routes() -> None:
        @app.put("/admin")
        @admin_only()
        def admin() -> str:
            return "admin"

        @app.put("/v")
        def v() -> str:
            return admin()

    routes()
    CORS(app, origins=[APP], supports_credentials=True)
    client = app.test_client()
    assert granted(client.options("/v", headers=preflight(origin=APP))) == APP
    assert granted(client.put("/v", headers={"Origin": APP})) == APP


_HIDDEN: dict[str, Callable[..., Any]] = {}


def opaque(view: Callable[..., Any]) -> Callable[..., Any]:
    """A wrapper the extension cannot see through: it finds the view by name."""
    _HIDDEN[view.__name__] = view
    name = view.__name__

    def hidden(*args: Any, **kwargs: Any) -> Any:
        return _HIDDEN[name](*args, **kwargs)
    return hidden


def test_a_decorator_the_extension_cannot_see_is_an_error_not_another_policy() -> None:
    app = Flask(__name__)
    ran: list[str] = []

    @app.route("/v", methods=["GET", "PUT"])
    @opaque
    @admin_only()
    def hidden_view() -> str:
        ran.append("view")
        return "v"

    CORS(app, origins=[APP, ADMIN], supports_credentials=True)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ConfigurationError, match=r"cannot find it among the views"):
        app.test_client().put("/v", headers={"Origin": APP})
    assert ran == []  # the view never runs under another policy
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().put("/v", headers={"Origin": APP}).status_code == 500


@pytest.mark.parametrize("extension", [True, False])
def test_cross_origin_above_the_route_is_an_error(extension: bool) -> None:
    app = Flask(__name__)

    @admin_only()  # above: the route registered the undecorated function
    @app.route("/v", methods=["GET", "PUT"])
    def v() -> str:
        return "v"

    @app.route("/w")
    @admin_only()
    def w() -> str:
        return "w"

    if extension:
        with pytest.raises(ConfigurationError, match=r"test_view_policies.py:\d+: "
                           r"@cross_origin\(\): view='v': the route registered this "
                           r"function before @cross_origin wrapped it"):
            CORS(app, origins=[APP])
    else:
        # Alone, the first request to a decorated view checks every decorated view.
        app.config["PROPAGATE_EXCEPTIONS"] = True
        with pytest.raises(ConfigurationError, match="view='v'"):
            app.test_client().get("/w", headers={"Origin": ADMIN})


def test_cross_origin_above_the_route_registered_after_init_fails_the_first_request() -> None:
    app = Flask(__name__)
    CORS(app, origins=[APP])

    @admin_only()
    @app.route("/v")
    def v() -> str:
        return "v"

    app.config["PROPAGATE_EXCEPTIONS"] = True
    client = app.test_client()
    for _ in range(2):  # every request, as if the app had not started
        with pytest.raises(ConfigurationError, match="view='v'"):
            client.get("/v", headers={"Origin": APP})


def test_the_same_function_decorated_for_one_route_and_plain_for_another_is_fine() -> None:
    app = Flask(__name__)

    def shared() -> str:
        return "shared"

    app.add_url_rule("/public", "public", shared)
    app.add_url_rule("/admin", "admin", admin_only()(shared))
    CORS(app, origins=[APP])
    client = app.test_client()
    assert granted(client.get("/public", headers={"Origin": APP})) == APP
    assert granted(client.get("/admin", headers={"Origin": APP})) is None
    assert granted(client.get("/admin", headers={"Origin": ADMIN})) == ADMIN


@pytest.mark.parametrize("outer", [lambda f: f, wraps])
def test_two_decorators_on_one_view_are_refused_at_import(outer: Any) -> None:
    with pytest.raises(ConfigurationError, match="already has a @cross_origin policy"):
        @cross_origin(origins=[APP])
        @outer
        @admin_only()
        def v() -> str:
            return "v"


# -- flask cors lint ------------------------------------------------------------------------


def lint(app: Flask) -> Any:
    from flask.cli import FlaskGroup

    return app.test_cli_runner().invoke(FlaskGroup(), args=["cors", "lint"])


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("extension", [True, False])
def test_lint_reports_decorator_only_views_whose_preflights_flask_answers(
    name: str, extension: bool
) -> None:
    shape = SHAPES[name]
    result = lint(build(shape, extension))
    unanswered = [line for line in result.output.splitlines()
                  if "never reach the @cross_origin view" in line]
    if extension or shape.alone_preflights:
        assert unanswered == [], result.output
    else:
        assert len(unanswered) == 1, result.output
        methods = unanswered[0].partition("preflights of ")[2].partition(" /v never reach")[0]
        assert shape.method in methods.split(", "), unanswered[0]
        assert "add CORS(app, resources={})" in unanswered[0]
        assert result.exit_code != 0


def test_lint_reports_cross_origin_above_the_route_with_every_problem() -> None:
    app = Flask(__name__)

    @admin_only()
    @app.route("/v")
    def v() -> str:
        return "v"

    @app.route("/w")
    @cross_origin(supports_credentials=True)  # the default origins '*': refused
    def w() -> str:
        return "w"

    result = lint(app)
    assert result.exit_code != 0
    assert "2 problems in the CORS configuration" in result.output
    assert "view='v': the route registered this function before @cross_origin" in result.output
    assert "supports_credentials=True: cannot be combined with origins='*'" in result.output


def test_routes_shows_each_policy_of_a_class_based_view_with_its_methods() -> None:
    from flask_crossorigin.cli import route_rows

    app = build(SHAPES["MethodView, one method"], extension=True)
    rows = [(row["methods"], row["policy"], row["source"])
            for row in route_rows(app) if row["rule"] == "/v"]
    assert rows == [(["DELETE"], "@cross_origin on Account.delete", "decorator"),
                    (["GET"], "resources['/*']", "app")]


def test_cross_origin_above_the_route_and_a_wraps_wrapper_is_an_error() -> None:
    app = Flask(__name__)

    @admin_only()
    @wraps
    @app.route("/v")
    def v() -> str:
        return "v"

    with pytest.raises(ConfigurationError, match="view='v': the route registered"):
        CORS(app)


def shared_view() -> str:
    return "shared"


def test_a_function_decorated_for_one_app_and_plain_in_another_is_no_misplaced_decorator() -> None:
    """As a benchmark or a test suite builds apps from module-level views."""
    decorated = Flask(__name__)
    decorated.add_url_rule("/v", "v", admin_only()(shared_view))
    plain_app = Flask(__name__)
    plain_app.add_url_rule("/v", "v", shared_view)
    CORS(plain_app, origins=[APP])
    assert granted(plain_app.test_client().get("/v", headers={"Origin": APP})) == APP
    assert granted(decorated.test_client().get("/v", headers={"Origin": ADMIN})) == ADMIN


def test_cross_origin_above_the_route_with_multiline_arguments_is_an_error() -> None:
    app = Flask(__name__)

    @cross_origin(
        origins=[ADMIN],
        methods=["GET"],
    )
    @app.route(
        "/v",
    )
    def v() -> str: return "v"  # noqa: E704

    with pytest.raises(ConfigurationError, match="view='v': the route registered"):
        CORS(app)


@pytest.mark.parametrize("name", SHAPES)
def test_alone_the_first_request_warns_once_about_preflights_flask_answers(name: str) -> None:
    import warnings

    from flask_crossorigin import ConfigurationWarning

    shape = SHAPES[name]
    app = build(shape, extension=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            app.test_client().open("/v", method=shape.method, headers={"Origin": ADMIN})
    texts = [w for w in caught if issubclass(w.category, ConfigurationWarning)]
    if shape.alone_preflights:
        assert texts == []
    else:
        assert len(texts) == 1, [str(w.message) for w in texts]
        assert "never reach the @cross_origin view" in str(texts[0].message)
        assert texts[0].filename == __file__


@pytest.mark.parametrize("extension", [True, False])
def test_an_app_with_decorated_views_is_freed_with_its_last_reference(extension: bool) -> None:
    import gc
    import weakref

    def create() -> weakref.ref[Flask]:
        app = Flask(__name__)

        @app.route("/x")
        @admin_only()
        def x() -> str:
            return app.name  # the view refers to the app

        if extension:
            CORS(app)
        app.test_client().get("/x", headers={"Origin": ADMIN})
        return weakref.ref(app)

    ref = create()
    gc.collect()
    assert ref() is None


# -- property: any stack of wrappers around the decorator -------------------------------------

ORIGINS = [ADMIN, APP, EVIL, "https://partner.example"]


def partial_wrapper(view: Callable[..., Any]) -> Callable[..., Any]:
    wrapped = functools.partial(view)
    functools.update_wrapper(wrapped, view, assigned=("__name__",), updated=())
    return wrapped


WRAPPERS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "nowraps": nowraps, "wraps": wraps, "class": Audit, "partial": partial_wrapper,
}


def _stacked_app(wrappers: list[str], view_origins: list[str], app_origins: list[str],
                 extension: bool) -> Flask:
    app = Flask(__name__)

    @cross_origin(origins=view_origins, methods=["GET", "PUT"])
    def v() -> str:
        return "v"

    view: Callable[..., Any] = v
    for name in wrappers:
        view = WRAPPERS[name](view)
    app.add_url_rule("/v", "v", view, methods=["GET", "PUT"])
    if extension:
        CORS(app, origins=app_origins)
    return app


def test_any_stack_of_wrappers_keeps_the_decorators_origins() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=150, derandomize=True, database=None, deadline=None)
    @given(
        wrappers=st.lists(st.sampled_from(sorted(WRAPPERS)), max_size=4),
        view_origins=st.lists(st.sampled_from(ORIGINS), min_size=1, unique=True),
        app_origins=st.lists(st.sampled_from(ORIGINS), min_size=1, unique=True),
    )
    def check(wrappers: list[str], view_origins: list[str], app_origins: list[str]) -> None:
        with_app = _stacked_app(wrappers, view_origins, app_origins, True).test_client()
        alone = _stacked_app(wrappers, view_origins, app_origins, False).test_client()
        for origin in ORIGINS:
            wanted = origin if origin in view_origins else None
            answer = with_app.options("/v", headers=preflight(origin=origin, method="PUT"))
            assert granted(answer) == wanted, (wrappers, origin)
            for client in (with_app, alone):
                response = client.put("/v", headers={"Origin": origin})
                assert granted(response) == wanted, (wrappers, origin)

    check()
