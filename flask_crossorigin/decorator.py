"""``@cross_origin``: a policy for one view, replacing the app's for that route."""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, TypeVar, cast

from flask import Flask, Request, current_app, request
from flask.typing import ResponseReturnValue

from .errors import ConfigurationError
from .extension import (
    EXTENSION_KEY,
    add_cors_headers,
    answer_preflight,
    attach_origin_sources,
    decorator_policy,
    preflight_rule,
)
from .options import (
    POLICY_OPTIONS,
    CrossOriginOptions,
    options_from_config,
    unknown_option_problems,
)
from .policy import Policy, build_policy, compile_policy, is_preflight

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11; only for mypy

F = TypeVar("F", bound=Callable[..., Any])


class ViewPolicy:
    """The options of one decorated view, and its compiled policy per app.

    The decorator's arguments are checked when the decorator runs (at import).
    The policy is compiled once per app, merged over that app's ``CORS_*`` config
    keys: when ``CORS(app)`` is initialised, or on the view's first request.
    """

    def __init__(self, view_name: str, options: Mapping[str, Any]) -> None:
        self.name = f"@cross_origin on {view_name}"
        self.options = options
        where = "@cross_origin()"
        # Each value on its own now; combinations once app.config is known, as
        # CORS_ORIGINS may supply what supports_credentials=True needs.
        base, problems = build_policy(self.name, [(where, options)], check_conflicts=False)
        if problems:
            raise ConfigurationError(problems)
        assert base is not None
        self.automatic_options = base.automatic_options
        self._per_app: weakref.WeakKeyDictionary[Flask, Policy] = weakref.WeakKeyDictionary()

    def policy_for(self, app: Flask) -> Policy:
        policy = self._per_app.get(app)
        if policy is None:
            config = options_from_config(app.config)
            config.pop("resources", None)
            policy = compile_policy(
                self.name, [("app.config", config), ("@cross_origin()", self.options)]
            )
            self._per_app[app] = policy
            attach_origin_sources(app, [policy])
        return policy


def cross_origin(**options: Unpack[CrossOriginOptions]) -> Callable[[F], F]:
    """Give one view its own CORS policy (sync and async views alike).

    Takes the same options as :class:`~flask_crossorigin.CORS` except
    ``resources``. Precedence: defaults < ``CORS_*`` keys of ``app.config`` <
    the decorator's arguments; the result replaces any app or blueprint policy
    for this route. Put it below ``@app.route``.

    With ``CORS(app)`` (or ``CORS(blueprint)``) on the app, the extension's
    request hooks find this policy by endpoint: they answer the view's
    preflights before ``before_request`` hooks run and add headers to all its
    responses, error responses included. Without it, the view answers its own
    preflights and adds headers to the responses it returns, after the app's
    ``before_request`` hooks ran (as flask-cors's decorator does);
    ``CORS(app, resources={})`` moves the preflights before the hooks.
    """
    problems = unknown_option_problems(options, "@cross_origin()", POLICY_OPTIONS)
    if problems:
        raise ConfigurationError(problems)

    def decorator(view: F) -> F:
        name = getattr(view, "__qualname__", repr(view)).rpartition("<locals>.")[2]
        spec = ViewPolicy(name, options)
        automatic = spec.automatic_options

        def early(app: Flask, req: Request) -> ResponseReturnValue | None:
            """The answer to an OPTIONS request routed to the view, or ``None`` to run it."""
            if req.method != "OPTIONS" or not automatic:
                return None
            if EXTENSION_KEY in app.extensions:
                # The hooks answered preflights already; a plain OPTIONS gets Flask's answer.
                return app.make_default_options_response()
            return answer_alone(app, req, spec)

        def late(app: Flask, req: Request, rv: ResponseReturnValue) -> ResponseReturnValue:
            if EXTENSION_KEY in app.extensions:
                return rv  # the after_request hook adds the headers
            response = app.make_response(rv)
            add_cors_headers(app, response, spec.policy_for(app), req.environ)
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


def answer_alone(app: Flask, req: Request, spec: ViewPolicy) -> ResponseReturnValue:
    """A decorated view's answer to ``OPTIONS`` when the extension is not on the app.

    A preflight is judged by the ``@cross_origin`` policy of the view its
    requested method reaches, which need not be this one; a plain ``OPTIONS``
    gets Flask's answer with this view's headers.
    """
    if not is_preflight(req.environ):
        response = app.make_default_options_response()
        add_cors_headers(app, response, spec.policy_for(app), req.environ)
        return response
    found = preflight_rule(req)
    rule = found[0] if found is not None else None
    policy = decorator_policy(app, rule.endpoint) if rule is not None else None
    if policy is not None and policy.automatic_options:
        return answer_preflight(app, policy, req.environ)
    response = app.make_default_options_response()
    if policy is None:
        return response  # no policy covers the requested method: nothing is granted
    add_cors_headers(app, response, policy, req.environ)
    return response
