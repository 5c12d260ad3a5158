"""``flask cors routes``: every URL rule with its policy and where that policy comes from."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Iterator
from typing import Any, NamedTuple

import click
from flask import Flask, request
from flask.cli import with_appcontext
from werkzeug.routing import RequestRedirect, Rule

from ..extension import CrossOriginState, PolicySource, _redirect_rule, blueprints_of, routed_path
from ..policy import Policy
from .context import current_state, state_of
from .origins import check_loaded, describe_origins, origin_sources

#: The methods the CLI lists for a rule that sets none (Werkzeug's rule then accepts any).
ANY_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


class RouteRule(NamedTuple):
    """A URL rule as ``flask cors`` looks it up: the path and endpoint that decide for
    a request it matches (for a redirect rule, its target's, as the hooks find them)."""

    rule: Rule
    #: The path whose resource pattern decides.
    path: str
    #: The endpoint whose view (and blueprints) decide; ``None``: no view does.
    endpoint: str | None
    #: The rule the hooks judge a request by (a redirect's target rule), for write checks.
    decides: Rule | None
    #: Where a redirect rule sends requests (its target path, or its ``redirect_to``
    #: as written when that depends on the URL); ``None`` for other rules.
    redirect_to: str | None
    #: The methods to look up (every method for a rule that sets none).
    methods: tuple[str, ...]

    @property
    def blueprints(self) -> list[str]:
        return blueprints_of(self.endpoint) if self.endpoint is not None else []


def route_rules(app: Flask) -> list[RouteRule]:
    """Every rule a request can match, sorted by rule text, in any shape Werkzeug allows:
    redirect rules (with no endpoint, or a ``redirect_to`` callable), rules without
    methods, host and subdomain rules, rules whose endpoint has no view. Build-only
    rules are left out: no request ever matches one."""
    found = []
    rules = [rule for rule in app.url_map.iter_rules() if not rule.build_only]
    for rule in sorted(rules, key=lambda r: (r.rule, r.endpoint or "", r.host or "",
                                             r.subdomain or "")):
        methods = tuple(sorted(rule.methods)) if rule.methods else ANY_METHODS
        if rule.redirect_to is None:
            found.append(RouteRule(rule, rule.rule, rule.endpoint, rule, None, methods))
            continue
        target = _redirect_target(app, rule)
        if target is None:  # its target depends on the URL: judged by its own path
            written = rule.redirect_to
            shown = written if isinstance(written, str) else getattr(
                written, "__name__", repr(written))
            found.append(RouteRule(rule, rule.rule, None, None, shown, methods))
        else:
            path, decides = target
            found.append(RouteRule(rule, path, decides.endpoint if decides else None,
                                   decides, path, methods))
    return found


def _redirect_target(app: Flask, rule: Rule) -> tuple[str, Rule | None] | None:
    """The path and rule a redirect rule's requests are judged by, found the way the
    hooks find them (a request to the rule's URL, routed); ``None`` when the rule has
    variables (each URL may redirect elsewhere) or the redirect cannot be followed."""
    if rule.arguments or "<" in (rule.host or "") + (rule.subdomain or ""):
        return None
    base_url = None
    server_name = app.config.get("SERVER_NAME")
    if app.url_map.host_matching and rule.host:
        base_url = f"http://{rule.host}"
    elif rule.subdomain and server_name:
        base_url = f"http://{rule.subdomain}.{server_name}"
    method = "GET" if not rule.methods or "GET" in rule.methods else sorted(rule.methods)[0]
    try:
        with app.test_request_context(rule.rule, base_url=base_url, method=method):
            if not isinstance(request.routing_exception, RequestRedirect):
                return None  # another rule answers this URL first, or none can be reached
            return routed_path(request), _redirect_rule(request)
    except Exception:  # a redirect_to callable that fails: judged by its own path
        return None


def route_rows(app: Flask) -> list[dict[str, Any]]:
    """One row per URL rule: its methods, policy, where the policy comes from and its settings.

    A rule with variables (``/items/<int:id>``) is looked up with the rule text as
    its path; ``varies`` is true when a pattern might give some of its URLs
    another policy (an exact path, or a pattern more specific than the rule's
    fixed prefix).
    """
    state = state_of(app)
    state.check_views()  # every decorated view's problem at once
    rows = []
    for found in route_rules(app):
        rule, path, endpoint, blueprints = found.rule, found.path, found.endpoint, found.blueprints
        # A class-based view with decorated methods: one row per policy, with its methods.
        groups: dict[int, tuple[Policy | None, PolicySource, list[str]]] = {}
        for method in [m for m in found.methods if m not in ("HEAD", "OPTIONS")] or [""]:
            policy, source = state.explain(path, endpoint, blueprints, method or None)
            group = groups.setdefault(id(policy), (policy, source, []))
            if method:
                group[2].append(method)
        for policy, source, methods in groups.values():
            rows.append({
                "rule": rule.rule,
                "host": rule.host if app.url_map.host_matching else None,
                "endpoint": rule.endpoint,
                "redirect_to": found.redirect_to,
                "methods": methods,
                **_source_fields(policy, source),
                "varies": bool(rule.arguments) and source.kind != "decorator"
                and _may_vary(state, path, blueprints, source),
                **_policy_fields(policy),
                "report_only": _report_only_fields(policy),
                "csrf_protection": csrf_mode(state, found.decides, path,
                                             methods[0] if methods else None),
                "writes_unprotected": unprotected_writes(state, rule, methods),
            })
    return rows


def csrf_mode(
    state: CrossOriginState, rule: Rule | None, path: str, method: str | None = None
) -> bool | str:
    """The ``csrf_protection`` the first hook applies to ``method`` writes to ``path``
    through ``rule`` (a decorator that leaves it unset takes its path's value)."""
    found = state.writes_of_rule(rule, path, method)
    return found[1].mode if found is not None else False


#: Methods that never change state: csrf_protection never refuses them.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def unprotected_writes(state: CrossOriginState, rule: Rule, methods: list[str]) -> list[str]:
    """The methods of ``methods`` that change state and that ``rule`` accepts without a
    write check, while ``csrf_protection`` is on somewhere in the app (else none):
    writes any site can make a browser send, the view running. A route exempted on
    purpose (``csrf_protection=False`` on its own entry, blueprint or decorator) is
    not listed."""
    if not state.protects_writes or rule.endpoint is None:
        return []  # (a redirect rule: the browser repeats the write at its target)
    return [method for method in methods
            if method not in SAFE_METHODS and state.writes_of_rule(rule, rule.rule, method) is None
            and not _exempted(state, rule, method)]


def _exempted(state: CrossOriginState, rule: Rule, method: str) -> bool:
    """Whether the policy that decides ``rule``'s writes sets ``csrf_protection=False``."""
    blueprints = blueprints_of(rule.endpoint)
    policy, source = state.explain(rule.rule, rule.endpoint, blueprints, method)
    if policy is not None and source.kind == "decorator" and not policy.csrf_protection_set:
        policy = state.table_policy(rule.rule, blueprints)
    return policy is not None and policy.csrf_protection_set and policy.csrf_protection is False


def _report_only_fields(policy: Policy | None) -> dict[str, Any] | None:
    """The report-only policy of a route: its name, the options it sets, what it allows."""
    trial = policy.report_only if policy is not None else None
    if policy is None or trial is None:
        return None
    return {"policy": trial.name, "sets": sorted(policy.settings["report_only"]),
            **_policy_fields(trial)}


def _source_fields(policy: Policy | None, source: PolicySource) -> dict[str, Any]:
    return {
        "policy": policy.name if policy is not None else None,
        "source": source.kind,
        "blueprint": source.blueprint,
        "pattern": source.pattern.text if source.pattern is not None else None,
    }


def _policy_fields(policy: Policy | None) -> dict[str, Any]:
    if policy is None:
        return {"origins": [], "origins_ignored": [], "origins_loaded": None,
                "credentials": False, "max_age": None,
                "expose_headers": [], "allow_methods": [], "allow_headers": [],
                "private_network": False}
    settings = policy.settings
    loaded = describe_origins(policy, short=True)
    # Entries start-up warned about and left out: they never match, so never listed as
    # if they applied (the table marks them).
    ignored = [entry for entry, _ in policy.origins.ineffective if isinstance(entry, str)]
    return {
        # Origins loaded at run time: where from, how many, loading/fresh/stale/closed (not
        # the entries, which may be thousands; 'flask cors origins list' shows them).
        "origins": [loaded] if loaded is not None else
        [entry for entry in policy.origins.entries if entry not in ignored],
        "origins_ignored": ignored,
        "origins_loaded": describe_origins(policy),
        "credentials": policy.credentials,
        "max_age": settings["max_age"],
        "expose_headers": list(settings["expose_headers"]),
        "allow_methods": list(settings["methods"]),
        "allow_headers": list(settings["allow_headers"]),
        "private_network": policy.private_network,
    }


def _may_vary(
    state: CrossOriginState, rule: str, blueprints: list[str], source: PolicySource
) -> bool:
    fixed = rule.split("<", 1)[0]
    tables = [state.blueprint_tables[name] for name in blueprints if name in state.blueprint_tables]
    if state.table is not None:
        tables.append(state.table)
    return any(
        pattern is not source.pattern and pattern.literal.startswith(fixed)
        for table in tables
        for pattern, _ in table.entries
    )


@click.command("routes")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, one object per rule.")
@click.option("--wide", is_flag=True,
              help="One line per rule with every setting, however wide the terminal.")
@with_appcontext
def routes_command(as_json: bool, wide: bool) -> None:
    """Show every URL rule with its CORS policy and where that policy comes from.

    Fits the terminal's width: the rules and their policies first, then each policy's
    settings once. --wide prints one line per rule with every setting.
    """
    app = current_state().app
    check_loaded(origin_sources(app))
    rows = route_rows(app)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    host_matching = app.url_map.host_matching
    if wide:
        lines = list(_columns(route_table(rows, host_matching=host_matching)))
    else:
        lines = narrow_routes(rows, host_matching=host_matching,
                              width=shutil.get_terminal_size().columns)
    for line in lines:
        click.echo(line)
    if any(row["varies"] for row in rows):
        click.echo(
            "\n* looked up with the rule text as path; a more specific pattern may give some "
            "of its URLs another policy: run 'flask cors check' on one"
        )
    if any(row["writes_unprotected"] for row in rows):
        click.echo("\n" + UNPROTECTED_NOTE)


#: The footnote of ``flask cors routes`` for the rules marked ``!``.
UNPROTECTED_NOTE = (
    "! accepts writes that csrf_protection, on elsewhere in this app, does not check: any "
    "site can make a browser send them and the view runs ('flask cors lint' names them)"
)


#: The narrowest table ``routes`` lays out; a narrower terminal wraps its lines.
MIN_WIDTH = 40


def narrow_routes(rows: list[dict[str, Any]], *, host_matching: bool, width: int) -> list[str]:
    """``flask cors routes`` within ``width`` columns: a table of the rules and their
    policy's name, then each policy's settings once (a policy serves many rules)."""
    width = max(width, MIN_WIDTH)
    table = route_table(rows, host_matching=host_matching)
    keep = 4 if host_matching else 3  # (Host,) Rule, Methods, Policy
    lines = list(_columns([row[:keep] for row in table], width))
    settings = table[0][keep:]
    shown: set[tuple[str, ...]] = set()
    label = max(len(name) for name in settings) + 2
    for row, cells in zip(rows, table[1:]):
        if row["policy"] is None or cells[keep - 1:] in shown:
            continue
        shown.add(cells[keep - 1:])
        lines += ["", *_wrap(row["policy"], width)]
        for name, value in zip(settings, cells[keep:]):
            if name == "Report-Only" and value == "-":
                continue  # the line only for the policies that have one
            lines += _wrap_list(value, width, initial_indent=f"  {name:<{label}}",
                                subsequent_indent=" " * (label + 2))
    return lines


def route_table(rows: list[dict[str, Any]], *, host_matching: bool) -> list[tuple[str, ...]]:
    """The cells of ``flask cors routes``: the rule's methods, then what its policy allows
    (and what its report-only policy tries, when some route has one).

    Allow-Methods and Allow-Headers are the policy's (what a preflight may ask
    for), not the rule's: they explain most refused preflights.
    """
    head: tuple[str, ...] = ("Rule", "Methods", "Policy", "Origins", "Allow-Methods",
                             "Allow-Headers", "Credentials", "Max-Age", "Exposes")
    # The report-only column only while some route has a report-only policy; the CSRF
    # column while some route has csrf_protection.
    trials = any(row["report_only"] is not None for row in rows)
    head += ("Report-Only",) if trials else ()
    writes = any(row["csrf_protection"] is not False for row in rows)
    head += ("CSRF",) if writes else ()
    table: list[tuple[str, ...]] = [(("Host",) if host_matching else ()) + head]
    for row in rows:
        has_policy = row["policy"] is not None
        redirect = row.get("redirect_to")
        cells = (
            row["rule"] + (f" -> {redirect}" if redirect else "") + (
                " *" if row["varies"] else "") + (" !" if row["writes_unprotected"] else ""),
            ", ".join(row["methods"]),
            row["policy"] or "(none)",
            ", ".join(row["origins"] + [f"{entry} (ignored)" for entry in
                                        row["origins_ignored"]]) or "-",
            ", ".join(row["allow_methods"]) or "-",
            ", ".join(row["allow_headers"]) or "-",
            ("yes" if row["credentials"] else "no") if has_policy else "-",
            str(row["max_age"]) if row["max_age"] is not None else "-",
            ", ".join(row["expose_headers"]) or "-",
        ) + ((_report_only_cell(row["report_only"]),) if trials else ()) + (
            (_csrf_cell(row),) if writes else ())
        table.append(((row["host"] or "-",) if host_matching else ()) + cells)
    return table


def _csrf_cell(row: dict[str, Any]) -> str:
    """Whether the route's writes are checked: 'on', 'report-only', 'off' ('-': no policy,
    and no app-wide protection)."""
    mode = row["csrf_protection"]
    if row["policy"] is None and mode is False:
        return "-"
    return "on" if mode is True else "off" if mode is False else str(mode)


def _report_only_cell(trial: dict[str, Any] | None) -> str:
    """What a route's report-only policy tries: ``origins: https://a.example``, one
    ``name: values`` per option it sets."""
    if trial is None:
        return "-"
    shown = {"origins": "origins", "methods": "allow_methods",
             "allow_headers": "allow_headers", "expose_headers": "expose_headers"}
    parts = []
    for name in trial["sets"]:
        if name in shown:
            parts.append(f"{name}: {', '.join(trial[shown[name]]) or '(none)'}")
        else:
            parts.append(name)
    return "; ".join(parts) or "(same options)"


def _columns(rows: list[tuple[str, ...]], width: int | None = None) -> Iterator[str]:
    """Left-aligned columns two spaces apart, a rule of dashes under the head. Within
    ``width``, the widest column is narrowed first and its cells wrap onto more lines."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    if width is not None:
        floor = [min(w, max(len(rows[0][i]), 8)) for i, w in enumerate(widths)]
        while sum(widths) + 2 * (len(widths) - 1) > width:
            narrowable = [i for i in range(len(widths)) if widths[i] > floor[i]]
            if not narrowable:
                break  # as narrow as it gets
            widths[max(narrowable, key=lambda i: widths[i])] -= 1
    for index, row in enumerate(rows):
        wrapped = [_wrap(cell, w) or [""] for cell, w in zip(row, widths)]
        for depth in range(max(len(cell) for cell in wrapped)):
            parts = [cell[depth] if depth < len(cell) else "" for cell in wrapped]
            yield "  ".join(part.ljust(w) for part, w in zip(parts, widths)).rstrip()
        if index == 0:
            yield "  ".join("-" * w for w in widths)


class _CellWrapper(textwrap.TextWrapper):
    """Wraps at spaces and after each ``/`` of a path (a word longer than the line is cut)."""

    def _split(self, text: str) -> list[str]:
        return [chunk for chunk in _BREAKS.split(text) if chunk]


_BREAKS = re.compile(r"(\s+|(?<=/))")


def _wrap(
    text: str, width: int, initial_indent: str = "", subsequent_indent: str = ""
) -> list[str]:
    return _CellWrapper(width, initial_indent=initial_indent,
                        subsequent_indent=subsequent_indent, break_on_hyphens=False).wrap(text)


def _wrap_list(
    text: str, width: int, initial_indent: str = "", subsequent_indent: str = ""
) -> list[str]:
    """A setting's value within ``width``, wrapped only after a ``,``, ``;`` or ``:``
    (between origins, methods, options): an origin is never split, and one wider than
    the line gets a line of its own, whole."""
    chunks = _ITEM_BREAKS.split(text)
    lines: list[str] = []
    line = initial_indent + chunks[0]
    for chunk in chunks[1:]:
        if len(line) + 1 + len(chunk) <= width:
            line = f"{line} {chunk}"
        else:
            lines.append(line)
            line = subsequent_indent + chunk
    lines.append(line)
    return lines


_ITEM_BREAKS = re.compile(r"(?<=[,;:]) ")
