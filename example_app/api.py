"""The demo API: every way of configuring flask-crossorigin, on one small Flask app.

Policies, from the widest to the narrowest:

* ``/public/...``    - ``CORS(public)``: the one-liner. Any origin may read, no credentials.
                       (``CORS(app)`` does the same for a whole app.)
* ``/tenants/...``   - ``CORS(tenants, origins=[...])``: a blueprint-scoped policy that
                       trusts every tenant subdomain ``http://*.localhost:<page port>``.
* ``/api/...``       - ``CORS(app, resources=...)``: only the front-end origin, a fixed
                       list of methods and request headers.
* ``/api/private/...`` - the same origin, with cookies (``supports_credentials``).
* ``/api/widget``    - ``@cross_origin(origins="*")`` replaces the ``/api`` policy for one view.
* ``/partners/...``  - origins from a table that ``/api/admin/partners`` changes at run
                       time: ``CachedOrigins`` over SQLite, or ``RedisOrigins`` when
                       ``DEMO_REDIS_URL`` is set (see partners.py).
* ``/catalog/...``   - any origin, as ``CORS(app)`` allows, with a *report-only* policy that
                       tries the front-end origin alone (``report_only={"origins": [...]}``):
                       every request it would refuse still works, and is logged at INFO
                       on the ``flask_crossorigin`` logger (see docs/tightening.rst).
* ``/bank/...``      - the front-end origin with cookies and ``csrf_protection=True``: a write
                       (POST) from any other origin is refused with 403 before the view runs
                       (see docs/csrf.rst); ``/bank/feedback`` has ``csrf_protection=
                       "report-only"``: such writes go through and are reported.

``CORS(app, csrf_protection=True)`` covers every route of the app: each policy trusts its own
origins to write (the blueprints' too), and a path no policy covers trusts none.

``CORS_EXPOSE_HEADERS`` and ``CORS_MAX_AGE`` come from ``app.config`` and apply to every
policy of ``CORS(app)``; a blueprint's ``CORS(blueprint)`` reads only its own arguments, as
in flask-cors, so the demo passes it the same two values. Any ``CORS_*`` key can also be set
from the environment, e.g. ``FLASK_CORS_MAX_AGE=60`` (Flask's ``from_prefixed_env``).
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import uuid
from collections import Counter, deque
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from flask_crossorigin import CORS, cross_origin, report_only_mismatch, request_refused

from .partners import make_partners, make_partners_blueprint
from .request_log import RequestLog

DEFAULT_FRONTEND_ORIGIN = "http://localhost:5001"
DEMO_TOKEN = "demo-token"  # the bearer token /api/account accepts
SESSION_COOKIE = "demo_session"


def tenant_origin_pattern(frontend_origin: str) -> str:
    """``http://localhost:5001`` -> ``http://*.localhost:5001`` (its subdomains, same port)."""
    parts = urlsplit(frontend_origin)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://*.{parts.hostname}{port}"


def make_public_blueprint(**shared: Any) -> Blueprint:
    public = Blueprint("public", __name__, url_prefix="/public")
    # The one-liner: any origin, echoed (send_wildcard=False, as in flask-cors). ``shared``:
    # the app's max_age and expose_headers, which CORS(blueprint) does not read itself.
    CORS(public, **shared)

    @public.get("/hello")
    def hello() -> Response:
        return jsonify(message="Hello from the public API: any origin may read this.")

    @public.get("/legacy")
    def legacy() -> Response:
        # A widely copied snippet: the view grants credentials itself. The extension
        # never lets that reach an origin the policy does not list: this any-origin
        # policy answers '*', which browsers refuse with credentials (and the log says why).
        response = jsonify(message="Readable by any page, never with the user's cookies.")
        response.headers["Access-Control-Allow-Credentials"] = "true"
        return response

    return public


def make_tenants_blueprint(tenant_origin: str, **shared: Any) -> Blueprint:
    tenants = Blueprint("tenants", __name__, url_prefix="/tenants")
    CORS(tenants, origins=[tenant_origin], **shared)  # applies to this blueprint's routes only

    @tenants.get("/dashboard")
    def dashboard() -> Response:
        origin = request.headers.get("Origin", "")
        tenant = (urlsplit(origin).hostname or "unknown").split(".", 1)[0]
        return jsonify(tenant=tenant, origin=origin)

    return tenants


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the API. ``config`` overrides the defaults and the ``FLASK_*`` environment."""
    app = Flask(__name__)
    app.config.from_mapping(
        DEMO_FRONTEND_ORIGIN=DEFAULT_FRONTEND_ORIGIN,
        # CORS_* keys apply to every policy of CORS(app) unless its arguments or a resource
        # override them (a blueprint's CORS(blueprint) reads none, as in flask-cors: the
        # blueprints below get these two as arguments).
        CORS_EXPOSE_HEADERS=["X-Request-Id"],
        CORS_MAX_AGE=600,
        # Count every CORS decision in Prometheus (GET /metrics) when prometheus_client is
        # installed (pip install 'flask-crossorigin[prometheus]'); docs/metrics.rst.
        CORS_METRICS="prometheus" if importlib.util.find_spec("prometheus_client") else False,
    )
    app.config.from_prefixed_env()  # FLASK_CORS_MAX_AGE=60, FLASK_DEMO_REDIS_URL=...
    if config:
        app.config.update(config)

    frontend = app.config["DEMO_FRONTEND_ORIGIN"]
    app.config.setdefault("DEMO_TENANT_ORIGIN", tenant_origin_pattern(frontend))

    _register_routes(app)
    partners = make_partners(app)
    app.extensions["demo_partners"] = partners
    app.register_blueprint(make_partners_blueprint(partners))
    # CORS(blueprint) reads no CORS_* key (as in flask-cors): the blueprints get the app's
    # max_age and expose_headers as arguments (flask cors lint names any key they miss).
    shared = {"max_age": app.config["CORS_MAX_AGE"],
              "expose_headers": app.config["CORS_EXPOSE_HEADERS"]}
    app.register_blueprint(make_public_blueprint(**shared))
    app.register_blueprint(make_tenants_blueprint(app.config["DEMO_TENANT_ORIGIN"], **shared))
    CORS(
        app,
        origins=[frontend],
        # Every route: a write (POST, PUT...) from an origin its policy does not trust
        # is refused before the view; the admin routes of the partners table included.
        csrf_protection=True,
        resources={
            "/api/*": {
                "methods": ["GET", "HEAD", "POST", "PUT", "PATCH", "OPTIONS"],
                "allow_headers": ["Content-Type", "Authorization", "X-Demo-Token"],
            },
            "/api/private/*": {"supports_credentials": True, "csrf_protection": True},
            # Origins an admin adds and removes while the app runs (partners.py).
            "/partners/*": {"origins": partners.origins},
            # Tightening a policy safely: open to any origin today, trying the front end
            # alone before enforcing it. Requests it would refuse are logged, not refused.
            "/catalog/*": {"origins": "*", "report_only": {"origins": [frontend]}},
            # Cross-origin writes: only the front end (and the API's own pages) may post.
            "/bank/*": {"supports_credentials": True, "csrf_protection": True},
            # Rolling it out: report what would be refused, refuse nothing.
            "/bank/feedback": {"supports_credentials": True, "csrf_protection": "report-only"},
        },
    )
    # What the report-only policy would refuse, for the demo page (GET /api/debug/report-only).
    mismatches: deque[dict[str, Any]] = deque(maxlen=500)
    app.extensions["demo_report_only"] = mismatches

    @report_only_mismatch.connect_via(app, weak=False)
    def remember(sender: Flask, **details: Any) -> None:
        mismatches.append(details)

    # The server log of refused writes (the extension logs them at DEBUG, WARNING in debug
    # mode; the request_refused signal is what an app counts them with).
    @request_refused.connect_via(app, weak=False)
    def log_refused_write(sender: Flask, **details: Any) -> None:
        if str(details["code"]).startswith("write-"):
            app.logger.info("refused %s %s from %r (%s): the view did not run",
                            details["method"], details["path"], details["origin"],
                            details["code"])

    # Outermost, so that it also sees the preflights the extension answers itself.
    request_log = RequestLog(app.wsgi_app)
    app.wsgi_app = request_log  # type: ignore[method-assign]
    app.extensions["demo_request_log"] = request_log
    return app


def _metrics_registry(app: Flask) -> Any:
    """The Prometheus registry to read (the files of every worker in multiprocess mode),
    or ``None`` when the app's metrics are not Prometheus."""
    state = app.extensions.get("crossorigin")
    if state is None or state.metrics is None or state.metrics.name != "prometheus":
        return None
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def _register_routes(app: Flask) -> None:
    # How many times each view that changes state ran, by path (for the demo page).
    view_runs: Counter[str] = Counter()
    app.extensions["demo_view_runs"] = view_runs
    items: dict[str, dict[str, Any]] = {
        "1": {"id": "1", "name": "teapot", "price": 18},
        "2": {"id": "2", "name": "kettle", "price": 35},
    }

    @app.after_request
    def add_ids(response: Response) -> Response:
        response.headers["X-Request-Id"] = uuid.uuid4().hex  # exposed via CORS_EXPOSE_HEADERS
        response.headers["X-Internal-Trace"] = "node-7/worker-3"  # never exposed
        return response

    @app.before_request
    def require_token() -> Response | None:
        # A typical auth hook. Preflights never carry credentials; the extension answers
        # them before this hook runs, so the real request can still get through.
        if not request.path.startswith("/api/account"):
            return None
        if request.headers.get("Authorization") == f"Bearer {DEMO_TOKEN}":
            return None
        response = jsonify(error="unauthorized", detail="send Authorization: Bearer demo-token")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="demo"'
        return response

    @app.errorhandler(HTTPException)
    def json_error(error: HTTPException) -> tuple[Response, int]:
        return jsonify(
            error=error.name, status=error.code, detail=error.description
        ), error.code or 500

    @app.errorhandler(Exception)
    def json_crash(error: Exception) -> tuple[Response, int]:
        app.logger.info("demo crash: %r", error)
        return jsonify(error="Internal Server Error", status=500, detail="the view raised"), 500

    @app.get("/")
    def index() -> Response:
        return jsonify(
            api="flask-crossorigin demo",
            routes=sorted(str(rule) for rule in app.url_map.iter_rules()),
        )

    @app.get("/api/items")
    def list_items() -> Response:
        return jsonify(items=list(items.values()))

    @app.put("/api/items/<item_id>")
    def put_item(item_id: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            abort(415, description="send a JSON object")
        item = {"id": item_id, **body}
        return jsonify(item=item, token=request.headers.get("X-Demo-Token"))

    @app.patch("/api/items/<item_id>")
    def patch_item(item_id: str) -> Response:
        body = request.get_json(silent=True) or {}
        return jsonify(item={"id": item_id, **body}, patched=True)

    @app.delete("/api/items/<item_id>")
    def delete_item(item_id: str) -> Response:
        # Reachable by same-origin pages and by curl, but DELETE is not in the /api CORS
        # methods, so a browser on another origin never sends it.
        return jsonify(deleted=item_id)

    @app.post("/api/notes")
    def add_note() -> Response:
        return jsonify(note=request.get_data(as_text=True), content_type=request.content_type)

    @app.get("/api/boom")
    def boom() -> Response:
        raise RuntimeError("this view fails on purpose")

    @app.get("/api/account")
    def account() -> Response:
        return jsonify(user="demo", plan="pro")

    @app.get("/api/widget")
    @cross_origin(origins="*")
    def widget() -> Response:
        return jsonify(widget="embeddable on any site", origin=request.headers.get("Origin"))

    @app.post("/api/private/login")
    def login() -> Response:
        response = jsonify(signed_in=True)
        response.set_cookie(SESSION_COOKIE, secrets.token_hex(8), httponly=True, samesite="Lax")
        return response

    @app.get("/api/private/profile")
    def profile() -> Response:
        has_cookie = SESSION_COOKIE in request.cookies
        return jsonify(cookie_received=has_cookie, user="demo" if has_cookie else None)

    @app.post("/api/private/logout")
    def logout() -> Response:
        response = jsonify(signed_in=False)
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="Lax")
        return response

    @app.post("/bank/transfer")
    def transfer() -> Response:
        view_runs[request.path] += 1
        app.logger.info("POST /bank/transfer ran (Sec-Fetch-Site: %s, Origin: %s)",
                        request.headers.get("Sec-Fetch-Site"), request.headers.get("Origin"))
        return jsonify(transferred=True, runs=view_runs[request.path])

    @app.post("/bank/feedback")
    def feedback() -> Response:
        view_runs[request.path] += 1
        app.logger.info("POST /bank/feedback ran (Sec-Fetch-Site: %s, Origin: %s)",
                        request.headers.get("Sec-Fetch-Site"), request.headers.get("Origin"))
        return jsonify(received=True)

    @app.get("/frame")
    def frame() -> Response:
        # The demo's request runner, on the API's own origin: its writes are same-origin.
        return app.send_static_file("frame.html")

    @app.get("/catalog/items")
    def catalog() -> Response:
        return jsonify(items=[item["name"] for item in items.values()])

    @app.get("/api/debug/report-only")
    def report_only_mismatches() -> Response:
        """What the report-only policy reported for ``?path=`` (for the demo page)."""
        path = request.args.get("path", "")
        found = [
            {key: details[key] for key in ("origin", "mismatch", "code", "preflight")}
            for details in list(app.extensions["demo_report_only"])
            if details["path"] == path
        ]
        return jsonify(path=path, mismatches=found)

    @app.get("/metrics")
    def metrics() -> Response:
        """The Prometheus exposition: flask-crossorigin's counters (docs/metrics.rst)."""
        registry = _metrics_registry(app)
        if registry is None:
            return Response("metrics are off: pip install 'flask-crossorigin[prometheus]'\n",
                            status=404, mimetype="text/plain")
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    @app.get("/api/debug/metrics")
    def metrics_summary() -> Response:
        """flask_crossorigin_requests_total by kind and decision (for the demo page)."""
        registry = _metrics_registry(app)
        if registry is None:
            return jsonify(metrics=False, counts=[])
        totals: Counter[tuple[str, str]] = Counter()
        for family in registry.collect():
            for sample in family.samples:
                if sample.name == "flask_crossorigin_requests_total":
                    totals[sample.labels["kind"], sample.labels["decision"]] += int(sample.value)
        return jsonify(metrics=True, counts=[
            {"kind": kind, "decision": decision, "count": count}
            for (kind, decision), count in sorted(totals.items())])

    @app.get("/api/debug/requests")
    def logged_requests() -> Response:
        """How many requests and preflights the server got for ``?path=`` (for the demo page)."""
        path = request.args.get("path", "")
        entries = app.extensions["demo_request_log"].entries(path)
        actual = [entry for entry in entries if not entry.is_preflight]
        return jsonify(
            path=path,
            preflights=sum(entry.is_preflight for entry in entries),
            requests=len(actual),
            # What the browser sent and got, request by request, and how often the view ran.
            sent=[{"method": e.method, "status": e.status, "origin": e.origin,
                   "fetch_site": e.fetch_site} for e in actual],
            view_runs=view_runs[path],
        )
