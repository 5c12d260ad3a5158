"""``flask cors lint``: valid but risky policies, each warning saying how to fix it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from ..extension import EXTENSION_KEY, CrossOriginState
from ..options import CONFIG_KEYS, ignored_config_keys
from ..origins import _UNESCAPED_DOT  # the same test as the warning at start-up
from ..policy import Policy
from ..views import UNREACHABLE_PREFLIGHTS, ViewPolicy, ViewSpecs, views_of
from . import status
from .context import current_state
from .origins import check_loaded, origin_sources
from .routes import csrf_mode, route_rules, unprotected_writes

#: Preflight-cache caps per engine, in seconds: what a ``max_age`` turns into.
MAX_AGE_CAPS = {"WebKit": 600, "Chromium": 7200, "Firefox": 86400}

#: ``max_age`` above this many seconds is reported by ``lint`` (Chromium's own cap).
LONG_MAX_AGE = MAX_AGE_CAPS["Chromium"]

#: What ``flask cors lint`` reports: one text per risk, each saying how to fix it.
WARNINGS: dict[str, str] = {
    "decorator-preflights-unanswered": UNREACHABLE_PREFLIGHTS,
    "decorator-after-hooks": (
        "@cross_origin views ({views}) on an app without CORS(app), which has "
        "before_request hooks ({hooks}): those hooks see the views' preflights first, and an "
        "authentication hook refuses them; add CORS(app, resources={{}}) so the "
        "extension answers preflights before the hooks"
    ),
    "credentials-wildcard": (
        "supports_credentials with the wildcard origin {entry}: every subdomain, including "
        "one taken over or hosting other people's content, can read credentialed "
        "responses; list the subdomains you trust"
    ),
    "credentials-regex": (
        "supports_credentials with the origin regex {entry}: any host it matches by "
        "mistake can read credentialed responses; list the origins instead"
    ),
    "private-network": (
        "allow_private_network=True: allowed origins on the public internet may reach this "
        "server inside the user's private network, for the Chromium clients that still "
        "send Private Network Access preflights (on hold since October 2024; Chrome 142 "
        "asks the user instead, with Local Network Access, and Firefox and Safari send "
        "none); turn it off unless this server is a local device's API"
    ),
    "null-origin": (
        "origins lists 'null': sandboxed iframes and file: or data: pages send it, and "
        "any site can create one; remove 'null'"
    ),
    "long-max-age": (
        "max_age={max_age} is longer than {limit} seconds: WebKit keeps a preflight answer "
        "at most 600 seconds and Chromium 7200, but Firefox up to {kept} seconds, so a "
        "method or header you withdraw stays allowed that long; use at most {limit}"
    ),
    "wildcard-public-suffix": (
        "the wildcard origin {entry} has public suffixes below it ({count}, e.g. {examples}): "
        "anyone can have a site under them, so the wildcard never matches a host at or "
        "below one; list such origins one by one if you mean to trust them"
    ),
    "report-only-not-compared": (
        "report_only sets {names}, which never decide whether a request is granted: a "
        "report-only policy reports the requests its origins, methods and allow_headers "
        "would decide otherwise, and what it sets beside them is only seen once enforced"
    ),
    "credentials-writes-unprotected": (
        "supports_credentials=True with csrf_protection=False, on routes that accept "
        "{methods} ({routes}): any site can make a signed-in user's browser send those "
        "writes with their cookies (a form, a text/plain fetch), and the view runs before "
        "CORS decides anything; set csrf_protection='report-only', read the reports, then "
        "True (see 'Cross-origin writes (CSRF)'), or exempt a route that must accept "
        "other sites' posts with csrf_protection=False on its own resource entry"
    ),
    "writes-unprotected": (
        "accepts {methods} without a write check, while csrf_protection is on elsewhere in "
        "this app: any site can make a signed-in user's browser send these writes (a form, "
        "a text/plain fetch) and the view runs; CORS only keeps the page from reading the "
        "answer. Cover it (CORS(app, csrf_protection=True) covers every route), or exempt it "
        "on purpose with csrf_protection=False on its own resource entry or decorator"
    ),
    "regex-open": (
        "the origin regex {entry} allows origins on domains anyone can register (such as "
        "{probe}), so it grants what '*' grants; write '*' if that is meant, or anchor it "
        "to your domain (with supports_credentials=True it is a start-up error)"
    ),
    "blueprint-config-unread": (
        "CORS(blueprint) reads no CORS_* config key, as in flask-cors (only "
        "CORS_CSRF_PROTECTION is inherited): {keys} in app.config {verb} not apply to its "
        "routes; pass {pronoun} to CORS(blueprint, {fix}), or, if meant for the app's "
        "other routes only, move {pronoun} from app.config to {elsewhere}"
    ),
    "regex-dot": (
        "the origin regex {entry} has an unescaped '.' in {around}: it matches any "
        "character, so look-alike hosts match too; write '\\.' for a literal dot"
    ),
    "metrics-without-extension": (
        "app.config['CORS_METRICS'] is {value!r}, but the app has no CORS(app): "
        "@cross_origin alone counts nothing; add CORS(app, resources={{}}) so that its "
        "decisions are counted"
    ),
}



#: What ``flask cors lint`` suggests: printed after the warnings, not counted in them.
SUGGESTIONS: dict[str, str] = {
    "credentials-csrf": (
        "supports_credentials=True without csrf_protection: its routes accept no writes "
        "today, but CORS never stops a cross-origin write; csrf_protection=True refuses "
        "them before the view, should one be added"
    ),
}

#: Methods that never change state: csrf_protection never refuses them.
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def write_warnings(state: CrossOriginState) -> tuple[list[str], list[str]]:
    """Credentialed policies whose writes are not checked: a warning for those that serve
    routes with methods that change state, a suggestion for the others."""
    writes: dict[str, tuple[set[str], list[str]]] = {}
    for found in route_rules(state.app):
        if found.redirect_to is not None:
            continue  # no view runs there: the write reaches its target's rule, listed itself
        rule, blueprints = found.rule, found.blueprints
        # Per method: a class-based view may decorate some of its methods only.
        for method in found.methods:
            policy, _ = state.explain(found.path, found.endpoint, blueprints, method)
            if policy is None or not policy.credentials:
                continue
            if csrf_mode(state, found.decides, found.path, method):
                continue  # checked (or reported, report-only)
            methods, routes = writes.setdefault(policy.name, (set(), []))
            if method in _SAFE:
                continue
            methods.add(method)
            if rule.rule not in routes:
                routes.append(rule.rule)
    warnings, suggestions = [], []
    for name, (methods, routes) in writes.items():
        if routes:
            warnings.append(f"{name}: " + WARNINGS["credentials-writes-unprotected"].format(
                methods=", ".join(sorted(methods)), routes=", ".join(routes)))
        else:
            suggestions.append(f"{name}: {SUGGESTIONS['credentials-csrf']}")
    named = {route for _, routes in writes.values() for route in routes}
    return warnings + uncovered_write_warnings(state, named), suggestions


def uncovered_write_warnings(state: CrossOriginState, named: set[str]) -> list[str]:
    """Every route that accepts writes without a check while ``csrf_protection`` is on
    somewhere in the app, one line each (but those ``named`` by another warning)."""
    found: dict[str, set[str]] = {}
    for each in route_rules(state.app):
        rule = each.rule
        if rule.rule in named or each.redirect_to is not None:
            continue  # a redirect: the browser repeats the write at its target, listed itself
        methods = unprotected_writes(state, rule, list(each.methods))
        if methods:
            found.setdefault(rule.rule, set()).update(methods)
    return [f"route {route}: " + WARNINGS["writes-unprotected"].format(
        methods=", ".join(sorted(methods))) for route, methods in sorted(found.items())]


#: The options a ``CORS(blueprint)`` that leaves them unset takes from the app
#: (``csrf_protection``), or that are the app's alone and apply to its blueprints'
#: routes too (``metrics``).
_INHERITED = frozenset({"csrf_protection", "metrics"})


def blueprint_config_warnings(state: CrossOriginState) -> list[str]:
    """One line per ``CORS(blueprint)`` naming the ``CORS_*`` keys of app.config that its
    policy does not read (it reads none, as in flask-cors) and does not set itself: a
    user who set them may believe they apply to the blueprint's routes."""
    keys = [key for key, name in CONFIG_KEYS.items()
            if name not in _INHERITED and state.app.config.get(key) is not None]
    found = []
    for blueprint, options in sorted(state.blueprint_options.items()):
        own = _options_set(options)
        unread = [key for key in keys if CONFIG_KEYS[key] not in own]
        if not unread:
            continue
        several = len(unread) > 1
        fix = ", ".join(f"{CONFIG_KEYS[key]}=..." for key in unread)
        text = WARNINGS["blueprint-config-unread"].format(
            keys=", ".join(unread), verb="do" if several else "does",
            pronoun="them" if several else "it", fix=fix,
            # The app's other routes read app.config through CORS(app), else their
            # @cross_origin.
            elsewhere=f"CORS(app, {fix})" if state.table is not None
            else f"their @cross_origin({fix})")
        found.append(f"blueprint {blueprint!r}: {text}")
    return found


def _options_set(options: dict[str, Any]) -> set[str]:
    """The options a ``CORS(blueprint, ...)`` sets for all of its routes: its arguments,
    and those every entry of its ``resources`` sets."""
    own = set(options)
    resources = options.get("resources")
    if isinstance(resources, Mapping) and resources:
        entries = [set(entry) if isinstance(entry, Mapping) else set()
                   for entry in resources.values()]
        own |= set.intersection(*entries)
    return own


def app_policies(state: CrossOriginState) -> list[Policy]:
    """Every compiled policy of the app: resources, blueprints' resources, decorated views."""
    found: dict[int, Policy] = {}
    tables = [state.table] if state.table is not None else []
    tables.extend(state.blueprint_tables.values())
    for table in tables:
        for _, policy in table.entries:
            found.setdefault(id(policy), policy)
    # Every decorated view at once: a ConfigurationError lists all their problems.
    state.check_views()
    for endpoint in sorted(state.app.view_functions):
        for view_policy in state.view_policies(endpoint):
            found.setdefault(id(view_policy), view_policy)
    return list(found.values())


def lint_policy(policy: Policy) -> list[str]:
    """The warnings for one policy, as ``"<policy name>: <warning>"``."""
    warnings: list[tuple[str, dict[str, Any]]] = []
    origins = policy.origins
    if policy.credentials:
        for scheme, parent, port in sorted(origins.wildcards):
            entry = f"{scheme}://*.{parent}" + (f":{port}" if port else "")
            warnings.append(("credentials-wildcard", {"entry": f"'{entry}'"}))
        for regex in origins.regexes:
            warnings.append(("credentials-regex", {"entry": f"'{regex.pattern}'"}))
    for scheme, parent, port in sorted(origins.wildcards):
        below = origins.boundaries.get(parent)
        if below:
            entry = f"{scheme}://*.{parent}" + (f":{port}" if port else "")
            warnings.append(("wildcard-public-suffix", {
                "entry": f"'{entry}'", "count": len(below),
                "examples": ", ".join(below.examples()),
            }))
    if policy.private_network:
        warnings.append(("private-network", {}))
    if "null" in origins.exact:
        warnings.append(("null-origin", {}))
    max_age = policy.settings["max_age"]
    if max_age is not None and max_age > LONG_MAX_AGE:
        kept = min(max_age, MAX_AGE_CAPS["Firefox"])
        warnings.append(("long-max-age", {"max_age": max_age, "limit": LONG_MAX_AGE,
                                          "kept": kept}))
    if not policy.credentials:  # with credentials, a start-up error already
        for regex, probe in origins.open_regexes():
            warnings.append(("regex-open", {"entry": f"'{regex.pattern}'", "probe": f"'{probe}'"}))
    for regex in origins.regexes:
        dot = _UNESCAPED_DOT.search(regex.pattern)
        if dot is not None:
            around = regex.pattern[max(0, dot.start() - 8) : dot.end() + 8]
            warnings.append(("regex-dot", {"entry": f"'{regex.pattern}'", "around": f"'{around}'"}))
    found = [f"{policy.name}: {WARNINGS[code].format(**details)}" for code, details in warnings]
    trial = policy.report_only
    if trial is not None:
        # The report-only policy is linted before it is enforced, for what it adds.
        names = sorted(set(policy.settings["report_only"]) - _VERDICT_OPTIONS)
        if names:
            found.append(f"{policy.name}: " + WARNINGS["report-only-not-compared"].format(
                names=", ".join(names)))
        if "origins" in policy.settings["report_only"]:
            found += [f"{trial.name}: origins={entry!r}: {message}"
                      for entry, message in trial.origins.ineffective]
        inherited = {warning[len(policy.name):] for warning in found}
        found += [warning for warning in lint_policy(trial)
                  if warning[len(trial.name):] not in inherited]
    return found


#: The options by which a report-only policy can decide a request otherwise.
_VERDICT_OPTIONS = frozenset({"origins", "methods", "allow_headers"})


def decorator_hook_warnings(app: Flask) -> list[str]:
    """Decorated views whose preflights the app's before_request hooks see first."""
    if EXTENSION_KEY in app.extensions:
        return []  # the extension's own hook answers preflights before the others
    found = views_of(app)
    views = sorted(
        endpoint for endpoint in app.view_functions
        if any(spec.automatic_options for spec in _specs(found.specs(endpoint)))
    )
    hooks = sorted({
        getattr(hook, "__qualname__", repr(hook))
        for functions in app.before_request_funcs.values() for hook in functions
    })
    if not views or not hooks:
        return []
    text = WARNINGS["decorator-after-hooks"].format(
        views=", ".join(views), hooks=", ".join(hooks))
    return [f"app {app.name!r}: {text}"]


def metrics_warnings(app: Flask) -> list[str]:
    """``CORS_METRICS`` set on an app without the extension: nothing would be counted."""
    value = app.config.get("CORS_METRICS")
    if value in (None, False) or EXTENSION_KEY in app.extensions:
        return []
    return [WARNINGS["metrics-without-extension"].format(value=value)]


def _specs(specs: ViewSpecs | None) -> list[ViewPolicy]:
    return specs.all() if specs is not None else []


def unanswered_preflight_warnings(app: Flask) -> list[str]:
    """Decorated views whose preflights Flask answers itself, without CORS headers,
    when the extension is not on the app (see :meth:`AppViews.unreachable_preflights`)."""
    if EXTENSION_KEY in app.extensions:
        return []  # the extension's hook answers every preflight with the view's policy
    return [f"app {app.name!r}: {text}" for _, text in views_of(app).unreachable_preflights()]


@click.command("lint")
@with_appcontext
def lint_command() -> None:
    """Warn about valid but risky policies.

    Exit status 0 without warnings, 1 with any, 2 for a usage error, 3 when the app
    cannot be checked (its CORS configuration is invalid, or it fails to load), 4 when
    a store of origins loaded at run time cannot be reached.
    """
    state = current_state()
    # Origins that never loaded are no origins: what lint would say of them (nothing,
    # "no warnings") is not what the app serves, so it ends as routes and check do.
    check_loaded(origin_sources(state.app))
    policies = app_policies(state)
    # Ignored or unknown CORS_* keys, and origins that can never match, were warned
    # about at start-up; lint repeats them so they do not scroll away.
    found = ignored_config_keys(state.app.config)
    found += blueprint_config_warnings(state)
    found += [f"{policy.name}: origins={entry!r}: {message}" for policy in policies
              for entry, message in policy.origins.ineffective]
    found += [warning for policy in policies for warning in lint_policy(policy)]
    found += unanswered_preflight_warnings(state.app)
    found += decorator_hook_warnings(state.app)
    found += metrics_warnings(state.app)
    unprotected, suggestions = write_warnings(state)
    found += unprotected
    for warning in found:
        click.echo(warning)
    for suggestion in suggestions:
        click.echo(f"suggestion: {suggestion}")
    count = len(policies)
    checked = f"{count} polic{'ies' if count != 1 else 'y'} checked"
    if found:
        click.echo(f"{len(found)} warning{'s' if len(found) != 1 else ''} ({checked})")
        raise SystemExit(status.FOUND)
    click.echo(f"no warnings ({checked})")
