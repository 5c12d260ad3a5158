"""Where Flask is wired in: the ``CORS`` extension, its per-app state and its request hooks.

``CORS(app)`` registers two of Flask's own request hooks, once per app:

* a ``before_request`` function, placed first among the app's, that answers
  CORS preflights for paths under a policy and, under ``csrf_protection``,
  refuses cross-origin writes by raising :class:`CrossOriginWriteRefused`, a 403
  that Flask's error handling answers (see :mod:`.writes`). It runs
  inside the app and request context, after the app's WSGI middleware and
  Flask's routing, and before any other ``before_request`` hook
  (authentication) or view. A preflight is judged by the policy of the rule its
  *requested* method reaches (``Access-Control-Request-Method``), not by the
  rule ``OPTIONS`` reaches;
* an ``after_request`` function, run after the app's own, that adds CORS
  headers to every other response, error responses included.

Both only look up policies compiled at start-up. Nothing wraps ``app.wsgi_app``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union, cast
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    Request,
    Response,
    got_request_exception,
    has_request_context,
    request,
)
from flask.globals import request_ctx
from werkzeug.exceptions import Forbidden, HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response as BaseResponse

from .errors import ConfigurationError, Problem, collected_warnings, warn_configuration
from .failures import FAILED_KEY, log_failure
from .headers import is_token
from .metrics import MetricsBackend, check_metrics
from .options import (
    OPTIONS_BY_NAME,
    CorsOptions,
    check_csrf_protection,
    merge_layers,
    options_from_config,
    unknown_option_problems,
)
from .policy import Decision, Policy, attach_origin_sources, build_policy, is_preflight
from .reasons import Refusal, escape, logger
from .report_only import compare as compare_report_only
from .report_only import report_write
from .resources import ResourcePattern, ResourceTable, compile_resources
from .response_headers import finish_answer, own_answer, withhold_grants, write, write_answer
from .signals import (
    listens,
    preflight_answered,
    request_refused,
    send_preflight_answered,
    send_refused,
)
from .views import MethodPolicies, views_of
from .writes import SAFE_METHODS, WriteProtection

try:
    # The ContextVar behind flask.request (Flask 2.2 to 3.1): read directly, the request
    # costs each hook a quarter of what the proxy's _get_current_object() call costs.
    from flask.globals import _cv_request as _request_context
except ImportError:  # pragma: no cover - a Flask that keeps its request context otherwise

    class _ThroughTheProxy:
        @staticmethod
        def get() -> Any:
            return request_ctx._get_current_object()  # type: ignore[attr-defined]

    _request_context = _ThroughTheProxy()  # type: ignore[assignment]

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from flask.blueprints import BlueprintSetupState
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11; only for mypy
    from werkzeug.routing import MapAdapter, Rule

#: The key of the per-app state in ``app.extensions``.
EXTENSION_KEY = "crossorigin"
#: Set in the WSGI environ when the extension answered the request's preflight itself:
#: the policy and its decision, for the after_request hook to finish the answer.
ANSWERED_KEY = "flask_crossorigin.answered"
#: Set in the WSGI environ when Flask handles an unhandled exception of the request.
UNHANDLED_KEY = "flask_crossorigin.unhandled"
#: Set in the WSGI environ when the extension refused the request as a cross-origin write.
WRITE_REFUSED_KEY = "flask_crossorigin.write_refused"
#: Set in the WSGI environ to the :class:`~flask_crossorigin.policy.Policy` whose decision
#: the response carries, by the functions that write decisions onto responses
#: (absent: no policy applied). ``flask cors check`` reads it: it reports what the hooks
#: decided, never a model of them.
POLICY_KEY = "flask_crossorigin.policy"
# Set in the WSGI environ when a refused write is answered with the extension's own empty 403.
_BARE_KEY = "flask_crossorigin.write_refused_bare"
_ALL_OPTIONS = tuple(OPTIONS_BY_NAME)
_STATE_LOCK = threading.Lock()
#: Bounds of the cache of policies by (endpoint, path): entries, and path length.
CACHE_SIZE = 2048
CACHE_PATH_LENGTH = 256
_UNSEEN: Any = object()
# What routing may leave behind and a preflight still be answered: the path has no
# rule, no rule for OPTIONS, or a redirect (resolved to its target's rule).
_ROUTING_OUTCOMES = (NotFound, MethodNotAllowed, RequestRedirect)

AppOrBlueprint = Union[Flask, Blueprint]


class CORS:
    """The Flask extension. ``CORS(app)``, ``CORS(blueprint)`` or ``CORS().init_app(app)``.

    Keyword arguments are the options of :data:`flask_crossorigin.options.OPTIONS`
    (the same names as flask-cors). They override the ``CORS_*`` keys of
    ``app.config``, which override the defaults; an entry of ``resources``
    overrides all three for the paths it matches. Everything is validated and
    compiled here: a bad configuration raises :class:`ConfigurationError`.
    """

    def __init__(
        self, app: AppOrBlueprint | None = None, **options: Unpack[CorsOptions]
    ) -> None:
        _raise_if(unknown_option_problems(options, "CORS()", _ALL_OPTIONS))
        self._options = options
        if app is not None:
            self.init_app(app)

    def init_app(self, app: AppOrBlueprint, **options: Unpack[CorsOptions]) -> None:
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
    cache of the policies of ``@cross_origin`` views by endpoint (found by
    :mod:`flask_crossorigin.views`). Creating it changes nothing on the app;
    :meth:`register` adds the request hooks.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.table: ResourceTable[Policy] | None = None
        self.blueprint_tables: dict[str, ResourceTable[Policy]] = {}
        #: The options each ``CORS(blueprint)`` was given, by blueprint name: they are the
        #: whole of its policy (it reads no ``CORS_*`` key), which ``flask cors lint``
        #: tells a user who set such keys for it.
        self.blueprint_options: dict[str, dict[str, Any]] = {}
        #: What the app's view functions declare (``@cross_origin`` found on them).
        self.views = views_of(app)
        # Per endpoint: its view's policy, its policies per method (a MethodView with
        # decorated methods), or None (no @cross_origin: the resource tables decide).
        self._view_policies: dict[str, Policy | MethodPolicies | None] = {}
        # Recent answers of policy_for by (endpoint, path), and by (endpoint, path,
        # method) for views with per-method policies: the request path's only lookup.
        # Bounded; cleared whenever the configuration changes.
        self._policies: dict[tuple[Any, ...], Policy | None] = {}
        # The decorated views registered after CORS(app) are checked at the first request.
        self._views_unchecked = True
        #: Whether any policy of the app checks cross-origin writes: its resource tables',
        #: worked out when they are compiled, or its ``@cross_origin`` views', when they
        #: are checked (by ``CORS(app)``, and at the first request for those registered
        #: later). While it is ``False`` the first hook lets every request but a preflight
        #: go after one comparison and this flag: an app without ``csrf_protection`` pays
        #: nothing for it.
        self.protects_writes = False
        self._views_protect_writes = False
        #: The app-level ``csrf_protection`` (``CORS(app, csrf_protection=...)``, else
        #: ``CORS_CSRF_PROTECTION``): it covers every route of the app. A policy that
        #: leaves the option unset (a blueprint's, a resource entry's, a decorator's)
        #: takes it; where no policy covers a path, no cross-origin writer is trusted.
        self.app_csrf: bool | str = False
        #: Where :attr:`app_csrf` was set (``"CORS()"``, ``app.config[...]``).
        self.app_csrf_where = "default"
        # The write check of paths no policy covers, while app_csrf is on.
        self._uncovered: tuple[Policy, WriteProtection] | None = None
        # The write checks by (endpoint, path), or (endpoint, path, method) as _policies:
        # the policy whose origins are trusted and its check, or None where writes are
        # not checked.
        self._writes: dict[tuple[Any, ...], tuple[Policy, WriteProtection] | None] = {}
        #: The ``metrics`` backend of the app (``None``: off), handed to every policy.
        self.metrics: MetricsBackend | None = None

    def register(self) -> None:
        """Add the extension's hooks to the app (once, from :func:`_state_for`)."""
        app = self.app
        # First among the app's before_request functions: before authentication hooks.
        app.before_request_funcs.setdefault(None, []).insert(0, self.first_hook)
        # Flask calls after_request functions in reverse order: the first one runs last,
        # after the app's own hooks set (or removed) headers.
        app.after_request_funcs.setdefault(None, []).insert(0, self.add_response_headers)
        got_request_exception.connect(_mark_unhandled, app, weak=False)

    # -- configuration -------------------------------------------------------------

    def set_app_policy(self, options: Mapping[str, Any]) -> None:
        if self.table is not None:
            raise ConfigurationError([Problem(
                "CORS()", "app", self.app.name,
                "the extension is already initialised on this app; pass all resources "
                "to one CORS(app) call",
            )])
        problems: list[Problem] = []
        metrics = _metrics_choice(self.app.config, options, problems)
        with collected_warnings() as shown:
            try:
                table = compile_resources(self.app.config, options, "")
                self._set_app_csrf(options)
            except ConfigurationError as error:  # every problem at once, metrics' too
                raise ConfigurationError([*error.problems, *problems]) from None
        _raise_if(problems)
        self._show(shown)
        # Imports the chosen library (only then), once the configuration is known good.
        self.metrics = MetricsBackend(metrics) if metrics is not None else None
        self.table = table
        self._configuration_changed()
        self.check_views()
        attach_origin_sources(self.app, [policy for _, policy in self.table.entries])

    def add_blueprint(self, name: str, options: Mapping[str, Any]) -> None:
        if name in self.blueprint_tables:
            raise ConfigurationError([Problem(
                f"CORS(blueprint {name!r})", "blueprint", name,
                "CORS is already applied to this blueprint; pass all options in one call",
            )])
        if "metrics" in options:
            raise ConfigurationError([Problem(
                f"CORS(blueprint {name!r})", "metrics", options["metrics"],
                "is app-wide: set it in CORS(app, metrics=...) or app.config['CORS_METRICS']",
            )])
        with collected_warnings() as shown:
            table = compile_resources(
                self.app.config, options, f"blueprint {name!r} ", app_resources=False
            )
            if self.table is None:
                self._set_app_csrf(None)  # CORS_CSRF_PROTECTION, until CORS(app) says more
        self._show(shown)
        self.blueprint_tables[name] = table
        self.blueprint_options[name] = dict(options)
        self._configuration_changed()
        attach_origin_sources(self.app, [policy for _, policy in table.entries])

    def _set_app_csrf(self, options: Mapping[str, Any] | None) -> None:
        """Find the app-level ``csrf_protection`` in ``CORS(app)``'s options (``None``:
        not called yet) over the app's config, and compile the check of the paths no
        policy covers."""
        layers: list[tuple[str, Mapping[str, Any]]] = [
            ("app.config", options_from_config(self.app.config))]
        if options is not None:
            layers.append(("CORS()", options))
        mode, where = merge_layers(layers)["csrf_protection"]
        problems: list[Problem] = []
        mode = check_csrf_protection(mode, where, problems)
        _raise_if(problems)
        self.app_csrf, self.app_csrf_where = mode, where
        self._uncovered = None
        if mode is not False:
            # Trusts no origin: same-origin writes, Sec-Fetch-Site: none and requests
            # without browser headers still pass (see writes.py).
            policy, problems = build_policy(where, [(where, {"origins": []})])
            assert policy is not None, problems
            check = WriteProtection(where, policy.origins, enforce=mode is True,
                                    untrusted="write-uncovered")
            self._uncovered = (policy, check)

    def _configuration_changed(self) -> None:
        self._policies.clear()
        self._writes.clear()
        tables = [self.table, *self.blueprint_tables.values()]
        self.protects_writes = self._views_protect_writes or self.app_csrf is not False or any(
            policy.writes is not None
            for table in tables if table is not None for _, policy in table.entries)
        if self.metrics is not None:
            self._count([policy for table in tables if table is not None
                         for _, policy in table.entries])

    def _count(self, policies: list[Policy]) -> None:
        """Hand each policy its counters (the app has ``metrics`` on)."""
        metrics = self.metrics
        assert metrics is not None
        for policy in policies:
            if policy.metrics is None:
                policy.metrics = metrics.for_policy(policy.name)
            metrics.watch(policy.origin_sources())

    def _show(self, messages: list[str]) -> None:
        """Show configuration warnings at the user's line, and remember them: a
        decorator's policy compiled later over the same config keys does not repeat them."""
        for message in messages:
            if message not in self.views.warned:
                self.views.warned.add(message)
                warn_configuration(message)

    def check_views(self) -> None:
        """Compile the policies of the ``@cross_origin`` views registered so far, and
        find decorators the routes cannot see: one :class:`ConfigurationError`
        listing every problem."""
        problems = self.views.check()
        if problems:
            raise ConfigurationError(problems)
        self._view_policies.clear()
        self._views_protect_writes = any(
            policy.writes is not None for endpoint in list(self.app.view_functions)
            for policy in self.view_policies(endpoint))
        self._configuration_changed()

    def _check_views_once(self) -> None:
        """At the first request: the views registered after ``CORS(app)``. Until the
        problems are fixed, every request raises the same error (as if the app had
        not started)."""
        self.check_views()
        self._views_unchecked = False

    def view_policy(self, endpoint: str, method: str | None = None) -> Policy | None:
        """The ``@cross_origin`` policy of an endpoint's view for ``method``
        (``None``: the view's policy for every method), or ``None``."""
        entry = self._view_entry(endpoint)
        if type(entry) is MethodPolicies:
            return entry.get(method)
        return cast(Union[Policy, None], entry)

    def view_policies(self, endpoint: str) -> list[Policy]:
        """Every ``@cross_origin`` policy of an endpoint's view (one per decorated method)."""
        entry = self._view_entry(endpoint)
        if type(entry) is MethodPolicies:
            return entry.all()
        return [cast(Policy, entry)] if entry is not None else []

    def _view_entry(self, endpoint: str) -> Policy | MethodPolicies | None:
        try:
            return self._view_policies[endpoint]
        except KeyError:
            pass
        entry = self.views.compiled(endpoint)
        self._view_policies[endpoint] = entry
        if self.metrics is not None and entry is not None:
            self._count(entry.all() if type(entry) is MethodPolicies else [cast(Policy, entry)])
        return entry

    # -- which policy applies ------------------------------------------------------------

    def policy_for(
        self,
        path: str,
        endpoint: str | None,
        blueprints: list[str],
        source: PolicySource | None = None,
        method: str | None = None,
    ) -> Policy | None:
        """The policy for a request: its view's decorator, else a blueprint's, else the app's.

        ``method`` is the method the view runs for (a preflight's requested method):
        a class-based view may have a decorator on some of its methods only.
        ``source``, when given, is filled in with where the policy comes from
        (see :meth:`explain`); requests pass none.
        """
        if endpoint is not None:
            entry = self._view_policies.get(endpoint, _UNSEEN)
            policy: Policy | None = (
                self.view_policy(endpoint, method)
                if entry is _UNSEEN or type(entry) is MethodPolicies else entry
            )
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
        self, path: str, endpoint: str | None, blueprints: list[str], method: str | None = None
    ) -> tuple[Policy | None, PolicySource]:
        """:meth:`policy_for`, and where the policy comes from (for ``flask cors``)."""
        source = PolicySource()
        return self.policy_for(path, endpoint, blueprints, source, method), source

    def policy_of_rule(
        self, rule: Rule | None, path: str, method: str | None = None
    ) -> Policy | None:
        """The policy of a request to ``path`` that reaches ``rule`` (``None``: no rule),
        for ``method`` (the request's, or a preflight's requested method)."""
        key, cached = self._cached(self._policies, rule, path, method)
        if cached is not _UNSEEN:
            return cast("Policy | None", cached)
        blueprints = blueprints_of(rule.endpoint) if rule is not None else []
        policy = self.policy_for(
            path, key[0], blueprints if self.blueprint_tables else [], method=method
        )
        _remember(self._policies, key, path, policy)
        return policy

    def _cached(
        self, cache: dict[tuple[Any, ...], Any], rule: Rule | None, path: str, method: str | None
    ) -> tuple[tuple[Any, ...], Any]:
        """The key of a request in one of the per-request caches, and what it holds
        there (``_UNSEEN``: nothing yet). Views with per-method policies are cached
        per method, never under (endpoint, path)."""
        key: tuple[Any, ...] = (rule.endpoint, path) if rule is not None else (None, path)
        found = cache.get(key, _UNSEEN)
        if (found is _UNSEEN and rule is not None
                and type(self._view_entry(rule.endpoint)) is MethodPolicies):
            key = (rule.endpoint, path, method)
            found = cache.get(key, _UNSEEN)
        return key, found

    # -- which cross-origin writes are checked ------------------------------------------------

    def writes_of_rule(
        self, rule: Rule | None, path: str, method: str | None = None
    ) -> tuple[Policy, WriteProtection] | None:
        """The write check of a ``method`` request to ``path`` that reaches ``rule``, and
        the policy whose origins it trusts; ``None`` when writes there are not checked.

        The policy of :meth:`policy_of_rule` decides, trusting its origins. One that
        leaves ``csrf_protection`` unset takes the app-level value (:attr:`app_csrf`),
        except that a ``@cross_origin`` view takes the value of the resource pattern
        its path matches; so ``CORS(app, csrf_protection=True)`` covers blueprints and
        decorated views too. Where no policy covers the path, the app-level value
        applies, trusting no origin.
        """
        key, cached = self._cached(self._writes, rule, path, method)
        if cached is not _UNSEEN:
            return cast("tuple[Policy, WriteProtection] | None", cached)
        blueprints = blueprints_of(rule.endpoint) if rule is not None else []
        if not self.blueprint_tables:
            blueprints = []
        source = PolicySource()
        policy = self.policy_for(path, key[0], blueprints, source, method)
        found: tuple[Policy, WriteProtection] | None = self._uncovered
        if policy is not None:
            if source.kind == "decorator" and not policy.csrf_protection_set:
                mode = self.csrf_of(self.table_policy(path, blueprints))
            else:
                mode = self.csrf_of(policy)
            check = policy.writes_with(mode)
            found = (policy, check) if check is not None else None
        _remember(self._writes, key, path, found)
        return found

    def csrf_of(self, policy: Policy | None) -> bool | str:
        """The ``csrf_protection`` of a resource policy: its own when set, else the
        app-level value (which also applies where no policy covers a path: ``None``)."""
        if policy is not None and policy.csrf_protection_set:
            return policy.csrf_protection
        return self.app_csrf

    def table_policy(self, path: str, blueprints: list[str]) -> Policy | None:
        """The policy of ``path`` in the resource tables (a blueprint's, else the app's),
        whatever decorator its view has."""
        for name in blueprints:
            table = self.blueprint_tables.get(name)
            hit = table.lookup(path) if table is not None else None
            if hit is not None:
                return hit[1]
        hit = self.table.lookup(path) if self.table is not None else None
        return hit[1] if hit is not None else None

    # -- the request hooks -----------------------------------------------------------------

    def protect_writes(self, req: Request) -> None:
        """Refuse the request, raising :class:`CrossOriginWriteRefused` (a 403 that
        Flask's error handling answers), if it is an untrusted cross-origin write under
        ``csrf_protection``; report-only, report it and let it go on.

        Fails closed: an unexpected error is logged at ERROR and the write refused.
        """
        try:
            decided = self.judge_write(req)
            if decided is None:
                return
            policy, check, refusal = decided
            if refusal is not None:
                refuse_write(self.app, policy, check, refusal, req.environ)
        except CrossOriginWriteRefused:
            raise
        except Exception as error:  # fail closed: refused, never a 500
            log_failure("checking a cross-origin write", error,
                        "the write is refused with 403, before the view")
            req.environ[WRITE_REFUSED_KEY] = True
            reason = "checking the write failed (see the log)" if self.app.debug else None
            raise CrossOriginWriteRefused(reason) from None

    def judge_write(
        self, req: Request
    ) -> tuple[Policy, WriteProtection, Refusal | None] | None:
        """The write check of a routed request and its verdict (``None``: no check
        applies); what the first hook decides, and what ``flask cors check`` shows."""
        rule, path = req.url_rule, req.path
        if rule is None and isinstance(req.routing_exception, RequestRedirect):
            # A slash redirect: the browser repeats the write at the target, judged there.
            return None
        found = self._writes.get((rule.endpoint if rule else None, path), _UNSEEN)
        if found is _UNSEEN:
            found = self.writes_of_rule(rule, path, req.method)
        if found is None:
            return None
        policy, check = found
        return policy, check, check.refusal(req.method, req.environ)

    def first_hook(self) -> Response | None:
        """``before_request``, first of the app's: answer a preflight, or refuse a
        cross-origin write; ``None`` lets Flask go on (the app's hooks, the view).

        Answered here: preflights whose ``OPTIONS`` would get Flask's automatic
        answer (or reach a ``@cross_origin`` view), under a policy with
        ``automatic_options``. A view that handles ``OPTIONS`` itself answers
        its own preflights; the response then gets headers in ``after_request``.
        Writes are refused under a policy with ``csrf_protection`` (see
        :meth:`protect_writes`); while no policy of the app has it, a request
        other than a preflight costs one comparison and that flag.
        """
        if self._views_unchecked:
            self._check_views_once()
        req: Request = _request_context.get().request
        if req.method != "OPTIONS" or not is_preflight(req.environ):
            if self.protects_writes and req.method not in SAFE_METHODS:
                self.protect_writes(req)  # raises CrossOriginWriteRefused to refuse
            return None  # every other request: one comparison and one flag
        try:
            return self._answer_preflight(req)
        except ConfigurationError:
            raise  # a start-up check deferred to a view's first request
        except Exception as error:  # never a 500 from the CORS layer
            req.environ[FAILED_KEY] = True
            log_failure("answering a CORS preflight", error,
                        "Flask answers it as if the extension were absent, without a grant")
            return None

    def _answer_preflight(self, req: Request) -> Response | None:
        own = req.url_rule  # the rule OPTIONS reached
        if own is not None and not getattr(own, "provide_automatic_options", False):
            view_policy = self.view_policy(own.endpoint, "OPTIONS")
            if view_policy is None or not view_policy.automatic_options:
                return None  # the view answers OPTIONS itself
        found = preflight_rule(req)
        if found is None:
            return None  # routing failed in a way Flask must answer (a 400, say)
        method = req.environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
        policy = self.policy_of_rule(found[0], routed_path(req), method)
        if policy is None or not policy.automatic_options:
            return None
        return answer_preflight(self.app, policy, req.environ)

    #: The first hook's name before it refused writes too.
    answer_preflight = first_hook

    def add_response_headers(self, response: BaseResponse) -> BaseResponse:
        """``after_request``: add the CORS headers of the request's policy to ``response``.

        It runs after the app's own hooks, so it also finishes the extension's
        own preflight answer (each CORS header once, whatever they added).
        Whatever fails in here is logged, and the response goes out without a grant.
        """
        try:
            req: Request = _request_context.get().request
            if self.protects_writes and WRITE_REFUSED_KEY in req.environ:
                # A refused cross-origin write: no grant, whatever the app's hooks added.
                withhold_grants(response)
                if req.environ.pop(_BARE_KEY, False):
                    del response.headers["Content-Type"]
                return response
            rule = req.url_rule
            path = req.path
            if rule is None or req.method == "OPTIONS":
                environ = req.environ
                if FAILED_KEY in environ:
                    withhold_grants(response)
                    return response
                answered = environ.get(ANSWERED_KEY)
                if answered is not None:
                    policy, decision, written = answered
                    finish_answer(self.app, response, policy, decision, written, environ)
                    return response
                rule, found = self._rule_of_unusual(req)
                if not found:
                    return response
                path = routed_path(req)
            # The request path's only lookup: the policy by (endpoint, path).
            policy = self._policies.get((rule.endpoint if rule else None, path), _UNSEEN)
            if policy is _UNSEEN:
                if self._views_unchecked:
                    return response  # the views' check failed (its error is the response)
                policy = self.policy_of_rule(rule, path, _method_of(req))
            if policy is not None:
                add_cors_headers(self.app, response, policy, req.environ)
        except ConfigurationError:
            raise  # a start-up check deferred to a view's first request
        except Exception as error:  # never a 500 from the CORS layer
            _failed("adding CORS headers to a response", error, response)
        return response

    def _rule_of_unusual(self, req: Request) -> tuple[Rule | None, bool]:
        """The rule that decides for an OPTIONS or unrouted request, and whether one does.

        A preflight (one the extension did not answer itself) is judged by the
        rule of its requested method; a redirected request by the rule of the
        redirect's target.
        """
        environ = req.environ
        if is_preflight(environ):
            found = preflight_rule(req)
            return (found[0], True) if found is not None else (None, False)
        if req.url_rule is None and req.routing_exception is not None:
            return _redirect_rule(req), True
        return req.url_rule, True

def _method_of(req: Request) -> str:
    """The method whose view decides: a preflight's requested method, else the request's."""
    if req.method == "OPTIONS" and is_preflight(req.environ):
        return cast(str, req.environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"])
    return req.method


def _remember(cache: dict[tuple[Any, ...], Any], key: tuple[Any, ...], path: str,
              value: Any) -> None:
    """Keep an answer in a per-request cache, bounded in entries and path length."""
    if len(path) <= CACHE_PATH_LENGTH:
        if len(cache) >= CACHE_SIZE:
            cache.clear()  # bounded: many distinct paths only cost a refill
        cache[key] = value


def _mark_unhandled(app: Flask, **_: Any) -> None:
    # got_request_exception: Flask is about to answer an unhandled exception (a 500).
    request.environ[UNHANDLED_KEY] = True


def blueprints_of(endpoint: str) -> list[str]:
    """The blueprints of an endpoint, innermost first, as ``request.blueprints`` lists them."""
    name = endpoint.rpartition(".")[0]
    chain = []
    while name:
        chain.append(name)
        name = name.rpartition(".")[0]
    return chain


def decorator_policy(app: Flask, endpoint: str, method: str | None = None) -> Policy | None:
    """The compiled ``@cross_origin`` policy of a view for ``method``, or ``None``
    (no decorator covers it), wherever the decorator is (see :mod:`.views`)."""
    entry = views_of(app).compiled(endpoint)
    if isinstance(entry, MethodPolicies):
        return entry.get(method)
    return entry


def preflight_rule(req: Request) -> tuple[Rule | None] | None:
    """The rule a preflight's requested method reaches at its URL, as a 1-tuple.

    ``(None,)`` when no rule does (the path's resource policy decides), ``None``
    when routing failed in a way that Flask must answer (an untrusted ``Host``).
    A slash redirect is followed to the rule of its target, as a browser never
    follows a redirected preflight. When the requested method reaches no rule,
    or is malformed (then not routed at all), the rule ``OPTIONS`` reached
    stands in: the actual request would get a 405, and the policy decides.
    """
    exception = req.routing_exception
    adapter: MapAdapter | None = request_ctx.url_adapter
    if adapter is None or (exception is not None and not isinstance(exception, _ROUTING_OUTCOMES)):
        return None
    method = req.environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
    rule = _match(adapter, None, method) if is_token(method) else None
    # No rule serves the method here (the actual request would get a 405): the rule
    # OPTIONS reached decides, as no other view's policy can be bypassed through it.
    return (rule if rule is not None else req.url_rule,)


def routed_path(req: Request) -> str:
    """The path whose resource pattern decides: the target of a slash redirect (as
    for the target's rule), else the request's own."""
    exception = req.routing_exception
    if isinstance(exception, RequestRedirect):
        adapter: MapAdapter | None = request_ctx.url_adapter
        if adapter is not None:
            return _redirect_path(adapter, exception)
    return req.path


def _redirect_rule(req: Request) -> Rule | None:
    """For a response to a request Flask redirects (a missing slash), the target's rule."""
    exception = req.routing_exception
    adapter: MapAdapter | None = request_ctx.url_adapter
    if isinstance(exception, RequestRedirect) and adapter is not None:
        return _match(adapter, _redirect_path(adapter, exception), req.method)
    return None


def _match(adapter: MapAdapter, path: str | None, method: str) -> Rule | None:
    try:
        rule, _ = adapter.match(path, method=method, return_rule=True)
    except RequestRedirect as redirect:
        if path is not None:
            return None  # one redirect is followed, never a chain
        return _match(adapter, _redirect_path(adapter, redirect), method)
    except HTTPException:
        return None
    return rule


def _redirect_path(adapter: MapAdapter, redirect: RequestRedirect) -> str:
    path = unquote(urlsplit(redirect.new_url).path)
    root = adapter.script_name.rstrip("/")
    return path[len(root):] if root and path.startswith(root) else path


def answer_preflight(app: Flask, policy: Policy, environ: WSGIEnvironment) -> Response:
    """The extension's own answer to a preflight: 204 when granted, 403 when refused.

    Never raises: when something fails, the answer is a 403 without a grant.
    """
    try:
        return _answer_preflight(app, policy, environ)
    except ConfigurationError:
        raise  # a start-up check deferred to a view's first request
    except Exception as error:  # never a 500 from the CORS layer
        environ[FAILED_KEY] = True
        log_failure("answering a CORS preflight", error, "answered 403 without a grant")
        return own_answer(app, 403)


def _answer_preflight(app: Flask, policy: Policy, environ: WSGIEnvironment) -> Response:
    environ[POLICY_KEY] = policy
    decision = policy.preflight_for(environ)
    refusal = decision.refusal
    # The app's response class, without the CORS headers it may add by default.
    response = own_answer(app, 204 if refusal is None else 403)
    if refusal is not None and app.debug:
        # In development only, the answer says why; in production it reveals nothing more.
        response.set_data(f"CORS preflight refused: {refusal.message}\n")
        response.mimetype = "text/plain"
        response.headers["X-Content-Type-Options"] = "nosniff"
    else:
        del response.headers["Content-Type"]  # an empty answer has no media type
    written = write_answer(response, decision)
    # The after_request hook finishes it, after the app's own hooks added theirs.
    environ[ANSWERED_KEY] = (policy, decision, written)
    if refusal is not None:
        _decided(app, policy, decision, environ, "preflight")
    elif policy.metrics is not None:
        # A grant (it carries Origin and headers, what _decided checks): counted inline.
        next(policy.metrics.granted_preflight)
    if policy.report_only is not None:
        compare_report_only(app, policy, decision, environ)
    if preflight_answered.receivers:
        send_preflight_answered(app, policy, decision, environ)
    return response


class CrossOriginWriteRefused(Forbidden):
    """The 403 of a refused cross-origin write (``csrf_protection``).

    Raised from the extension's first ``before_request`` hook, so that Flask's own
    error handling answers it: ``@app.errorhandler(403)`` (or this class, or a
    blueprint's handler) shapes the body, and the app's other ``before_request``
    hooks and the view never run. Whatever the handler and ``after_request``
    hooks add, the response grants no CORS read. :attr:`description` is the
    reason in debug mode only; in production it says nothing about why.
    Without a handler the answer is an empty 403 (in debug mode, the reason as
    plain text).
    """

    description = "Cross-origin write refused."

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(description=reason)
        #: Why, in debug mode only (``None`` in production).
        self.reason = reason

    def get_body(
        self, environ: WSGIEnvironment | None = None, scope: dict[str, Any] | None = None
    ) -> str:
        if self.reason is None:
            if has_request_context():
                # Flask's response class gives the empty answer a media type: the
                # after_request hook takes it off again.
                request.environ[_BARE_KEY] = True
            return ""
        return f"Cross-origin write refused: {self.reason}\n"

    def get_headers(
        self, environ: WSGIEnvironment | None = None, scope: dict[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        if self.reason is None:
            return []  # an empty answer has no media type
        return [("Content-Type", "text/plain; charset=utf-8"),
                ("X-Content-Type-Options", "nosniff")]


def refuse_write(
    app: Flask,
    policy: Policy,
    check: WriteProtection,
    refusal: Refusal,
    environ: WSGIEnvironment,
) -> None:
    """Refuse a cross-origin write: report it like every refusal and raise
    :class:`CrossOriginWriteRefused`; for ``csrf_protection='report-only'``, report
    what would be refused and return (the request goes on)."""
    if not check.enforce:
        report_write(app, policy, refusal, environ)
        return
    environ[WRITE_REFUSED_KEY] = True
    environ[POLICY_KEY] = policy
    _decided(app, policy, Decision((), (), refusal), environ, "write")
    # In development only, the reason is given; in production it reveals nothing more.
    raise CrossOriginWriteRefused(refusal.message if app.debug else None)


def add_cors_headers(
    app: Flask, response: BaseResponse, policy: Policy, environ: WSGIEnvironment
) -> None:
    """Add the CORS headers ``policy`` grants to a ``Response`` object.

    A response that set its own ``Access-Control-Allow-Origin`` gets no other
    header, and any other CORS header it set keeps its value: each appears once,
    and never credentials beside an origin the policy does not list (see
    :mod:`flask_crossorigin.response_headers`). Never raises: when something
    fails, the response goes out without a grant.
    """
    environ[POLICY_KEY] = policy
    try:
        decision = write(app, response, policy, environ, _decide)
        if decision is None or decision is _NOT_INTERCEPTED:
            return
        if policy.metrics is not None:
            _decided(app, policy, decision, environ, None)
        elif decision.refusal is not None and (
                request_refused.receivers or logger.isEnabledFor(logging.DEBUG)
                or (app.debug and logger.isEnabledFor(logging.WARNING))):
            # Someone may hear of it (what _report checks exactly): a refusal that
            # nobody logs, hears or counts costs a grant's checks, no more.
            _report(app, policy, decision, environ)
        if policy.report_only is not None:
            compare_report_only(app, policy, decision, environ)
    except ConfigurationError:
        raise  # a start-up check deferred to a view's first request
    except Exception as error:  # never a 500 from the CORS layer
        _failed("adding CORS headers to a response", error, response, environ)


# An unhandled exception's 500 under intercept_exceptions=False: no header, no report.
_NOT_INTERCEPTED = Decision((), (), None)


def _decide(policy: Policy, response: BaseResponse, environ: WSGIEnvironment) -> Decision:
    """The decision for a response the app made, once its own headers are known."""
    if UNHANDLED_KEY in environ and not policy.intercept_exceptions:
        return _NOT_INTERCEPTED  # by flask-cors's meaning of the option
    if "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ and is_preflight(environ):
        if not 200 <= response.status_code < 300:  # the app's own refusal: no grant
            return Decision((), policy.preflight_vary, None)
        return policy.preflight_for(environ)
    return policy.actual(environ.get("HTTP_ORIGIN"))


def _failed(
    what: str, error: Exception, response: BaseResponse, environ: WSGIEnvironment | None = None
) -> None:
    """Log a failure of the extension's own work and withhold every grant (fail closed)."""
    if environ is None:
        environ = request.environ
    environ[FAILED_KEY] = True
    log_failure(what, error, "the response goes out without a CORS grant")
    try:
        withhold_grants(response)
    except Exception as second:
        log_failure("withholding the grants of a response", second,
                    "the response goes out as the app made it")


def _decided(
    app: Flask, policy: Policy, decision: Decision, environ: WSGIEnvironment, kind: str | None
) -> None:
    """Where every final decision of the extension is observed, once and the same way
    (two cheap cases are handled inline by the callers, with the same effect: a granted
    preflight with metrics on is counted with one ``next()``, and a refusal is not
    passed here when metrics are off and nobody logs or hears it):
    a preflight answer, a refused write, an actual or error response (``kind``
    ``None``: a preflight the view answered, or an actual request). The counters
    (``metrics`` on), then, for a refusal, the log line and
    :data:`~flask_crossorigin.signals.request_refused`. Callers skip the call when
    the decision is a grant and metrics are off (one check)."""
    metrics = policy.metrics
    if metrics is not None and "HTTP_ORIGIN" in environ and (
            decision.refusal is not None or decision.headers):
        # (No grant and no refusal: a preflight the view itself answered with an error.)
        if kind is None:
            kind = "preflight" if ("HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
                                   and is_preflight(environ)) else "actual"
        metrics.decided(kind, decision.refusal)
    if decision.refusal is not None:
        _report(app, policy, decision, environ)


def _report(app: Flask, policy: Policy, decision: Decision, environ: WSGIEnvironment) -> None:
    """Log a refusal and send :data:`~flask_crossorigin.signals.request_refused`.

    The reason is only formatted when the log or a signal receiver wants it.
    """
    refusal = decision.refusal
    if refusal is None:
        return
    # In debug mode a refusal is logged where the developer sees it.
    level = logging.WARNING if app.debug else logging.DEBUG
    logged = logger.isEnabledFor(level)
    heard = listens(request_refused, app)
    if not logged and not heard:
        return  # nobody listens: nothing more to work out
    preflight = is_preflight(environ)
    if logged:
        kind = "preflight" if preflight else "write" if WRITE_REFUSED_KEY in environ else "request"
        logger.log(
            level,
            "refused %s %s %s (%s): %s",
            kind,
            escape(environ.get("REQUEST_METHOD", "")),
            escape(request.path),
            policy.name,
            refusal.message,
        )
    if heard:
        send_refused(app, policy, refusal, environ, preflight)


def _state_for(app: Flask) -> CrossOriginState:
    """The app's state, created (and its hooks registered) on first use."""
    state = app.extensions.get(EXTENSION_KEY)
    if state is None:
        with _STATE_LOCK:
            state = app.extensions.get(EXTENSION_KEY)
            if state is None:
                state = app.extensions[EXTENSION_KEY] = CrossOriginState(app)
                state.register()
    return cast(CrossOriginState, state)


def _metrics_choice(
    config: Mapping[str, Any], options: Mapping[str, Any], problems: list[Problem]
) -> str | None:
    """The app's ``metrics`` backend (``None``: off); a problem when it cannot be used."""
    if "metrics" in options:
        return check_metrics(options["metrics"], "CORS()", problems)
    return check_metrics(config.get("CORS_METRICS"), "app.config['CORS_METRICS']", problems)


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ConfigurationError(problems)


__all__ = [
    "POLICY_KEY",
    "CORS",
    "CrossOriginState",
    "CrossOriginWriteRefused",
    "PolicySource",
    "answer_preflight",
    "add_cors_headers",
    "refuse_write",
]
