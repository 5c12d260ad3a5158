"""``@cross_origin``: a policy for one view, replacing the app's for that route."""

from __future__ import annotations

import functools
import inspect
import weakref
from typing import Any, Callable, TypeVar, cast

from flask import Flask, Request, current_app, request
from flask.typing import ResponseReturnValue

from .errors import ConfigurationError
from .extension import LAYER_KEY, add_cors_headers, answer_preflight, install_layer
from .options import POLICY_OPTIONS, options_from_config, unknown_option_problems
from .policy import Policy, build_policy, compile_policy

F = TypeVar("F", bound=Callable[..., Any])


class ViewPolicy:
    """The options of one decorated view, and its compiled policy per app.

    The decorator's arguments are checked when the decorator runs (at import).
    The policy is compiled once per app, merged over that app's ``CORS_*`` config
    keys: when ``CORS(app)`` is initialised, or on the view's first request.
    """

    def __init__(self, view_name: str, options: dict[str, Any]) -> None:
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
        return policy


def cross_origin(**options: Any) -> Callable[[F], F]:
    """Give one view its own CORS policy (sync and async views alike).

    Takes the same options as :class:`~flask_crossorigin.CORS` except
    ``resources``. Precedence: defaults < ``CORS_*`` keys of ``app.config`` <
    the decorator's arguments; the result replaces any app or blueprint policy
    for this route. Put it below ``@app.route``.

    The decorated view's responses, error responses included, get their
    headers from the extension's WSGI layer, and its preflights are answered
    there, before ``before_request`` hooks run. Without ``CORS(app)``, the
    decorator installs that layer (with no app-wide policy) on the view's first
    request, and answers that first request itself.
    """
    problems = unknown_option_problems(options, "@cross_origin()", POLICY_OPTIONS)
    if problems:
        raise ConfigurationError(problems)

    def decorator(view: F) -> F:
        name = getattr(view, "__qualname__", repr(view)).rpartition("<locals>.")[2]
        spec = ViewPolicy(name, options)

        automatic = spec.automatic_options

        def early(req: Request) -> tuple[Flask, ResponseReturnValue | None]:
            """Without the layer: install it for later requests; answer OPTIONS here."""
            app = cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
            if LAYER_KEY in req.environ:  # a plain OPTIONS, under the layer
                return app, app.make_default_options_response()
            install_layer(app)
            if req.method != "OPTIONS" or not automatic:
                return app, None
            if "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in req.environ:
                return app, answer_preflight(app, spec.policy_for(app), req.environ)
            response = app.make_default_options_response()
            add_cors_headers(app, response, spec.policy_for(app), req.environ)
            return app, response

        def late(app: Flask, req: Request, rv: ResponseReturnValue) -> ResponseReturnValue:
            response = app.make_response(rv)
            add_cors_headers(app, response, spec.policy_for(app), req.environ)
            return response

        wrapper: Callable[..., Any]
        if inspect.iscoroutinefunction(view):
            @functools.wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                req = request._get_current_object()  # type: ignore[attr-defined]
                if LAYER_KEY in req.environ and (req.method != "OPTIONS" or not automatic):
                    return await view(*args, **kwargs)
                app, answer = early(req)
                if answer is not None:
                    return answer
                return late(app, req, await view(*args, **kwargs))

            wrapper = async_wrapper
        else:
            @functools.wraps(view)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                req = request._get_current_object()  # type: ignore[attr-defined]
                # Served by the extension's WSGI layer: it answers preflights and adds
                # this view's headers, so the view just runs.
                if LAYER_KEY in req.environ and (req.method != "OPTIONS" or not automatic):
                    return view(*args, **kwargs)
                app, answer = early(req)
                if answer is not None:
                    return answer
                return late(app, req, view(*args, **kwargs))

            wrapper = sync_wrapper

        wrapper.__cross_origin__ = spec  # type: ignore[union-attr]
        if spec.automatic_options:
            # Route OPTIONS to the view, so the decorator sees preflights even
            # when the extension is not initialised on the app.
            methods = set(getattr(view, "required_methods", ())) | {"OPTIONS"}
            wrapper.required_methods = methods  # type: ignore[union-attr]
            wrapper.provide_automatic_options = False  # type: ignore[union-attr]
        return cast(F, wrapper)

    return decorator
