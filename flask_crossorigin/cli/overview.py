"""``flask cors status``: how the extension runs in this app, in a few lines.

Whether the ``metrics`` option is on and with which backend (for Prometheus, in
one process or in prometheus_client's multiprocess mode), how many policies
decide where, and the state of each source of origins loaded at run time.
"""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from ..extension import CrossOriginState
from .context import current_state
from .origins import describe_source, origin_sources


def status_lines(state: CrossOriginState) -> list[str]:
    """The lines ``flask cors status`` prints for an app's CORS state."""
    lines = [f"CORS(app): {'yes' if state.table is not None else 'no (@cross_origin only)'}"]
    metrics = state.metrics
    if metrics is None:
        lines.append("metrics: off (metrics=False)")
    elif metrics.name == "prometheus":
        where = "prometheus_client's default registry"
        if metrics.mode == "multiprocess":
            directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get(
                "prometheus_multiproc_dir")  # noqa: SIM112  (the older name)
            where += f"; multiprocess mode, PROMETHEUS_MULTIPROC_DIR={directory}"
        lines.append(f"metrics: prometheus ({where})")
    else:
        lines.append(f"metrics: {metrics.name} ({metrics.mode})")
    own = len(state.table.entries) if state.table is not None else 0
    blueprints = sum(len(table.entries) for table in state.blueprint_tables.values())
    lines.append(
        f"policies: {own} from the app's resource patterns, {blueprints} from those of "
        f"{len(state.blueprint_tables)} blueprints, {len(state.views.known)} from "
        "@cross_origin")
    sources = origin_sources(state.app)
    if not sources:
        lines.append("origins loaded at run time: none")
    for source in sources:
        lines.append(f"origins loaded at run time: {describe_source(source, short=True)}")
    return lines


@click.command("status")
@with_appcontext
def status_command() -> None:
    """Whether metrics are on (and how), the policies, run-time origin sources."""
    for line in status_lines(current_state()):
        click.echo(line)
