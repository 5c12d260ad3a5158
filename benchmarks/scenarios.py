"""The scenarios: one route, one policy, one request each.

Every contestant gets its own app per scenario, built from the same policy
(spelled in its own syntax, see ``contestants``), and the same prebuilt request.
Before anything is timed each answer is checked, so that a misconfigured app
(one that refuses where it should grant, say) is reported instead of being
measured as fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask
from werkzeug.test import EnvironBuilder

from .contestants import CROSSORIGIN, Contestant

ROUTE = "/api/v<int:version>/items"
ROUTE_METHODS = ["GET", "POST", "PUT", "DELETE"]
ALLOWED_ORIGIN = "https://app.example.com"
REFUSED_ORIGIN = "https://evil.example.net"
REQUESTED_HEADERS = "content-type,x-requested-with"
ADVERSARIAL_SIZE = 64 * 1024
SIZES = (1, 100, 1000)


def items(version: int) -> dict[str, Any]:
    return {"items": [1, 2, 3], "version": version}


def policy(origins: list[Any] | None = None) -> dict[str, Any]:
    """A typical API policy; every scenario starts from it."""
    return {
        "origins": origins
        if origins is not None
        else [ALLOWED_ORIGIN, "https://admin.example.com"],
        "methods": ["GET", "POST", "PUT", "DELETE"],
        "allow_headers": ["Content-Type", "Authorization", "X-Requested-With"],
        "supports_credentials": True,
        "max_age": 600,
    }


def api_resources(c: Contestant) -> dict[Any, dict[str, Any]]:
    return {c.resource_prefix("/api"): {}}


def build_app(
    c: Contestant,
    options: dict[str, Any] | None = None,
    decorator_options: dict[str, Any] | None = None,
) -> Flask:
    """The one JSON route, with the extension or the decorator when asked."""
    app = Flask(f"bench_{c.key}")
    view = items
    if decorator_options is not None:
        view = c.decorate(view, decorator_options)
    app.add_url_rule(ROUTE, "items", view, methods=ROUTE_METHODS)
    if options is not None:
        c.install(app, options)
    return app


def adversarial_request_headers(size: int = ADVERSARIAL_SIZE) -> str:
    """``size`` characters of commas, spaces and header names, empty items included."""
    separators = (",", ", ", " ,", ",,", " , ", ",  ,", "  ")
    parts: list[str] = []
    length = 0
    i = 0
    while length < size:
        part = (f"x-custom-{i}" if i % 3 else "content-type") + separators[i % len(separators)]
        parts.append(part)
        length += len(part)
        i += 1
    return "".join(parts)[:size]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()

    def environ(self) -> dict[str, Any]:
        """A WSGI environ to copy for each call (the app consumes it)."""
        return EnvironBuilder(
            method=self.method, path=self.path, headers=list(self.headers)
        ).get_environ()

    def describe(self) -> str:
        shown = []
        for name, value in self.headers:
            shown.append(f"{name}: {value if len(value) <= 40 else f'<{len(value)} chars>'}")
        return " ".join([self.method, self.path, *(f"[{h}]" for h in shown)])


def simple_request(origin: str | None, path: str = "/api/v1/items") -> Request:
    headers = (("Origin", origin),) if origin else ()
    return Request("GET", path, headers)


def preflight_request(
    request_headers: str = REQUESTED_HEADERS, path: str = "/api/v1/items"
) -> Request:
    return Request(
        "OPTIONS",
        path,
        (
            ("Origin", ALLOWED_ORIGIN),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", request_headers),
        ),
    )


# What the answer of a CORS contestant must look like (bare Flask only has to answer 200).
GRANT, REFUSE, PREFLIGHT, ANSWER = "grant", "refuse", "preflight", "answer"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    request: Request
    expect: str
    build: Callable[[Contestant], Flask]
    tags: tuple[str, ...] = field(default=())
    #: For flask_crossorigin, the same app with one option more (csrf_protection=True),
    #: timed back to back with ``build``'s as the contestant :data:`CSRF_VARIANT`.
    variant: Callable[[Contestant], Flask] | None = None

    @property
    def origin(self) -> str | None:
        return dict(self.request.headers).get("Origin")


def options_for(c: Contestant, **changes: Any) -> dict[str, Any]:
    options = policy()
    options["resources"] = api_resources(c)
    options.update(changes)
    return options


def _resources_scenario(n: int) -> Scenario:
    def build(c: Contestant) -> Flask:
        table = {c.resource_prefix(f"/api/v{i}"): {} for i in range(n)}
        return build_app(c, options_for(c, resources=table))

    return Scenario(
        f"resources_{n}",
        f"simple GET, {n} resource pattern(s), the request matches the last one",
        simple_request(ALLOWED_ORIGIN, f"/api/v{n - 1}/items"),
        GRANT,
        build,
        ("resources",),
    )


#: A path segment long enough that the extension's cache of answers by path (paths of
#: up to 256 characters) never keeps it: every request looks the table up, as when
#: many distinct paths defeat the cache.
UNCACHED_SEGMENT = "s" * 260


def segment(name: str, leaf: str) -> dict[str, Any]:
    return {"segment": len(name), "leaf": leaf}


def _glob_scenario(n: int) -> Scenario:
    def build(c: Contestant) -> Flask:
        if c.key == CROSSORIGIN:
            table = {f"/api/*/x{i}": {} for i in range(n)}
        else:  # flask-cors: regexes matched from the start; anchored to mean the same
            table = {rf"/api/[^/]*/x{i}$": {} for i in range(n)}
        app = Flask(f"bench_{c.key}")
        app.add_url_rule("/api/<name>/<leaf>", "segment", segment, methods=ROUTE_METHODS)
        c.install(app, options_for(c, resources=table))
        return app

    return Scenario(
        f"glob_{n}",
        f"simple GET, {n} glob pattern(s) sharing a prefix ('/api/*/x0', '/api/*/x1', ...), "
        "the request matches the last one, its path too long for the cache",
        simple_request(ALLOWED_ORIGIN, f"/api/{UNCACHED_SEGMENT}/x{n - 1}"),
        GRANT,
        build,
        ("resources",),
    )


def _origins_scenario(n: int) -> Scenario:
    origins = [f"https://app{i}.example.com" for i in range(n)]

    def build(c: Contestant) -> Flask:
        return build_app(c, options_for(c, origins=origins))

    return Scenario(
        f"origins_{n}",
        f"simple GET, {n} exact origin(s), the request comes from the last one",
        simple_request(origins[-1]),
        GRANT,
        build,
        ("origins",),
    )


def _wildcards_scenario(n: int) -> Scenario:
    parents = [f"p{i}.example.com" for i in range(n)]

    def build(c: Contestant) -> Flask:
        return build_app(c, options_for(c, origins=[c.subdomain_origin(p) for p in parents]))

    return Scenario(
        f"wildcards_{n}",
        f"simple GET, {n} wildcard-subdomain origin(s) ('https://*.p0.example.com', ...), "
        "the request comes from a subdomain of the last one",
        simple_request(f"https://api.{parents[-1]}"),
        GRANT,
        build,
        ("origins",),
    )


#: An Origin of 500 one-letter labels (1 KiB, within the length limit, so parsed).
MANY_LABELS_ORIGIN = "https://" + "a." * 500 + "example.org"


#: The size of the trusted set in the scenarios that compare loaded origins with static ones.
DYNAMIC_SIZE = 10_000


def _dynamic_scenarios() -> list[Scenario]:
    """10,000 origins listed statically, and the same loaded by ``CachedOrigins``
    (flask_crossorigin only; flask-cors, which has no such thing, gets the static list)."""
    origins = [f"https://tenant{i}.example.com" for i in range(DYNAMIC_SIZE)]

    def static(c: Contestant) -> Flask:
        return build_app(c, options_for(c, origins=origins))

    def cached(c: Contestant) -> Flask:
        if c.key != CROSSORIGIN:
            return static(c)
        from flask_crossorigin import CachedOrigins

        loaded = CachedOrigins(lambda: origins, ttl=3600, max_stale=7200)
        return build_app(c, options_for(c, origins=loaded))

    members = frozenset(origins)

    def looked_up(c: Contestant) -> Flask:
        if c.key != CROSSORIGIN:
            return static(c)
        from flask_crossorigin import CachedOrigins

        # Per-origin mode: after the first request, the answer comes from the cache.
        per_origin = CachedOrigins(lookup=members.__contains__, ttl=3600, max_stale=7200)
        return build_app(c, options_for(c, origins=per_origin))

    found = []
    for kind, build, what in (("", static, "listed"), ("cached_", cached, "loaded by "
                                                        "CachedOrigins (flask-cors: listed)"),
                              ("lookup_", looked_up, "looked up one by one by "
                               "CachedOrigins(lookup=), answered from its cache "
                               "(flask-cors: listed)")):
        found.append(Scenario(
            f"origins_{kind}{DYNAMIC_SIZE}",
            f"simple GET, {DYNAMIC_SIZE} exact origins {what}, the request from the last one",
            simple_request(origins[-1]), GRANT, build, ("origins", "dynamic"),
        ))
        found.append(Scenario(
            f"origins_{kind}{DYNAMIC_SIZE}_refused",
            f"simple GET, {DYNAMIC_SIZE} exact origins {what}, the request from none of them",
            simple_request(REFUSED_ORIGIN), REFUSE, build, ("origins", "dynamic"),
        ))
    return found


SUBDOMAIN_REGEX = re.compile(r"https://(?:app|admin)\d*\.example\.org")
#: The other origin of the typical policy: granted, but not by the report-only policy below.
OTHER_ALLOWED_ORIGIN = "https://admin.example.com"


def with_report_only(c: Contestant) -> Flask:
    """The typical policy, and for flask_crossorigin a report-only policy beside it that
    lists one of its two origins (flask-cors has none: it serves the policy alone)."""
    options = options_for(c)
    if c.key == CROSSORIGIN:
        options["report_only"] = {"origins": [ALLOWED_ORIGIN]}
    return build_app(c, options)


#: The key of flask_crossorigin with ``csrf_protection=True`` in the scenarios that have
#: a variant: paired with ``crossorigin`` (the same app without it) in every round.
CSRF_VARIANT = "crossorigin_csrf"


def with_csrf_protection(c: Contestant) -> Flask:
    """The typical policy with ``csrf_protection=True`` (flask_crossorigin only)."""
    return build_app(c, options_for(c, csrf_protection=True))


def write_request(origin: str, site: str = "cross-site") -> Request:
    """A credentialed cross-origin ``POST`` as Chromium sends it (no body)."""
    return Request("POST", "/api/v1/items", (("Origin", origin), ("Sec-Fetch-Site", site)))


def all_scenarios() -> list[Scenario]:
    return [
        Scenario(
            "simple_allowed",
            "simple GET from an allowed origin",
            simple_request(ALLOWED_ORIGIN),
            GRANT,
            lambda c: build_app(c, options_for(c)),
            ("simple",),
        ),
        Scenario(
            "simple_refused",
            "simple GET from a refused origin",
            simple_request(REFUSED_ORIGIN),
            REFUSE,
            lambda c: build_app(c, options_for(c)),
            ("simple",),
        ),
        Scenario(
            "simple_no_origin",
            "GET without Origin (same-origin or non-browser client)",
            simple_request(None),
            # Any answer: flask-cors's default always_send adds an ACAO even here.
            ANSWER,
            lambda c: build_app(c, options_for(c)),
            ("simple",),
        ),
        Scenario(
            "preflight",
            "preflight PUT with two request headers (bare: Flask's automatic OPTIONS)",
            preflight_request(),
            PREFLIGHT,
            lambda c: build_app(c, options_for(c)),
            ("preflight",),
        ),
        Scenario(
            "preflight_adversarial",
            f"preflight with a {ADVERSARIAL_SIZE // 1024} KiB Access-Control-Request-Headers "
            "of commas, spaces and names",
            preflight_request(adversarial_request_headers()),
            ANSWER,
            lambda c: build_app(c, options_for(c)),
            ("preflight",),
        ),
        *(_resources_scenario(n) for n in SIZES),
        *(_glob_scenario(n) for n in (1, 1000)),
        *(_origins_scenario(n) for n in (1, 1000)),
        *_dynamic_scenarios(),
        Scenario(
            "origin_subdomain",
            "simple GET, wildcard-subdomain origin (https://*.example.com)",
            simple_request("https://api.example.com"),
            GRANT,
            lambda c: build_app(c, options_for(c, origins=[c.subdomain_origin("example.com")])),
            ("origins",),
        ),
        *(_wildcards_scenario(n) for n in (1, 1000)),
        Scenario(
            "origin_many_labels",
            "simple GET from a refused 1 KiB origin of 500 one-letter labels "
            "(https://a.a.....example.org), https://*.example.com allowed",
            simple_request(MANY_LABELS_ORIGIN),
            REFUSE,
            lambda c: build_app(c, options_for(c, origins=[c.subdomain_origin("example.com")])),
            ("origins",),
        ),
        Scenario(
            "origin_regex",
            "simple GET, regex origin (https://(?:app|admin)\\d*\\.example\\.org)",
            simple_request("https://admin7.example.org"),
            GRANT,
            lambda c: build_app(c, options_for(c, origins=[SUBDOMAIN_REGEX])),
            ("origins",),
        ),
        Scenario(
            "report_only",
            "simple GET from an allowed origin, with a report-only policy that grants it too "
            "(flask-cors: the policy alone)",
            simple_request(ALLOWED_ORIGIN),
            GRANT,
            with_report_only,
            ("report_only",),
        ),
        Scenario(
            "report_only_mismatch",
            "simple GET from an allowed origin that the report-only policy would refuse "
            "(no signal receiver, INFO off; flask-cors: the policy alone)",
            simple_request(OTHER_ALLOWED_ORIGIN),
            GRANT,
            with_report_only,
            ("report_only",),
        ),
        Scenario(
            "csrf_get",
            "simple GET from an allowed origin (a safe method: never refused)",
            simple_request(ALLOWED_ORIGIN),
            GRANT,
            lambda c: build_app(c, options_for(c)),
            ("csrf",),
            variant=with_csrf_protection,
        ),
        Scenario(
            "csrf_write",
            "credentialed POST from an allowed origin (Sec-Fetch-Site: cross-site): a "
            "trusted cross-origin write",
            write_request(ALLOWED_ORIGIN),
            GRANT,
            lambda c: build_app(c, options_for(c)),
            ("csrf",),
            variant=with_csrf_protection,
        ),
        Scenario(
            "csrf_write_same_origin",
            "POST from the API's own origin (Sec-Fetch-Site: same-origin)",
            write_request("http://localhost", "same-origin"),
            ANSWER,
            lambda c: build_app(c, options_for(c)),
            ("csrf",),
            variant=with_csrf_protection,
        ),
        Scenario(
            "csrf_write_refused",
            "POST from a refused origin (Sec-Fetch-Site: cross-site); with protection: 403 "
            "before the view",
            write_request(REFUSED_ORIGIN),
            REFUSE,
            lambda c: build_app(c, options_for(c)),
            ("csrf",),
            variant=with_csrf_protection,
        ),
        Scenario(
            "decorator",
            "simple GET from an allowed origin, @cross_origin instead of CORS(app)",
            simple_request(ALLOWED_ORIGIN),
            GRANT,
            lambda c: build_app(c, decorator_options=policy()),
            ("decorator",),
        ),
        Scenario(
            "decorator_preflight",
            "preflight PUT with two request headers, @cross_origin instead of CORS(app)",
            preflight_request(),
            PREFLIGHT,
            lambda c: build_app(c, decorator_options=policy()),
            ("decorator", "preflight"),
        ),
    ]


def check(
    scenario: Scenario, c: Contestant, status: str, headers: list[tuple[str, str]]
) -> str | None:
    """Return what is wrong with an answer, or None when it is what the scenario expects."""
    code = int(status.split(" ", 1)[0])
    if c.is_bare or scenario.expect == ANSWER:
        return None if code < 500 else f"status {status}"
    lowered: dict[str, list[str]] = {}
    for name, value in headers:
        lowered.setdefault(name.lower(), []).append(value)
    acao = lowered.get("access-control-allow-origin", [])
    if scenario.expect == REFUSE:
        return f"granted a refused request: ACAO {acao}" if acao else None
    if acao != [scenario.origin]:
        return f"expected ACAO [{scenario.origin}], got {acao} (status {status})"
    if scenario.expect == GRANT:
        return None if code == 200 else f"status {status}"
    # PREFLIGHT
    if not 200 <= code < 300:
        return f"preflight status {status}"
    methods = ",".join(lowered.get("access-control-allow-methods", []))
    if "PUT" not in methods and methods.strip() != "*":
        return f"PUT not in Access-Control-Allow-Methods {methods!r}"
    allowed = {
        h.strip().lower()
        for v in lowered.get("access-control-allow-headers", [])
        for h in v.split(",")
    }
    missing = [h for h in REQUESTED_HEADERS.split(",") if h not in allowed and "*" not in allowed]
    return f"request headers {missing} not allowed" if missing else None
