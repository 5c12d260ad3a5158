"""``flask cors``: which policy applies where, what a request gets and why, risky settings.

The group is declared under the ``flask.commands`` entry point (Flask's CLI plugin
convention), so ``flask --app APP cors`` exists for every app, including apps
that only use ``@cross_origin``. One module per command:

* :mod:`.routes` lists every URL rule with its policy and where the policy comes from;
* :mod:`.check` sends a request through the app and judges the response the way a
  browser does;
* :mod:`.lint` warns about valid but risky policies;
* :mod:`.origins` lists origins loaded at run time, and changes a Redis set of them;
* :mod:`.overview` (``status``) says whether metrics are on, and with which backend;

:mod:`.context` gives each the app and CORS state it works on, and
:mod:`.status` lists their exit statuses.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import click
from flask.cli import AppGroup

from ..errors import ConfigurationError
from ..origins import OriginSource
from ..reasons import logger
from .check import CheckResult, Exchange, check_command, check_request
from .context import state_of
from .lint import WARNINGS, lint_command, lint_policy
from .origins import describe_origins, origins_command
from .overview import status_command
from .routes import route_rows, routes_command
from .status import AppNotCheckable, exit_quietly_on_closed_output, not_checkable


class _CorsGroup(AppGroup):
    """Ends with :data:`~.status.CONFIGURATION_ERROR` when the app cannot be checked: a
    configuration that cannot be compiled as a one-paragraph error, not a trace. A
    closed output (``| head``) ends it quietly (:data:`~.status.OUTPUT_CLOSED`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with _loaded_origins_warnings():
                return self._invoke(ctx)
        except BrokenPipeError:
            exit_quietly_on_closed_output()

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigurationError as error:
            raise AppNotCheckable(str(error)) from error
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort,
                BrokenPipeError):
            raise  # click's own ends: usage errors (2), --help, Ctrl-C; a closed output
        except Exception as error:  # the app failed to load: not "blocked", not "warnings"
            raise not_checkable(error) from error


class _LoadRecords(logging.Filter):
    """Keeps the log records of run-time origin loads from the log while a command runs
    (every command loads them anew). Failures (``ERROR``: a store down, a set closed)
    the command reports itself, as its state or status 4; each warning (a skipped
    entry) it shows once, after its output."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: dict[str, None] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        source = args[0] if args and isinstance(args[0], OriginSource) else None
        if record.levelno < logging.WARNING or (
                source is None  # the reloading and listening threads log without one
                and not (record.threadName or "").startswith("flask-crossorigin")):
            return True
        if record.levelno >= logging.ERROR:
            return False
        if source is not None and "skipped the loaded entry" in str(record.msg) \
                and len(args) == 3:
            name = source.describe().get("source", source)
            line = f"{name} skipped the loaded entry {args[1]}: {args[2]}"
        else:
            line = record.getMessage()
        self.skipped.setdefault(f"warning: {line}")
        return False


@contextlib.contextmanager
def _loaded_origins_warnings() -> Iterator[None]:
    records = _LoadRecords()
    logger.addFilter(records)
    try:
        yield
    finally:
        logger.removeFilter(records)
        for line in records.skipped:
            with contextlib.suppress(OSError):
                click.echo(line, err=True)


cli = _CorsGroup("cors", help="Explain the CORS policies of this app and what they decide.")
cli.add_command(routes_command)
cli.add_command(check_command)
cli.add_command(lint_command)
cli.add_command(origins_command)
cli.add_command(status_command)

__all__ = [
    "WARNINGS", "CheckResult", "Exchange", "check_request", "cli", "describe_origins",
    "lint_policy", "route_rows", "state_of",
]
