"""The exit statuses of the ``flask cors`` commands, one meaning each.

A deployment pipeline tells a blocked request (or a risky setting) from an app
that cannot be checked at all by the status alone.
"""

from __future__ import annotations

import traceback

import click

#: ``check``: a browser lets the page read the response. ``lint``: no warnings.
#: ``routes``: the table was printed.
OK = 0
#: ``check``: a browser blocks the request. ``lint``: some warning.
FOUND = 1
#: A usage error, click's own: a bad option, or no app to load (``--app``).
USAGE_ERROR = 2
#: The app cannot be checked: its CORS configuration is invalid (``ConfigurationError``,
#: printed as one paragraph), or loading the app raised another exception (its
#: traceback is printed).
CONFIGURATION_ERROR = 3


class AppNotCheckable(click.ClickException):
    """Ends a command with :data:`CONFIGURATION_ERROR` and the reason, never a bare trace."""

    exit_code = CONFIGURATION_ERROR


def not_checkable(error: Exception) -> AppNotCheckable:
    """The error to raise for an exception that is not CORS configuration (traceback shown)."""
    click.echo("".join(traceback.format_exception(type(error), error, error.__traceback__)),
               err=True, nl=False)
    return AppNotCheckable(f"the app could not be checked: {type(error).__name__}: {error}")
