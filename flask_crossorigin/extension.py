"""Where Flask is wired in: the ``CORS`` extension, its per-app state and its hooks.

Two hooks per app. An early ``before_request`` hook (run before every other one,
so before authentication) answers preflights for paths under a policy. An
``after_request`` hook adds CORS headers to every other response, error
responses included. Both only look up precompiled policies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union, cast

from flask import Blueprint, Flask, Request, Response, current_app, request
from werkzeug.wrappers import Response as BaseResponse

from .errors import ConfigurationError, Problem
from .headers import merged_vary
from .options import (
    OPTIONS_BY_NAME,
    POLICY_OPTIONS,
    Layer,
    options_from_config,
    unknown_option_problems,
)
from .policy import Decision, Policy, build_policy
from .reasons import escape, logger
from .resources import ResourcePattern, ResourceTable
from .signals import (
    preflight_answered,
    request_refused,
    send_preflight_answered,
    send_refused,
)

if TYPE_CHECKING:
    from flask.blueprints import BlueprintSetupState

#: The key of the per-app state in ``app.extensions``.
EXTENSION_KEY = "crossorigin"
#: Set in the WSGI environ once a response's CORS headers are final.
_DONE = "flask_crossorigin.done"
_ALL_OPTIONS = tuple(OPTIONS_BY_NAME)
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
        app.before_request_funcs.setdefault(None, []).insert(0, self.before_request)
        app.after_request(self.after_request)
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
        self.table = compile_resources(self.app, options, "")
        self.compile_views()

    def add_blueprint(self, name: str, options: Mapping[str, Any]) -> None:
        if name in self.blueprint_tables:
            raise ConfigurationError([Problem(
                f"CORS(blueprint {name!r})", "blueprint", name,
                "CORS is already applied to this blueprint; pass all options in one call",
            )])
        self.blueprint_tables[name] = compile_resources(self.app, options, f"blueprint {name!r} ")

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

    def _current_policy(self, req: Request) -> Policy | None:
        rule = req.url_rule
        if rule is None:
            return self.policy_for(req.path, None, [])
        blueprints = req.blueprints if self.blueprint_tables else []
        return self.policy_for(req.path, rule.endpoint, blueprints)

    # The hooks resolve the ``request`` proxy once: each attribute read through
    # the proxy costs more than everything else they do.

    def before_request(self) -> Response | None:
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        environ = req.environ
        if environ["REQUEST_METHOD"] != "OPTIONS":
            return None
        if "HTTP_ACCESS_CONTROL_REQUEST_METHOD" not in environ:
            return None  # a plain OPTIONS request: not a preflight
        policy = self._current_policy(req)
        if policy is None or not policy.automatic_options:
            return None
        return answer_preflight(self.app, policy, environ)

    def after_request(self, response: Response) -> Response:
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        environ = req.environ
        if _DONE in environ:
            return response
        policy = self._current_policy(req)
        if policy is not None:
            add_cors_headers(response, policy, environ)
        return response


def answer_preflight(app: Flask, policy: Policy, environ: dict[str, Any]) -> Response:
    """The extension's own answer to a preflight: 204 when granted, 403 when refused."""
    decision = policy.preflight(
        environ.get("HTTP_ORIGIN"),
        environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"],
        environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
        environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"),
    )
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
    environ[_DONE] = True
    if refusal is not None:
        _report(policy, decision, environ, "preflight")
    if preflight_answered.receivers:
        send_preflight_answered(app, policy, decision, environ)
    return response


def add_cors_headers(response: BaseResponse, policy: Policy, environ: dict[str, Any]) -> None:
    """Add the CORS headers ``policy`` grants to a response the app produced."""
    environ[_DONE] = True
    headers = response.headers
    vary_lines = []
    for name, value in headers:  # one pass: the view's own grant, and its Vary
        lowered = name.lower()
        if lowered == "access-control-allow-origin":
            return  # the view set its own CORS headers: leave them alone
        if lowered == "vary":
            vary_lines.append(value)
    if response.status_code >= 400 and not policy.intercept_exceptions:
        return
    if environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
        # A preflight the view answered itself (automatic_options=False).
        decision = policy.preflight(
            environ.get("HTTP_ORIGIN"),
            environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"],
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"),
        )
        kind = "preflight"
    else:
        decision = policy.actual(environ.get("HTTP_ORIGIN"))
        kind = "request"
    _apply(response, decision, vary_lines)
    if decision.refusal is not None:
        _report(policy, decision, environ, kind)


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


def _report(policy: Policy, decision: Decision, environ: dict[str, Any], kind: str) -> None:
    """Log a refusal and send :data:`~flask_crossorigin.signals.request_refused`.

    The reason is only formatted when DEBUG logging or a signal receiver wants it.
    """
    refusal = decision.refusal
    if refusal is None:
        return
    # In debug mode a refused preflight is logged where the developer sees it.
    level = logging.WARNING if kind == "preflight" and current_app.debug else logging.DEBUG
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
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        send_refused(app, policy, refusal, environ, kind == "preflight")


def _state_for(app: Flask) -> CrossOriginState:
    state = app.extensions.get(EXTENSION_KEY)
    if state is None:
        state = app.extensions[EXTENSION_KEY] = CrossOriginState(app)
    return cast(CrossOriginState, state)


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ConfigurationError(problems)


def compile_resources(
    app: Flask, options: Mapping[str, Any], label: str
) -> ResourceTable[Policy]:
    """Compile ``resources`` with the app's config and the extension's options into a table."""
    config = options_from_config(app.config)
    default = OPTIONS_BY_NAME["resources"].default
    resources = options.get("resources", config.get("resources", default))
    base: list[Layer] = [("app.config", config), (f"{label}CORS()", options)]
    problems: list[Problem] = []
    entries: list[tuple[ResourcePattern, Policy]] = []
    for pattern, resource_options in _resource_items(resources, label, problems):
        where = f"{label}resources[{_pattern_text(pattern)!r}]"
        problems.extend(unknown_option_problems(resource_options, where, POLICY_OPTIONS))
        try:
            compiled = ResourcePattern(pattern)
        except re.error as error:
            problems.append(Problem(where, "pattern", _pattern_text(pattern),
                                    f"is not a valid regular expression ({error})"))
            continue
        layers = [*base, (where, resource_options)]
        policy, policy_problems = build_policy(where, layers)
        problems.extend(policy_problems)
        if policy is not None:
            entries.append((compiled, policy))
    _raise_if(_unique(problems))
    return ResourceTable(entries)


def _resource_items(
    resources: Any, label: str, problems: list[Problem]
) -> list[tuple[str | re.Pattern[str], Mapping[str, Any]]]:
    where = f"{label}CORS()"
    if isinstance(resources, (str, re.Pattern)):
        return [(resources, {})]
    if isinstance(resources, Mapping):
        items = []
        for pattern, resource_options in resources.items():
            if resource_options is None:
                resource_options = {}
            if not isinstance(resource_options, Mapping):
                problems.append(Problem(
                    where, "resources", {pattern: resource_options},
                    "each pattern maps to a dict of options, e.g. {'/api/*': {'origins': [...]}}",
                ))
                continue
            items.append((pattern, resource_options))
        return [item for item in items if _check_pattern(item[0], where, problems)]
    if isinstance(resources, (list, tuple)):
        return [(p, {}) for p in resources if _check_pattern(p, where, problems)]
    problems.append(Problem(
        where, "resources", resources,
        "must be a dict of pattern -> options, a list of patterns, a pattern or a regex",
    ))
    return []


def _check_pattern(pattern: Any, where: str, problems: list[Problem]) -> bool:
    if isinstance(pattern, re.Pattern) and isinstance(pattern.pattern, str):
        return True
    if isinstance(pattern, str) and pattern:
        if pattern == "*" or pattern.startswith(("/", "^", "(", ".", "[")):
            return True
        problems.append(Problem(where, "resources", pattern,
                                f"a path pattern starts with '/'; write '/{pattern}'"))
        return False
    problems.append(Problem(where, "resources", pattern,
                            "a path pattern is a non-empty string or a compiled regex"))
    return False


def _pattern_text(pattern: str | re.Pattern[str]) -> str:
    return pattern.pattern if isinstance(pattern, re.Pattern) else pattern


def _unique(problems: list[Problem]) -> list[Problem]:
    # The same app-wide value is checked once per resource; report it once.
    seen: set[str] = set()
    unique = []
    for problem in problems:
        if str(problem) not in seen:
            seen.add(str(problem))
            unique.append(problem)
    return unique


def current_state() -> CrossOriginState | None:
    """The extension's state for the current app, if ``CORS`` was initialised on it."""
    state: CrossOriginState | None = current_app.extensions.get(EXTENSION_KEY)
    return state




__all__ = [
    "CORS",
    "CrossOriginState",
    "PolicySource",
    "answer_preflight",
    "add_cors_headers",
    "current_state",
]
