"""The exit statuses of the ``flask cors`` commands, one meaning each.

A deployment pipeline tells a blocked request (or a risky setting) from an app
that cannot be checked at all by the status alone.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from typing import Any, NoReturn

import click

#: ``check``: a browser lets the page read the response. ``lint``: no warnings.
#: ``routes``: the table was printed.
OK = 0
#: ``check``: a browser blocks the request. ``lint``: some warning. ``origins remove``:
#: the origin was not in the set (nothing changed).
FOUND = 1
#: A usage error, click's own: a bad option, or no app to load (``--app``).
USAGE_ERROR = 2
#: The app cannot be checked: its CORS configuration is invalid (``ConfigurationError``,
#: printed as one paragraph), or loading the app raised another exception (its
#: traceback is printed).
CONFIGURATION_ERROR = 3
#: A store of origins loaded at run time could not be reached (Redis down, the table a
#: ``CachedOrigins`` reads failing): one line names it and what to check.
STORE_UNREACHABLE = 4
#: The reader of the output went away (``flask cors routes | head``): the command stops
#: quietly with the status a shell shows for a Unix tool ended by SIGPIPE (128 + 13).
OUTPUT_CLOSED = 141


class AppNotCheckable(click.ClickException):
    """Ends a command with :data:`CONFIGURATION_ERROR` and the reason, never a bare trace."""

    exit_code = CONFIGURATION_ERROR


def not_checkable(error: Exception) -> AppNotCheckable:
    """The error to raise for an exception that is not CORS configuration (traceback shown)."""
    click.echo("".join(traceback.format_exception(type(error), error, error.__traceback__)),
               err=True, nl=False)
    return AppNotCheckable(f"the app could not be checked: {type(error).__name__}: {error}")


class StoreUnreachable(click.ClickException):
    """Ends a command with :data:`STORE_UNREACHABLE`: which store, and what to check."""

    exit_code = STORE_UNREACHABLE


def unreachable(source: Any, error: object) -> StoreUnreachable:
    """The one-line error for a store of origins that could not be read or written.

    Stops the source's reloading and listening in this process: the command ends
    there, and its threads would only log the same outage again."""
    source.close()
    found = source.describe()
    where = found.get("source", source)
    if callable(getattr(source, "add", None)):  # a RedisOrigins (duck-typed: no redis import)
        hint = "check that Redis is running at that address and that the URL (host, " \
               "port, database, password) is the app's"
    else:
        hint = "check that what its load() reads (a database, a service) is reachable " \
               "from here"
    return StoreUnreachable(without_password(
        f"the origins store {where} could not be reached ({error}); {hint}"))


def failed_to_load(source: Any) -> bool:
    """Whether a run-time origin source never loaded because its loads fail."""
    found = source.describe()
    return found.get("loaded_at") is None and bool(found.get("error"))


_URL = r"[a-z][a-z0-9+.-]*://[^\s()'\"]+"


def without_password(text: str) -> str:
    """``text`` with the password of every URL in it masked (``redis://:***@host``,
    ``?password=***``): a message never shows it."""

    from ..redis_origins import _without_password  # no redis import: only the URL rule

    return re.sub(_URL, lambda url: _without_password(url.group(0)), text, flags=re.IGNORECASE)


def exit_quietly_on_closed_output() -> NoReturn:
    """The reader of stdout went away: no traceback, no message, nothing more written
    (Python's own advice for SIGPIPE), and :data:`OUTPUT_CLOSED` as the status."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (a test runner)
        pass
    raise SystemExit(OUTPUT_CLOSED)
