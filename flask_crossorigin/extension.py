"""Where Flask is wired in: the ``CORS`` extension, its per-app state and its WSGI layer.

The extension wraps ``app.wsgi_app`` once per app. A preflight for a path under
a policy is answered there, before Flask dispatches the request, so before any
``before_request`` hook (authentication) or view runs. Every other response
gets its CORS headers as it starts, after the app and all its
``after_request`` hooks produced it, error responses included. Both steps
only look up precompiled policies, and add headers to WSGI's plain header
list, which costs a fraction of going through a ``Response`` object.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union, cast

from flask import Blueprint, Flask, Request, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from .errors import ConfigurationError, Problem
from .headers import merged_vary
from .options import (
    OPTIONS_BY_NAME,
    unknown_option_problems,
)
from .policy import Decision, Policy
from .reasons import escape, logger
from .resources import ResourcePattern, ResourceTable, compile_resources
from .signals import (
    preflight_answered,
    request_refused,
    send_preflight_answered,
    send_refused,
)
from .wsgi import is_preflight, request_path

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask.blueprints import BlueprintSetupState

#: The key of the per-app state in ``app.extensions``.
EXTENSION_KEY = "crossorigin"
#: Set in the WSGI environ (to the app) when the extension's layer serves the request.
LAYER_KEY = "flask_crossorigin.layer"
_ALL_OPTIONS = tuple(OPTIONS_BY_NAME)
_STATE_LOCK = threading.Lock()
#: Bounds of the cache of policies by (endpoint, path): entries, and path length.
CACHE_SIZE = 2048
CACHE_PATH_LENGTH = 256
_UNSEEN: Any = object()

AppOrBlueprint = Union[Flask, Blueprint]


class CORS:
    """The Flask extension. ``CORS(app)``, ``CORS(blueprint)`` or ``CORS().init_app(app)``.

    Keyword arguments are the options of :data:`flask_crossorigin.options.OPTIONS`
    (the same names as flask-cors). They override the ``CORS_*`` keys of
    ``app.config``, which override the defaults; an entry of ``resources``
    overrides all three for the paths it matches. Everything is validated and
    compiled here: a bad configuration raises :class:`ConfigurationError`.
    """

    def __init__(self, app: AppOrBlueprint | None = None, **options: Any) -> None:
        _raise_if(unknown_option_problems(options, "CORS()", _ALL_OPTIONS))
        self._options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: AppOrBlueprint, **options: Any) -> None:
        """Register the extension on an app, or on a blueprint (for its routes only)."""
        _raise_if(unknown_option_problems(options, "init_app()", _ALL_OPTIONS))
        merged = {**self._options, **options}
        if isinstance(app, Blueprint):
            def register(state: BlueprintSetupState) -> None:
                name = f"{state.name_prefix}.{state.name}".lstrip(".")
                _state_for(cast(Flask, state.app)).add_blueprint(name, merged)

            app.record(register)
        elif isinstance(app, Flask):
            _state_for(app).set_app_policy(merged)
        else:
            raise TypeError(f"CORS needs a Flask app or a Blueprint, not {type(app).__name__}")


class PolicySource:
    """Where the policy of a request comes from, as :meth:`CrossOriginState.explain` finds it."""

    __slots__ = ("kind", "blueprint", "pattern")

    def __init__(self) -> None:
        #: ``"decorator"``, ``"blueprint"``, ``"app"`` or ``"none"``.
        self.kind = "none"
        #: The blueprint whose ``CORS(blueprint)`` table matched.
        self.blueprint: str | None = None
        #: The resource pattern that matched (``None`` for a decorator).
        self.pattern: ResourcePattern | None = None


class CrossOriginState:
    """Everything one app knows about CORS, kept in ``app.extensions['crossorigin']``.

    Holds the compiled resource table of the app, those of blueprints, and a
    cache of the policies of ``@cross_origin`` views by endpoint.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.table: ResourceTable[Policy] | None = None
        self.blueprint_tables: dict[str, ResourceTable[Policy]] = {}
        self._view_policies: dict[str, Policy | None] = {}
        # Recent answers of policy_for by (endpoint, path): the request path's only
        # lookup. Bounded; cleared whenever the configuration changes.
        self._policies: dict[tuple[str | None, str], Policy | None] = {}
        app.wsgi_app = self._wrap(app.wsgi_app)  # type: ignore[method-assign,assignment]
        from .cli import register  # imported here: the CLI module imports this one

        register(app)  # the `flask cors` commands

    # -- configuration -------------------------------------------------------------

    def set_app_policy(self, options: Mapping[str, Any]) -> None:
        if self.table is not None:
            raise ConfigurationError([Problem(
                "CORS()", "app", self.app.name,
                "the extension is already initialised on this app; pass all resources "
                "to one CORS(app) call",
            )])
        self.table = compile_resources(self.app.config, options, "")
        self._policies.clear()
        self.compile_views()

    def add_blueprint(self, name: str, options: Mapping[str, Any]) -> None:
        if name in self.blueprint_tables:
            raise ConfigurationError([Problem(
                f"CORS(blueprint {name!r})", "blueprint", name,
                "CORS is already applied to this blueprint; pass all options in one call",
            )])
        self.blueprint_tables[name] = compile_resources(
            self.app.config, options, f"blueprint {name!r} "
        )
        self._policies.clear()

    def compile_views(self) -> None:
        """Compile the policies of ``@cross_origin`` views registered so far (fail early)."""
        for endpoint in list(self.app.view_functions):
            self.view_policy(endpoint)

    def view_policy(self, endpoint: str) -> Policy | None:
        try:
            return self._view_policies[endpoint]
        except KeyError:
            pass
        view = self.app.view_functions.get(endpoint)
        spec = getattr(view, "__cross_origin__", None)
        policy = spec.policy_for(self.app) if spec is not None else None
        self._view_policies[endpoint] = policy
        return policy

    # -- per request -----------------------------------------------------------------

    def policy_for(
        self,
        path: str,
        endpoint: str | None,
        blueprints: list[str],
        source: PolicySource | None = None,
    ) -> Policy | None:
        """The policy for a request: its view's decorator, else a blueprint's, else the app's.

        ``source``, when given, is filled in with where the policy comes from
        (see :meth:`explain`); requests pass none.
        """
        if endpoint is not None:
            policy: Policy | None = self._view_policies.get(endpoint, _UNSEEN)
            if policy is _UNSEEN:
                policy = self.view_policy(endpoint)
            if policy is not None:
                if source is not None:
                    source.kind = "decorator"
                return policy
            for name in blueprints:
                table = self.blueprint_tables.get(name)
                if table is not None:
                    hit = table.lookup(path)
                    if hit is not None:
                        if source is not None:
                            source.kind, source.pattern = "blueprint", hit[0]
                            source.blueprint = name
                        return hit[1]
        if self.table is None:
            return None
        hit = self.table.lookup(path)
        if hit is None:
            return None
        if source is not None:
            source.kind, source.pattern = "app", hit[0]
        return hit[1]

    def explain(
        self, path: str, endpoint: str | None, blueprints: list[str]
    ) -> tuple[Policy | None, PolicySource]:
        """:meth:`policy_for`, and where the policy comes from (for ``flask cors``)."""
        source = PolicySource()
        return self.policy_for(path, endpoint, blueprints, source), source

    # -- per request: the WSGI layer ---------------------------------------------------

    def _wrap(self, wsgi_app: WSGIApplication) -> WSGIApplication:
        answer_early = self._answer_preflight
        decorate = self._decorate
        app = self.app

        def cors_wsgi_app(
            environ: WSGIEnvironment, start_response: StartResponse
        ) -> Iterable[bytes]:
            environ[LAYER_KEY] = app  # tells @cross_origin views that this layer serves them
            if is_preflight(environ):
                answer = answer_early(environ)
                if answer is not None:
                    return answer(environ, start_response)

            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                decorate(environ, status, headers)
                return start_response(status, headers, exc_info)

            return wsgi_app(environ, start)

        cors_wsgi_app.__wrapped__ = wsgi_app  # type: ignore[attr-defined]
        return cors_wsgi_app

    def _answer_preflight(self, environ: WSGIEnvironment) -> Response | None:
        """Answer a preflight before Flask dispatches it, or ``None`` to let Flask have it.

        The request is routed here (only preflights pay for it) so that the
        policies of ``@cross_origin`` views and blueprints apply.
        """
        app = self.app
        req = app.request_class(environ)
        endpoint = None
        blueprints: list[str] = []
        try:
            adapter = app.create_url_adapter(req)
            if adapter is not None:
                rule, _ = adapter.match(return_rule=True)
                req.url_rule = rule
                endpoint = rule.endpoint
                blueprints = req.blueprints
        except HTTPException:
            pass  # not found, method not allowed, redirect: the path's policy decides
        key = (endpoint, req.path)
        policy = self._policies.get(key, _UNSEEN)
        if policy is _UNSEEN:
            policy = self._remember(key, blueprints)
        if policy is None or not policy.automatic_options:
            return None
        return answer_preflight(app, policy, environ)

    def _decorate(
        self, environ: WSGIEnvironment, status: str, headers: list[tuple[str, str]]
    ) -> None:
        """Add CORS headers to the header list of a response that is starting."""
        req: Any = environ.get("werkzeug.request")  # the request Flask routed
        rule = getattr(req, "url_rule", None)
        key = (rule.endpoint, req.path) if rule is not None else (None, request_path(environ))
        try:
            policy = self._policies[key]
        except KeyError:
            policy = self._remember(key, req.blueprints if rule is not None else [])
        if policy is None:
            return
        found = _decide(policy, environ, status, headers)
        if found is None:
            return
        decision, vary_lines = found
        headers.extend(decision.headers)
        if decision.vary:
            if not vary_lines:
                headers.append(("Vary", ", ".join(decision.vary)))
            else:
                merged = merged_vary(vary_lines, decision.vary)
                if merged is not None:
                    headers[:] = [h for h in headers if h[0].lower() != "vary"]
                    headers.append(("Vary", merged))
        if decision.refusal is not None:
            _report(self.app, policy, decision, environ)

    def _remember(self, key: tuple[str | None, str], blueprints: list[str]) -> Policy | None:
        endpoint, path = key
        policy = self.policy_for(path, endpoint, blueprints if self.blueprint_tables else [])
        if len(path) <= CACHE_PATH_LENGTH:
            if len(self._policies) >= CACHE_SIZE:
                self._policies.clear()  # bounded: many distinct paths only cost a refill
            self._policies[key] = policy
        return policy

    def add_headers(self, response: BaseResponse) -> None:
        """Add the CORS headers for the current request to ``response``.

        What the WSGI layer does as a response starts, for a ``Response`` object
        inside a request context (tools such as ``flask cors check``).
        """
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        rule = req.url_rule
        blueprints = req.blueprints if rule is not None and self.blueprint_tables else []
        policy = self.policy_for(req.path, rule.endpoint if rule else None, blueprints)
        if policy is not None:
            add_cors_headers(self.app, response, policy, req.environ)


def _decide(
    policy: Policy, environ: WSGIEnvironment, status: str, headers: Iterable[tuple[str, str]]
) -> tuple[Decision, list[str]] | None:
    """The decision for a response with these headers, and its ``Vary`` lines.

    ``None`` when the response is left alone: the view set its own
    ``Access-Control-Allow-Origin``, or it is an error response and the policy
    does not intercept exceptions.
    """
    vary_lines = []
    for name, value in headers:  # one pass: the view's own grant, and its Vary
        lowered = name.lower()
        if lowered == "access-control-allow-origin":
            return None
        if lowered == "vary":
            vary_lines.append(value)
    if not policy.intercept_exceptions and int(status[:3]) >= 400:
        return None
    if is_preflight(environ):
        decision = policy.preflight_for(environ)  # one the view answered itself
    else:
        decision = policy.actual(environ.get("HTTP_ORIGIN"))
    return decision, vary_lines


def answer_preflight(app: Flask, policy: Policy, environ: WSGIEnvironment) -> Response:
    """The extension's own answer to a preflight: 204 when granted, 403 when refused."""
    decision = policy.preflight_for(environ)
    refusal = decision.refusal
    response: Response = app.response_class(status=204 if refusal is None else 403)
    if refusal is not None and app.debug:
        # In development only, the answer says why; in production it reveals nothing more.
        response.set_data(f"CORS preflight refused: {refusal.message}\n")
        response.mimetype = "text/plain"
        response.headers["X-Content-Type-Options"] = "nosniff"
    else:
        del response.headers["Content-Type"]  # an empty answer has no media type
    _apply(response, decision, [])
    if refusal is not None:
        _report(app, policy, decision, environ)
    if preflight_answered.receivers:
        send_preflight_answered(app, policy, decision, environ)
    return response


def add_cors_headers(
    app: Flask, response: BaseResponse, policy: Policy, environ: WSGIEnvironment
) -> None:
    """Add the CORS headers ``policy`` grants to a ``Response`` object."""
    found = _decide(policy, environ, response.status, response.headers)
    if found is None:
        return
    decision, vary_lines = found
    _apply(response, decision, vary_lines)
    if decision.refusal is not None:
        _report(app, policy, decision, environ)


def _apply(response: BaseResponse, decision: Decision, vary_lines: list[str]) -> None:
    headers = response.headers
    for name, value in decision.headers:
        headers.add(name, value)
    if decision.vary:
        if not vary_lines:
            headers.add("Vary", ", ".join(decision.vary))
        else:
            merged = merged_vary(vary_lines, decision.vary)
            if merged is not None:
                headers["Vary"] = merged


def _report(app: Flask, policy: Policy, decision: Decision, environ: WSGIEnvironment) -> None:
    """Log a refusal and send :data:`~flask_crossorigin.signals.request_refused`.

    The reason is only formatted when DEBUG logging or a signal receiver wants it.
    """
    refusal = decision.refusal
    if refusal is None:
        return
    preflight = is_preflight(environ)
    kind = "preflight" if preflight else "request"
    # In debug mode a refused preflight is logged where the developer sees it.
    level = logging.WARNING if preflight and app.debug else logging.DEBUG
    if logger.isEnabledFor(level):
        logger.log(
            level,
            "refused %s %s %s (%s): %s",
            kind,
            escape(environ.get("REQUEST_METHOD", "")),
            escape(environ.get("PATH_INFO", "")),
            policy.name,
            refusal.message,
        )
    if request_refused.receivers:
        send_refused(app, policy, refusal, environ, preflight)


def install_layer(app: Flask) -> None:
    """Make sure ``app`` is served through the CORS layer (with no app policy if none)."""
    _state_for(app)


def _state_for(app: Flask) -> CrossOriginState:
    state = app.extensions.get(EXTENSION_KEY)
    if state is None:
        with _STATE_LOCK:  # @cross_origin may install the layer from request threads
            state = app.extensions.get(EXTENSION_KEY)
            if state is None:
                state = app.extensions[EXTENSION_KEY] = CrossOriginState(app)
    return cast(CrossOriginState, state)


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ConfigurationError(problems)


__all__ = [
    "CORS",
    "CrossOriginState",
    "PolicySource",
    "answer_preflight",
    "add_cors_headers",
]
