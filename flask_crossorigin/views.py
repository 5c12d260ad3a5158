"""Where a view's ``@cross_origin`` policy is found, and the start-up check of an app's views.

The decorator marks the function it returns (its wrapper) with a
:class:`ViewPolicy`. The extension finds that mark from the function a route
registered, wherever the decorator sits:

* on the registered function itself, or copied onto it by ``functools.wraps``;
* behind wrappers that copied nothing: their ``__wrapped__``, a bound method's
  function, a ``functools.partial``'s function, the functions in a wrapper's
  closure, and the callables held by a callable object. A function that is
  itself the view of another endpoint is never followed (a view calling a
  sibling view does not take its policy);
* per method of a class-based view (``MethodView``): ``@cross_origin`` on
  ``delete`` is that method's policy; ``decorators = [cross_origin(...)]`` on
  the class, or ``@cross_origin`` on ``dispatch_request``, is every other
  method's.

What it cannot find is an error, never another policy: a ``@cross_origin``
placed above ``@app.route`` (the route registered the undecorated function) is
reported by :meth:`AppViews.check`, and a decorated function that runs for an app
whose extension never found it raises (see :mod:`flask_crossorigin.decorator`).
"""

from __future__ import annotations

import contextlib
import dis
import functools
import os
import sys
import threading
import types
import warnings
import weakref
from collections.abc import Iterator, Mapping
from typing import Any, cast

from flask import Flask
from flask.sansio.scaffold import Scaffold
from flask.views import MethodView, View, http_method_funcs
from werkzeug.routing import Rule

from .errors import (
    _PACKAGE_DIR,
    ConfigurationError,
    ConfigurationWarning,
    Problem,
    _framework_dirs,
    collected_warnings,
)
from .options import options_from_config
from .policy import Policy, attach_origin_sources, build_policy

#: How a decorator's arguments are labelled in problems.
WHERE = "@cross_origin()"
# Settings under which no combination of options conflicts: the decorator's own
# arguments are checked over them, so that a conflict found is among its own
# arguments (supports_credentials=True with origins='*'), whatever app.config says.
_NEUTRAL: Mapping[str, Any] = {
    "origins": ["https://app.example"],
    "supports_credentials": False,
    "expose_headers": None,
    "report_only": None,
}
#: What the decorator alone cannot answer (``flask cors lint``, and a warning at the
#: first request of a decorated view of an app without ``CORS(app)``).
UNREACHABLE_PREFLIGHTS = (
    "without CORS(app), the preflights of {methods} {rule} never reach the "
    "@cross_origin view {endpoint}: {why}, and browsers then refuse the request; add "
    "CORS(app, resources={{}}) so the extension answers them with the view's policy"
)
# A chain of wrappers is followed this far (callables visited), never further.
_MAX_VISITS = 64


class Location:
    """The user's line where ``@cross_origin(...)`` was called: problems and warnings
    about the decorator point there, whenever they are found."""

    __slots__ = ("filename", "lineno", "globals")

    def __init__(self, filename: str, lineno: int, module_globals: dict[str, Any]) -> None:
        self.filename = filename
        self.lineno = lineno
        self.globals = module_globals

    @classmethod
    def of_caller(cls, frameworks: bool = False) -> Location:
        """The first frame outside this package (and, with ``frameworks``, outside
        Flask, Werkzeug and click: ``decorators = [...]`` is applied by Flask)."""
        skipped = _framework_dirs() if frameworks else (_PACKAGE_DIR,)
        frame: types.FrameType | None = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.startswith(skipped):
            frame = frame.f_back
        if frame is None:  # pragma: no cover - called from this package only
            return cls("<unknown>", 0, {})
        return cls(frame.f_code.co_filename, frame.f_lineno, frame.f_globals)

    def __str__(self) -> str:
        path = self.filename
        try:
            relative = os.path.relpath(path)
        except ValueError:  # pragma: no cover - another drive on Windows
            relative = path
        return f"{path if relative.startswith('..') else relative}:{self.lineno}"

    def warn(self, message: str) -> None:
        """Show a configuration warning as if raised on this line (once per line, as
        Python's default warning filter shows a warning)."""
        registry = self.globals.setdefault("__warningregistry__", {})
        warnings.warn_explicit(
            message, ConfigurationWarning, self.filename, self.lineno,
            module=self.globals.get("__name__"), registry=registry,
            module_globals=self.globals,
        )


def check_own_arguments(options: Mapping[str, Any], location: Location) -> tuple[bool, set[str]]:
    """Check what the decorator's arguments decide on their own, raising at its line.

    Every value, and every combination among them; a combination with values
    ``app.config`` may supply (``CORS_ORIGINS`` for ``supports_credentials=True``)
    waits for the app. Warnings are shown now, at the decorator's line. Returns
    the policy's ``automatic_options`` and the warnings shown.
    """
    with collected_warnings() as shown:
        base, problems = build_policy(
            "@cross_origin()", [("(neutral)", _NEUTRAL), (WHERE, options)]
        )
    for message in shown:
        location.warn(message)
    if problems or base is None:
        raise ConfigurationError(problems)
    return base.automatic_options, set(shown)


class ViewPolicy:
    """The options of one decorated view, and its compiled policy per app.

    The decorator's arguments were checked when it was applied (see
    :func:`check_own_arguments`). The policy is compiled once per app, merged over
    that app's ``CORS_*`` config keys, by :meth:`policy_for`: when ``CORS(app)``
    is initialised, at the app's first request, or on the view's first request
    without ``CORS(app)``, for every decorated view of the app at once.
    """

    def __init__(
        self,
        view_name: str,
        options: Mapping[str, Any],
        location: Location,
        automatic_options: bool,
        warned: set[str],
    ) -> None:
        self.name = f"@cross_origin on {view_name}"
        self.options = options
        self.location = location
        self.automatic_options = automatic_options
        self._warned = warned  # shown at the decorator's line already
        self._per_app: weakref.WeakKeyDictionary[Flask, Policy] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<ViewPolicy {self.name} at {self.location}>"

    def policy_for(self, app: Flask) -> Policy:
        """The compiled policy for ``app``; :class:`ConfigurationError` when it cannot
        compile, each problem prefixed with the decorator's line."""
        policy = self._per_app.get(app)
        if policy is not None:
            return policy
        with self._lock:
            policy = self._per_app.get(app)
            if policy is None:
                policy = self._compile(app)
                self._per_app[app] = policy
                attach_origin_sources(app, [policy])  # loaded origins: the first load
        return policy

    def _compile(self, app: Flask) -> Policy:
        shown = views_of(app).warned
        with collected_warnings() as messages:
            config = options_from_config(app.config)
            config.pop("resources", None)
            policy, problems = build_policy(
                self.name, [("app.config", config), (WHERE, self.options)]
            )
        for message in messages:
            if message not in self._warned and message not in shown:
                shown.add(message)
                self.location.warn(message)
        if problems or policy is None:
            raise ConfigurationError([self.located(problem) for problem in problems])
        return policy

    def forget(self, app: Flask) -> None:
        """Drop the policy compiled for ``app`` (its views are not all usable)."""
        self._per_app.pop(app, None)

    def located(self, problem: Problem) -> Problem:
        """``problem``, saying at which line the decorator is when it is the decorator's."""
        if not problem.where.startswith(WHERE):
            return problem  # app.config's: the same for every view, said once
        return Problem(f"{self.location}: {problem.where}", problem.option, problem.value,
                       problem.message)


# -- finding a view's policy ---------------------------------------------------------------

#: The functions ``@cross_origin`` decorated, with their decorators: a route that
#: registered one of them undecorated had ``@cross_origin`` above it.
_DECORATED: weakref.WeakKeyDictionary[Any, list[ViewPolicy]] = weakref.WeakKeyDictionary()


def remember_decorated(view: Any, spec: ViewPolicy) -> None:
    """Remember that ``spec`` decorates ``view`` and what ``view`` wraps (``__wrapped__``)."""
    for obj in wrapped_chain(view):
        # A callable that is not weakly referenceable (a builtin) is not remembered.
        with contextlib.suppress(TypeError):
            _DECORATED.setdefault(obj, []).append(spec)


def wrapped_chain(func: Any) -> Iterator[Any]:
    """``func``, then what it wraps by ``functools.wraps``'s ``__wrapped__``, and so on."""
    depth = 0
    while func is not None and depth < 32:
        yield func
        func, depth = own_attributes(func).get("__wrapped__"), depth + 1


def decorates_definition(spec: ViewPolicy, func: Any) -> bool:
    """Whether ``spec``'s ``@cross_origin(...)`` line is among the decorators written
    above ``func``'s ``def`` (not a call elsewhere that wraps the same function
    for another app)."""
    if not isinstance(func, types.FunctionType):
        return False
    code = func.__code__
    if code.co_filename != spec.location.filename:
        return False
    # co_firstlineno is the first decorator's line; the body starts after the def.
    later = [line for _, line in dis.findlinestarts(code)
             if line is not None and line > code.co_firstlineno]
    body = min(later) if later else code.co_firstlineno + 1
    return code.co_firstlineno <= spec.location.lineno < body


class ViewSpecs:
    """The ``@cross_origin`` policies one endpoint's view declares.

    ``default`` covers every method; ``by_method`` maps each method a class-based
    view defines to its own decorator (``None``: not decorated, the default applies).
    """

    __slots__ = ("default", "by_method")

    def __init__(self, default: ViewPolicy | None, by_method: dict[str, ViewPolicy | None]) -> None:
        self.default = default
        self.by_method = by_method

    def all(self) -> list[ViewPolicy]:
        found = [self.default] if self.default is not None else []
        found += [spec for spec in self.by_method.values() if spec is not None]
        return found

    def spec_for(self, method: str) -> ViewPolicy | None:
        """The decorator of the method that runs for ``method`` (see :class:`MethodPolicies`)."""
        spec: ViewPolicy | None = None
        if method in self.by_method:
            spec = self.by_method[method]
        elif method == "HEAD":
            spec = self.by_method.get("GET")
        return spec if spec is not None else self.default

    def compile(self, app: Flask) -> Policy | MethodPolicies | None:
        default = self.default.policy_for(app) if self.default is not None else None
        if not self.by_method:
            return default
        return MethodPolicies(default, {
            method: spec.policy_for(app) if spec is not None else None
            for method, spec in self.by_method.items()
        })


class MethodPolicies:
    """The compiled policies of a class-based view with per-method decorators."""

    __slots__ = ("default", "by_method")

    def __init__(self, default: Policy | None, by_method: dict[str, Policy | None]) -> None:
        self.default = default
        self.by_method = by_method

    def get(self, method: str | None) -> Policy | None:
        """The policy of the method that runs for ``method``, as ``MethodView`` picks it
        (``HEAD`` runs ``get`` when the view has no ``head``); else the view's default."""
        policy: Policy | None = None
        if method is not None:
            if method in self.by_method:
                policy = self.by_method[method]
            elif method == "HEAD":
                policy = self.by_method.get("GET")
        return policy if policy is not None else self.default

    def all(self) -> list[Policy]:
        found = [self.default] if self.default is not None else []
        found += [policy for policy in self.by_method.values() if policy is not None]
        return found


def own_attributes(obj: Any) -> dict[str, Any]:
    """An object's own attributes, read without running any of its code."""
    try:
        attributes = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        return {}
    return attributes if isinstance(attributes, dict) else {}


def _followed(value: Any) -> bool:
    """Whether a wrapper's reference may lead to the function it wraps."""
    if isinstance(value, (types.FunctionType, types.MethodType, functools.partial)):
        return True
    # A callable object (a class-based decorator), but never an app or a class.
    return (
        callable(value) and not isinstance(value, (type, Scaffold, types.BuiltinFunctionType))
        and bool(own_attributes(value))
    )


def _chain(func: Any, views: frozenset[int]) -> Iterator[Any]:
    """``func`` and every callable it wraps, nearest first; never into another view."""
    todo = [func]
    seen: set[int] = set()
    while todo and len(seen) < _MAX_VISITS:
        obj = todo.pop(0)
        if id(obj) in seen or (obj is not func and id(obj) in views):
            continue
        seen.add(id(obj))
        yield obj
        attributes = own_attributes(obj)
        inner: list[Any] = []
        wrapped = attributes.get("__wrapped__")
        if wrapped is not None:
            inner.append(wrapped)
        if isinstance(obj, types.MethodType):
            inner.append(obj.__func__)
        elif isinstance(obj, functools.partial):
            inner.append(obj.func)
        elif isinstance(obj, types.FunctionType):
            for cell in obj.__closure__ or ():
                try:
                    inner.append(cell.cell_contents)
                except ValueError:  # an empty cell
                    continue
        else:
            inner.extend(attributes.values())
        todo.extend(value for value in inner if _followed(value))


def _spec_on(obj: Any) -> ViewPolicy | None:
    spec = own_attributes(obj).get("__cross_origin__")
    return spec if isinstance(spec, ViewPolicy) else None


def find_specs(func: Any, views: frozenset[int] = frozenset()) -> ViewSpecs | None:
    """The ``@cross_origin`` policies of a registered view function, ``None`` for none.

    ``views`` holds the ``id`` of the app's other view functions, which are never
    followed into.
    """
    default: ViewPolicy | None = None
    view_class: Any = None
    for obj in _chain(func, views):
        attributes = own_attributes(obj)
        if view_class is None and isinstance(attributes.get("view_class"), type):
            view_class = attributes["view_class"]
        if default is None:
            default = _spec_on(obj)
        if default is not None and view_class is not None:
            break
    by_method: dict[str, ViewPolicy | None] = {}
    if view_class is not None and issubclass(view_class, View):
        if default is None:
            default = _first_spec(getattr(view_class, "dispatch_request", None))
        if issubclass(view_class, MethodView):
            for name in sorted(http_method_funcs):
                method = getattr(view_class, name, None)
                if method is not None:
                    by_method[name.upper()] = _first_spec(method)
            if not any(spec is not None for spec in by_method.values()):
                by_method = {}
    if default is None and not by_method:
        return None
    return ViewSpecs(default, by_method)


def _first_spec(func: Any) -> ViewPolicy | None:
    if func is None:
        return None
    for obj in _chain(func, frozenset()):
        spec = _spec_on(obj)
        if spec is not None:
            return spec
    return None


def spec_in(func: Any) -> ViewPolicy | None:
    """The ``@cross_origin`` a function already carries (directly or wrapped), if any."""
    return _first_spec(func)


# -- an app's views ------------------------------------------------------------------------


class AppViews:
    """What one app's view functions declare, found once per registered function."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        #: endpoint -> (the view function it was found on, what was found)
        self._found: dict[str, tuple[Any, ViewSpecs | None]] = {}
        #: Every ``@cross_origin`` found on a view of the app.
        self.known: set[ViewPolicy] = set()
        #: Configuration warnings already shown for this app (each is shown once).
        self.warned: set[str] = set()
        #: Whether :meth:`check` found nothing wrong with the app's views as they are.
        self.checked = False
        self._lock = threading.RLock()

    def specs(self, endpoint: str, views: frozenset[int] | None = None) -> ViewSpecs | None:
        """What the view of ``endpoint`` declares (``views``: the ids of the app's view
        functions, when the caller has them)."""
        func = self.app.view_functions.get(endpoint)
        found = self._found.get(endpoint)
        if found is not None and found[0] is func:
            return found[1]
        if views is None:
            views = frozenset(id(view) for view in self.app.view_functions.values())
        specs = find_specs(func, views) if func is not None else None
        with self._lock:
            self._found[endpoint] = (func, specs)
            if specs is not None:
                self.known.update(specs.all())
        return specs

    def compiled(self, endpoint: str) -> Policy | MethodPolicies | None:
        specs = self.specs(endpoint)
        return specs.compile(self.app) if specs is not None else None

    def check(self) -> list[Problem]:
        """Every problem of the app's decorated views as registered now, all at once:
        policies that do not compile with ``app.config``, and ``@cross_origin``
        placed where the routes cannot see it."""
        with self._lock:
            problems: list[Problem] = []
            endpoints = list(self.app.view_functions)
            views = frozenset(id(view) for view in self.app.view_functions.values())
            specs: dict[ViewPolicy, None] = {}
            for endpoint in endpoints:
                found = self.specs(endpoint, views)
                if found is not None:
                    specs.update(dict.fromkeys(found.all()))
            for spec in specs:
                try:
                    spec.policy_for(self.app)
                except ConfigurationError as error:
                    problems += error.problems
            problems += self._unseen_decorators(endpoints)
            unique = list({str(problem): problem for problem in problems}.values())
            self.checked = not unique
            if unique:
                # No decorated view of a broken app is served from a compiled policy:
                # each request finds the app unchecked and raises the whole list.
                for spec in specs:
                    spec.forget(self.app)
            return unique

    def _unseen_decorators(self, endpoints: list[str]) -> list[Problem]:
        problems = []
        for endpoint in endpoints:
            if self.specs(endpoint) is not None:
                continue
            func = self.app.view_functions[endpoint]
            for obj in wrapped_chain(func):
                try:
                    later = _DECORATED.get(obj, ())
                except TypeError:
                    continue
                for spec in later:
                    if spec not in self.known and decorates_definition(spec, obj):
                        problems.append(Problem(
                            f"{spec.location}: {WHERE}", "view", endpoint,
                            "the route registered this function before @cross_origin "
                            "wrapped it, so the view is served without that policy; put "
                            "@cross_origin(...) directly below the route decorator "
                            "(@app.route, @bp.get, ...)",
                        ))
        return problems

    def knows(self, spec: ViewPolicy) -> bool:
        """Whether ``spec`` is the policy of one of the app's views (looked for again
        among views registered since the last look)."""
        if spec in self.known:
            return True
        views = frozenset(id(view) for view in self.app.view_functions.values())
        for endpoint in list(self.app.view_functions):
            self.specs(endpoint, views)
        return spec in self.known

    def ensure_checked(self) -> None:
        """:meth:`check` once; :class:`ConfigurationError` listing every problem, for
        every request, until the app's views are fixed. For the decorator alone (no
        ``CORS(app)``): the preflights it cannot answer are warned about, once."""
        if self.checked:
            return
        problems = self.check()
        if problems:
            raise ConfigurationError(problems)
        for spec, text in self.unreachable_preflights():
            if text not in self.warned:
                self.warned.add(text)
                spec.location.warn(text)

    def unreachable_preflights(self) -> list[tuple[ViewPolicy, str]]:
        """Decorated views whose preflights Flask answers itself, without CORS headers,
        unless the extension is on the app: the decorator only sees what reaches its
        wrapper. One ``(decorator, text)`` per rule.

        A preflight is an ``OPTIONS`` request, which Flask routes to the first rule
        of its URL that takes ``OPTIONS``; the decorator answers it only when that
        rule's view is the decorated function (or a ``functools.wraps`` wrapper
        around it) and Flask's automatic ``OPTIONS`` answer is off for it, as the
        decorator asks.
        """
        rules = list(self.app.url_map.iter_rules())
        found = []
        for rule in rules:
            specs = self.specs(rule.endpoint)
            methods = _decorated_methods(rule, specs)
            if specs is None or not methods:
                continue
            options = next((other for other in rules if _same_url(other, rule)
                            and "OPTIONS" in (other.methods or ())), None)
            if options is None:
                why = "no rule of the URL takes OPTIONS (Flask answers 405)"
            elif getattr(options, "provide_automatic_options", False):
                why = f"Flask answers OPTIONS for {options.endpoint} itself"
            elif not self._answers_options(options):
                why = f"OPTIONS reaches {options.endpoint}, which answers it without this policy"
            else:
                continue
            spec = specs.spec_for(methods[0])
            assert spec is not None
            found.append((spec, UNREACHABLE_PREFLIGHTS.format(
                methods=", ".join(methods), rule=rule.rule, endpoint=rule.endpoint, why=why)))
        return found

    def _answers_options(self, rule: Rule) -> bool:
        """Whether the view of ``rule`` runs a ``@cross_origin`` wrapper for ``OPTIONS``."""
        func = self.app.view_functions.get(rule.endpoint)
        carried = _spec_on(func) if func is not None else None
        if carried is not None:
            return carried.automatic_options
        specs = self.specs(rule.endpoint)
        spec = specs.by_method.get("OPTIONS") if specs is not None else None
        return spec is not None and spec.automatic_options


def _decorated_methods(rule: Rule, specs: ViewSpecs | None) -> list[str]:
    """The methods of ``rule`` whose preflights a decorator means to answer."""
    if specs is None:
        return []
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    return [method for method in methods
            if (spec := specs.spec_for(method)) is not None and spec.automatic_options]


def _same_url(one: Rule, other: Rule) -> bool:
    return (one.rule, one.host, one.subdomain) == (other.rule, other.host, other.subdomain)


#: Where an app keeps its :class:`AppViews` (``app.extensions``: it lives and dies
#: with the app; the request hooks are only there with ``CORS(app)``).
VIEWS_KEY = "crossorigin.views"
_APPS_LOCK = threading.Lock()


def views_of(app: Flask) -> AppViews:
    """The :class:`AppViews` of an app, created on first use. It only remembers what
    was found; it changes nothing about how the app answers requests."""
    views = app.extensions.get(VIEWS_KEY)
    if views is None:
        with _APPS_LOCK:
            views = app.extensions.get(VIEWS_KEY)
            if views is None:
                views = app.extensions[VIEWS_KEY] = AppViews(app)
    return cast(AppViews, views)


__all__ = [
    "AppViews", "Location", "MethodPolicies", "ViewPolicy", "ViewSpecs", "find_specs", "views_of",
]
