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

from typing import Any

import click
from flask.cli import AppGroup

from ..errors import ConfigurationError
from .check import CheckResult, Exchange, check_command, check_request
from .context import state_of
from .lint import WARNINGS, lint_command, lint_policy
from .origins import describe_origins, origins_command
from .overview import status_command
from .routes import route_rows, routes_command
from .status import AppNotCheckable, not_checkable


class _CorsGroup(AppGroup):
    """Ends with :data:`~.status.CONFIGURATION_ERROR` when the app cannot be checked: a
    configuration that cannot be compiled as a one-paragraph error, not a trace."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigurationError as error:
            raise AppNotCheckable(str(error)) from error
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own ends: usage errors (2), --help, Ctrl-C
        except Exception as error:  # the app failed to load: not "blocked", not "warnings"
            raise not_checkable(error) from error


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
