"""``flask cors origins``: the origins loaded at run time, and the Redis set behind them.

``list`` shows every :class:`~flask_crossorigin.CachedOrigins` of the app (where
its origins come from, when they were last loaded, whether they are loading, fresh,
stale or closed) and its origins; ``add`` and ``remove`` change a
:class:`~flask_crossorigin.RedisOrigins` set, validated as start-up validates,
and make every process of the app reload. :func:`describe_origins` is the line
``routes`` and ``check`` show for such a policy.
"""

from __future__ import annotations

import time
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from ..cached_origins import not_written
from ..errors import ConfigurationError
from ..origins import LiveOriginMatcher, OriginSource
from ..policy import Policy
from .context import current_flask_app, state_of
from .status import FOUND, failed_to_load, unreachable


def describe_origins(policy: Policy | None, *, short: bool = False) -> str | None:
    """Where a policy's origins come from and how fresh they are; ``None`` when static.
    ``short``: only the source, the number of origins and the state (for tables)."""
    if policy is None or not isinstance(policy.origins, LiveOriginMatcher):
        return None
    return describe_source(policy.origins.source, short=short)


def describe_source(source: OriginSource, *, short: bool = False) -> str:
    found = source.describe()
    parts = [f"{found.get('source', source)}: {found.get('origins', '?')} origins"]
    if found.get("mode") == "per-origin":
        parts = [f"{found.get('source', source)}: exact origins looked up one by one, "
                 f"{found.get('origins', '?')} patterns loaded"]
    if short:
        return f"{parts[0]}, {found.get('state', '?')}"
    if found.get("skipped"):
        parts.append(f"{found['skipped']} entries skipped")
    parts.append(str(found.get("state", "?")))
    loaded_at = found.get("loaded_at")
    if loaded_at is None:
        parts.append("never loaded")
    else:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(loaded_at))
        parts.append(f"last loaded {stamp} ({max(0.0, time.time() - loaded_at):.0f} s ago)")
    parts.append(f"ttl {found.get('ttl', 0):g} s, max_stale {found.get('max_stale', 0):g} s")
    if found.get("invalidate_via"):
        parts.append(f"invalidated via {found['invalidate_via']}")
    if found.get("error"):
        parts.append(f"last error: {found['error']}")
    if found.get("lookup_error"):
        parts.append(f"last lookup error: {found['lookup_error']}")
    return ", ".join(parts)


def _cache_line(found: dict[str, Any]) -> str:
    rate = found.get("hit_rate")
    shown = "no requests yet" if rate is None else f"hit rate {rate:.1%}"
    return (f"  cached in this process: {found.get('cached_granted', 0)} granted, "
            f"{found.get('cached_refused', 0)} refused; {found.get('lookups', 0)} lookups, "
            f"{shown}")


def origin_sources(app: Flask) -> list[OriginSource]:
    """Every run-time origin source of the app's policies (tables, blueprints, views)."""
    state = state_of(app)
    policies: list[Policy] = []
    for table in [state.table, *state.blueprint_tables.values()]:
        if table is not None:
            policies.extend(policy for _, policy in table.entries)
    for endpoint in app.view_functions:
        view = state.view_policy(endpoint)
        if view is not None:
            policies.append(view)
    found: dict[int, OriginSource] = {}
    for policy in policies:
        for source in policy.origin_sources():
            found.setdefault(id(source), source)
    return list(found.values())


def _redis_store(app: Flask, key: str | None) -> Any:
    """The app's one ``RedisOrigins`` (or the one with ``key``); a usage error otherwise,
    saying what to do instead."""
    sources = origin_sources(app)
    # Duck-typed: checking the class would import redis_origins, which imports redis.
    stores = [s for s in sources if callable(getattr(s, "add", None))
              and isinstance(getattr(s, "key", None), str)]
    if key is not None:
        stores = [s for s in stores if s.key == key]  # type: ignore[attr-defined]
    if not stores:
        where = f" with key {key!r}" if key is not None else ""
        own = [str(s.describe().get("source", s)) for s in sources
               if not callable(getattr(s, "add", None))]
        if own:
            raise click.UsageError(
                f"no policy of this app uses a RedisOrigins{where}: the origins of "
                f"{', '.join(own)} come from its load(); write the origin where load() "
                "reads it (your table), then call .invalidate() on it so that every "
                "process reloads")
        raise click.UsageError(f"no policy of this app uses a RedisOrigins{where}; "
                               "change the origins in the app's configuration")
    if len(stores) > 1:
        keys = ", ".join(sorted(s.key for s in stores))  # type: ignore[attr-defined]
        raise click.UsageError(f"this app has several RedisOrigins; pass --key ({keys})")
    return stores[0]


def check_loaded(sources: list[OriginSource]) -> None:
    """End the command with :data:`~.status.STORE_UNREACHABLE` when one of ``sources``
    never loaded because its store cannot be reached: what it would show (no origins,
    every request refused) is not what the app serves."""
    for source in sources:
        if failed_to_load(source):
            raise unreachable(source, source.describe().get("error"))


def _refused(origin: str, error: ConfigurationError, done: str) -> click.UsageError:
    """``origins add|remove`` refused ``origin``: it was not written, and why."""
    return click.UsageError(not_written(origin, (p.message for p in error.problems), done))


@click.group("origins")
def origins_command() -> None:
    """Origins loaded at run time: list them; add or remove those kept in Redis."""


@origins_command.command("list")
@with_appcontext
def list_command() -> None:
    """Show each CachedOrigins of the app, its state and its origins."""
    sources = origin_sources(current_flask_app())
    if not sources:
        click.echo("no policy of this app loads its origins at run time")
        return
    check_loaded(sources)
    for index, source in enumerate(sources):
        found = source.describe()
        if found.get("mode") == "per-origin":
            # A million exact origins are never listed: how many, and how the cache does.
            counted = ""
            counter = getattr(source, "count", None)
            if callable(counter):
                try:
                    exact, patterns = counter()
                except Exception as error:  # the store: one line, exit status 4
                    raise unreachable(source, f"{type(error).__name__}: {error}") from error
                counted = f"  in the store now: {exact} exact origins, {patterns} patterns"
            if index:
                click.echo("")
            click.echo(describe_source(source))
            if counted:
                click.echo(counted)
            click.echo(_cache_line(found))
            for entry in sorted(source.live.entries):
                click.echo(f"  {entry}")
            continue
        entries = list(source.live.entries)  # what this process loaded
        reader = getattr(source, "list", None)
        if callable(reader):  # a RedisOrigins: the set as it is now
            try:
                entries = reader()
            except Exception as error:
                raise unreachable(source, f"{type(error).__name__}: {error}") from error
        if index:
            click.echo("")
        click.echo(describe_source(source))
        for entry in sorted(entries):
            click.echo(f"  {entry}")


@origins_command.command("migrate")
@click.option("--key", help="The Redis key of the set, when the app has several.")
@with_appcontext
def migrate_command(key: str | None) -> None:
    """Move wildcards and regexes kept in the set by an older version to <key>:patterns."""
    store = _redis_store(current_flask_app(), key)
    moved = store.migrate()
    click.echo(f"moved {len(moved)} patterns from {store.key} to {store.patterns_key}")
    for entry in moved:
        click.echo(f"  {entry}")


@origins_command.command("add")
@click.argument("origin")
@click.option("--key", help="The Redis key of the set, when the app has several.")
@with_appcontext
def add_command(origin: str, key: str | None) -> None:
    """Add ORIGIN to the app's RedisOrigins set; every process reloads."""
    store = _redis_store(current_flask_app(), key)
    try:
        stored = store.add(origin)
    except ConfigurationError as error:
        raise _refused(origin, error, f"added to {store.key}") from error
    except Exception as error:  # the store: one line, not redis-py's traceback
        raise unreachable(store, f"{type(error).__name__}: {error}") from error
    click.echo(f"added {stored} to {store.key}")


class NotRemoved(click.ClickException):
    """``origins remove`` of an origin the set does not hold: status 1, nothing changed."""

    exit_code = FOUND


@origins_command.command("remove")
@click.argument("origin")
@click.option("--key", help="The Redis key of the set, when the app has several.")
@with_appcontext
def remove_command(origin: str, key: str | None) -> None:
    """Remove ORIGIN from the app's RedisOrigins set; every process reloads."""
    store = _redis_store(current_flask_app(), key)
    try:
        removed = store.remove(origin)
    except ConfigurationError as error:
        raise _refused(origin, error, f"removed from {store.key}") from error
    except Exception as error:
        raise unreachable(store, f"{type(error).__name__}: {error}") from error
    if not removed:  # status 1 (FOUND): the answer is no, nothing changed
        raise NotRemoved(f"{origin} is not in {store.key}: nothing was removed")
    click.echo(f"removed {origin} from {store.key}")
