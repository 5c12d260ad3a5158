"""The app and CORS state a ``flask cors`` command works on."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from ..extension import EXTENSION_KEY, CrossOriginState


def state_of(app: Flask) -> CrossOriginState:
    """The app's CORS state; for an app without ``CORS(app)``, one that only knows the
    ``@cross_origin`` views (built for the command, never registered on the app)."""
    state = app.extensions.get(EXTENSION_KEY)
    return cast(CrossOriginState, state) if state is not None else CrossOriginState(app)


def current_state() -> CrossOriginState:
    """The CORS state of the app the command runs for, every ``@cross_origin`` view's
    policy compiled: a configuration error ends the command before it reports anything."""
    state = state_of(current_flask_app())
    state.check_views()
    return state


def current_flask_app() -> Flask:
    """The app the command runs for (``flask --app APP``), not its proxy."""
    return cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
