"""``@cross_origin``: a policy for one view, replacing the app's for that route.

Where the extension finds it, and the start-up check of an app's decorated views,
are in :mod:`flask_crossorigin.views`.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Callable, TypeVar, cast

from flask import Flask, Request, current_app, request
from flask.typing import ResponseReturnValue

from .errors import ConfigurationError, Problem
from .extension import (
    EXTENSION_KEY,
    add_cors_headers,
    answer_preflight,
    decorator_policy,
    preflight_rule,
    refuse_write,
)
from .options import POLICY_OPTIONS, CrossOriginOptions, unknown_option_problems
from .policy import Policy, is_preflight
from .views import (
    WHERE,
    Location,
    ViewPolicy,
    check_own_arguments,
    own_attributes,
    remember_decorated,
    views_of,
    wrapped_chain,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11; only for mypy

F = TypeVar("F", bound=Callable[..., Any])


def cross_origin(**options: Unpack[CrossOriginOptions]) -> Callable[[F], F]:
    """Give one view its own CORS policy (sync and async views alike).

    Takes the same options as :class:`~flask_crossorigin.CORS` except
    ``resources``. Precedence: defaults < ``CORS_*`` keys of ``app.config`` <
    the decorator's arguments; the result replaces any app or blueprint policy
    for this route. Put it below ``@app.route``; on a ``MethodView``, on one
    method (that method's policy) or in ``decorators`` (the whole view's).

    Everything the arguments decide on their own is checked here, at import
    (:class:`~flask_crossorigin.ConfigurationError` raised at this line);
    what needs ``app.config`` when ``CORS(app)`` is initialised and at the
    app's first request, for every decorated view at once.

    With ``CORS(app)`` (or ``CORS(blueprint)``) on the app, the extension's
    request hooks find this policy by endpoint: they answer the view's
    preflights before ``before_request`` hooks run and add headers to all its
    responses, error responses included. Without it, the view answers the
    preflights that Flask routes to it and adds headers to the responses it
    returns, after the app's ``before_request`` hooks ran (as flask-cors's
    decorator does); ``CORS(app, resources={})`` moves the preflights before
    the hooks.
    """
    location = Location.of_caller()
    problems = unknown_option_problems(options, WHERE, POLICY_OPTIONS)
    if problems:
        raise ConfigurationError(problems)
    automatic, warned = check_own_arguments(options, location)

    def decorator(view: F) -> F:
        name = getattr(view, "__qualname__", repr(view)).rpartition("<locals>.")[2]
        # Where the decorator is applied (the view's own "@..." line): later problems
        # and warnings about this view point there.
        applied = Location.of_caller(frameworks=True)
        _refuse_a_second_decorator(view, name, applied)
        spec = ViewPolicy(name, options, applied, automatic, warned)
        remember_decorated(view, spec)

        def early(app: Flask, req: Request) -> ResponseReturnValue | None:
            """The answer to an OPTIONS request routed to the view, or to a write it
            refuses without the extension on the app; ``None`` to run the view."""
            state = app.extensions.get(EXTENSION_KEY)
            if state is not None:
                if spec not in state.views.known and not state.views.knows(spec):
                    raise ConfigurationError([_unseen_problem(spec)])
                if req.method == "OPTIONS" and automatic:
                    # The hooks answered preflights already; a plain OPTIONS gets Flask's answer.
                    return app.make_default_options_response()
                return None  # the extension's first hook checked writes already
            policy = _policy_alone(app, spec)
            if req.method != "OPTIONS":
                return refuse_write_alone(app, req, policy)
            if not automatic:
                return None
            return answer_alone(app, req, policy)

        def late(app: Flask, req: Request, rv: ResponseReturnValue) -> ResponseReturnValue:
            if EXTENSION_KEY in app.extensions:
                return rv  # the after_request hook adds the headers
            response = app.make_response(rv)
            add_cors_headers(app, response, _policy_alone(app, spec), req.environ)
            return response

        wrapper: Callable[..., Any]
        if inspect.iscoroutinefunction(view):
            @functools.wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                app = cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
                req = request._get_current_object()  # type: ignore[attr-defined]
                answer = early(app, req)
                if answer is not None:
                    return answer
                return late(app, req, await view(*args, **kwargs))

            wrapper = async_wrapper
        else:
            @functools.wraps(view)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                app = cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
                req = request._get_current_object()  # type: ignore[attr-defined]
                answer = early(app, req)
                if answer is not None:
                    return answer
                return late(app, req, view(*args, **kwargs))

            wrapper = sync_wrapper

        wrapper.__cross_origin__ = spec  # type: ignore[union-attr]
        if automatic:
            # Route OPTIONS to the view, so that it sees its preflights when the
            # extension's hooks are not on the app.
            methods = set(getattr(view, "required_methods", ())) | {"OPTIONS"}
            wrapper.required_methods = methods  # type: ignore[union-attr]
            wrapper.provide_automatic_options = False  # type: ignore[union-attr]
        return cast(F, wrapper)

    return decorator


def refuse_write_alone(app: Flask, req: Request, policy: Policy) -> ResponseReturnValue | None:
    """Without the extension on the app, the view's own cross-origin write check
    (``@cross_origin(csrf_protection=...)``): after the app's ``before_request``
    hooks, before the view. ``None`` lets the view run."""
    check = policy.writes
    if check is None:
        return None
    refusal = check.refusal(req.method, req.environ)
    if refusal is None:
        return None
    refuse_write(app, policy, check, refusal, req.environ)  # raises, unless report-only
    return None


def _refuse_a_second_decorator(view: Any, name: str, location: Location) -> None:
    """``@cross_origin`` over a function that has one already (directly, or through
    wrappers made with ``functools.wraps``): one of the two would be ignored."""
    for obj in wrapped_chain(view):
        if isinstance(own_attributes(obj).get("__cross_origin__"), ViewPolicy):
            raise ConfigurationError([Problem(
                f"{location}: {WHERE}", "view", name,
                "already has a @cross_origin policy below this one, and a view has one "
                "policy; merge the two decorators' arguments into one",
            )])


def _policy_alone(app: Flask, spec: ViewPolicy) -> Policy:
    """The view's policy without the extension; its first request checks every decorated
    view of the app first (all problems at once, for every request until fixed)."""
    policy = spec._per_app.get(app)
    if policy is None:
        views_of(app).ensure_checked()
        policy = spec.policy_for(app)
    return policy


def _unseen_problem(spec: ViewPolicy) -> Problem:
    return Problem(
        f"{spec.location}: {WHERE}", "view", spec.name.removeprefix("@cross_origin on "),
        "runs in an app whose CORS extension cannot find it among the views: a wrapper "
        "around it hides it, so preflights would be judged by another policy; make the "
        "wrapper use functools.wraps, or put @cross_origin(...) above it, just below "
        "the route decorator",
    )


def answer_alone(app: Flask, req: Request, policy: Policy) -> ResponseReturnValue:
    """A decorated view's answer to ``OPTIONS`` when the extension is not on the app.

    A preflight is judged by the ``@cross_origin`` policy of the view its
    requested method reaches, which need not be this one; a plain ``OPTIONS``
    gets Flask's answer with this view's headers.
    """
    if not is_preflight(req.environ):
        response = app.make_default_options_response()
        add_cors_headers(app, response, policy, req.environ)
        return response
    found = preflight_rule(req)
    rule = found[0] if found is not None else None
    method = req.environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"]
    judged = decorator_policy(app, rule.endpoint, method) if rule is not None else None
    if judged is not None and judged.automatic_options:
        return answer_preflight(app, judged, req.environ)
    response = app.make_default_options_response()
    if judged is None:
        return response  # no policy covers the requested method: nothing is granted
    add_cors_headers(app, response, judged, req.environ)
    return response
