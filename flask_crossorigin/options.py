"""The option table: every option's name, ``CORS_*`` key, default and meaning.

This table is the single source for validation, for reading ``app.config`` and
for the configuration reference in the docs. Options are merged from layers
(defaults, then ``app.config``, then keyword arguments, then a resource entry),
each layer named so that a problem says where the offending value came from.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, TypedDict, Union

from .errors import Problem, warn_configuration
from .headers import is_token

if TYPE_CHECKING:
    from .origins import OriginSource


@dataclass(frozen=True)
class Option:
    """One option of the extension and the decorator."""

    name: str
    default: Any
    type: str
    help: str
    extension_only: bool = False

    @property
    def config_key(self) -> str:
        """The Flask config key that sets this option app-wide."""
        return "CORS_" + self.name.upper()


DEFAULT_METHODS = ("GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE")

OPTIONS: tuple[Option, ...] = (
    Option(
        "origins", "*", "str | re.Pattern | callable | list of these | CachedOrigins",
        "Origins allowed to read responses: '*' (any origin, never with credentials), "
        "exact origins ('https://app.example.com'), wildcard subdomains "
        "('https://*.example.com'), regexes matched against the whole origin, or callables "
        "origin -> bool. 'null' is allowed only when listed. A CachedOrigins or "
        "RedisOrigins (the whole value) loads them at run time, off the request path.",
    ),
    Option(
        "methods", DEFAULT_METHODS, "str | list of str",
        "Methods a preflight may ask for, compared case-sensitively; '*' allows any method.",
    ),
    Option(
        "allow_headers", "*", "str | re.Pattern | list of these",
        "Request headers a preflight may ask for, compared case-insensitively, globs "
        "('X-Custom-*': '*' stands for any run of name characters) and regexes matched "
        "case-insensitively against the whole name (r'X-Company-.*'); '*' alone allows "
        "any. The requested names are echoed back as the client spelt them.",
    ),
    Option(
        "expose_headers", None, "str | list of str | None",
        "Response headers the page's script may read beyond the CORS-safelisted ones; "
        "'*' means all, and only without credentials.",
    ),
    Option(
        "supports_credentials", False, "bool",
        "Allow credentialed requests (cookies, HTTP auth): sends "
        "Access-Control-Allow-Credentials: true. Needs explicit origins, never '*'.",
    ),
    Option(
        "max_age", None, "int | timedelta | None",
        "Seconds a browser may cache a preflight answer (Access-Control-Max-Age). "
        "Each engine caps it: WebKit (Safari) at 600 seconds, Chromium at 7200, "
        "Firefox at 86400.",
    ),
    Option(
        "send_wildcard", False, "bool",
        "With origins='*', answer 'Access-Control-Allow-Origin: *' (True) or echo the "
        "request's origin (False, the default, as in flask-cors; a value that is not a "
        "well-formed origin is answered with '*', never echoed). Either way the answer "
        "carries 'Vary: Origin'.",
    ),
    Option(
        "vary_header", True, "bool",
        "Add 'Vary: Origin' (and the preflight request headers) to responses whose CORS "
        "headers depend on the request, so shared caches keep answers apart.",
    ),
    Option(
        "automatic_options", True, "bool",
        "Answer preflights in the extension, before before_request hooks and the view run. "
        "When False, preflights reach the view and its response gets the preflight headers.",
    ),
    Option(
        "always_send", True, "bool",
        "Send 'Access-Control-Allow-Origin: *' to requests without an Origin header when "
        "the policy allows any origin (origins='*'), whatever send_wildcard says. Policies "
        "with listed origins never list them to requests without an Origin.",
    ),
    Option(
        "intercept_exceptions", True, "bool",
        "Add CORS headers to the answers to unhandled exceptions (Flask's 500) so the page "
        "can read them. Other error responses (aborts, error handlers, 404, 405) always "
        "get them. What flask-cors documents for it (flask-cors 6.0.5 as run still adds "
        "headers to those 500s under CORS(app)).",
    ),
    Option(
        "allow_private_network", False, "bool",
        "Answer 'Access-Control-Allow-Private-Network: true' to preflights that ask for it "
        "(Private Network Access). Only Chromium ever sent them, and only where PNA "
        "preflights were enabled: Chrome put them on hold in October 2024, and Chrome 142 "
        "(October 2025) gates a public site's requests to local addresses with Local "
        "Network Access, a user permission that no response header grants. Firefox and "
        "Safari ship neither. A local device's API still needs its origins listed.",
    ),
    Option(
        "report_only", None, "dict | None",
        "A stricter policy to try before enforcing it: a dict of the options above, merged "
        "over the policy it shadows (report_only={'origins': [...]} is enough). It never "
        "changes a response; when it would refuse a request the enforced policy grants, or "
        "grant one it refuses, the extension sends the report_only_mismatch signal and logs "
        "the mismatch at INFO. A resource entry's report_only replaces the app's; None turns "
        "it off.",
    ),
    Option(
        "report_only_interval", 60, "int | float | timedelta",
        "Seconds during which a report-only mismatch is logged once per (policy, origin, "
        "reason); the signal is sent for every one. 0 logs every mismatch (at most "
        "100 lines a minute either way).",
    ),
    Option(
        "csrf_protection", False, "bool | 'report-only'",
        "Refuse cross-origin writes (CSRF) with 403 before before_request hooks and the "
        "view run, from the Fetch Metadata headers browsers send (Sec-Fetch-Site, "
        "Origin): a request with a method other than GET, HEAD or OPTIONS passes when "
        "it comes from the app's own origin, or from an origin this policy allows "
        "(never '*', never 'null'). 'report-only' refuses nothing and reports what "
        "would be refused. A @cross_origin view that does not set it takes the value of "
        "the resource pattern its path matches; False there exempts the view. See "
        "'Cross-origin writes (CSRF)'.",
    ),
    Option(
        "resources", "/*", "dict | list | str | re.Pattern",
        "Path patterns the extension applies to, optionally each with its own options "
        "(dict pattern -> options). The most specific matching pattern wins.",
        extension_only=True,
    ),
    Option(
        "metrics", False, "False | 'prometheus' | 'opentelemetry'",
        "Count every CORS decision (kind, granted or refused, policy, reason) and every "
        "report-only mismatch: 'prometheus' in prometheus_client's default registry "
        "(multiprocess mode included), 'opentelemetry' as instruments of the global "
        "MeterProvider. App-wide: set it in CORS(app) or CORS_METRICS, not on a "
        "blueprint. False (the default) imports neither library. Labels never hold an "
        "origin, a path or any other request data. See 'Metrics'.",
        extension_only=True,
    ),
)

# -- the options as types: what editors complete and mypy checks ---------------------
# One line per option of the table above (tests/test_typed_options.py compares them).
# The runtime checks the values all the same, for code that no type checker reads.

#: One allowed origin: exact, wildcard or regex text, a compiled regex, or a callable.
OriginEntry = Union[str, "re.Pattern[str]", Callable[[str], bool]]
#: ``origins``: one entry, a comma-separated string, a collection of entries, or origins
#: loaded at run time (``CachedOrigins``, ``RedisOrigins``: the whole value).
Origins = Union[OriginEntry, list[OriginEntry], tuple[OriginEntry, ...], set[OriginEntry],
                frozenset[OriginEntry], "OriginSource"]
#: ``methods``, ``expose_headers``: a name, ``"A, B"``, or a collection of names.
Names = Union[str, list[str], tuple[str, ...], set[str], frozenset[str]]
#: ``allow_headers``: names, and regexes matched against the whole name.
HeaderEntry = Union[str, "re.Pattern[str]"]
AllowHeaders = Union[str, list[HeaderEntry], tuple[HeaderEntry, ...], set[HeaderEntry],
                     frozenset[HeaderEntry]]
#: Seconds: an int, digits (as the environment gives them) or a timedelta.
Seconds = Union[int, str, timedelta]
#: A resource pattern: a path pattern (``"/api/*"``) or a regex.
ResourcePatternSpec = Union[str, "re.Pattern[str]"]


class ReportOnlyOptions(TypedDict, total=False):
    """The options of a ``report_only`` policy: a policy's, but not the report-only ones.

    Every key is optional. ``CORS(app, **options)`` and ``@cross_origin(**options)``
    take the subclasses :class:`CrossOriginOptions` and :class:`CorsOptions`, so
    that mypy and editors know every option's name and type.
    """

    origins: Origins
    methods: Names
    allow_headers: AllowHeaders
    expose_headers: Names | None
    supports_credentials: bool
    max_age: Seconds | None
    send_wildcard: bool
    vary_header: bool
    automatic_options: bool
    always_send: bool
    intercept_exceptions: bool
    allow_private_network: bool


class CrossOriginOptions(ReportOnlyOptions, total=False):
    """The keyword arguments of :func:`~flask_crossorigin.cross_origin`, and of one
    ``resources`` entry."""

    report_only: ReportOnlyOptions | None
    report_only_interval: Seconds | float
    csrf_protection: bool | Literal["report-only"]


#: ``resources``: patterns, or a mapping of pattern -> that path's options.
Resources = Union[ResourcePatternSpec, list[ResourcePatternSpec], tuple[ResourcePatternSpec, ...],
                  Mapping[ResourcePatternSpec, Optional[CrossOriginOptions]]]


class CorsOptions(CrossOriginOptions, total=False):
    """The keyword arguments of :class:`~flask_crossorigin.CORS` and ``init_app``."""

    resources: Resources
    metrics: Literal[False, "prometheus", "opentelemetry"]


OPTIONS_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}
POLICY_OPTIONS = tuple(o.name for o in OPTIONS if not o.extension_only)
#: The options a ``report_only`` dict may set: a policy's, but not the report-only ones.
REPORT_ONLY_OPTIONS = tuple(
    name for name in POLICY_OPTIONS
    if name not in ("report_only", "report_only_interval", "csrf_protection")
)
CONFIG_KEYS: dict[str, str] = {option.config_key: option.name for option in OPTIONS}

# Keys that tutorials set although no CORS extension reads them. Renaming CORS_HEADERS
# to CORS_ALLOW_HEADERS would narrow the allowed headers (from '*' to that list) and
# turn working preflights into 403s, so the advice is to delete it.
def _ignored_by_flask_cors(renamed: str) -> str:
    return (
        "flask-cors ignores it too (tutorials copied it from its examples), so removing it "
        f"keeps the behaviour you have: remove it. Do not rename it to {renamed}: that would "
        "restrict the request headers a preflight may ask for from '*' (the default) to "
        "this list, and preflights asking for any other (Authorization...) would be refused"
    )


_NEVER_READ = {"CORS_HEADERS": _ignored_by_flask_cors("CORS_ALLOW_HEADERS")}
#: The same for the keyword argument (``CORS(app, headers="Content-Type")``).
_NOT_AN_OPTION = {"headers": _ignored_by_flask_cors("allow_headers")}

#: A layer of options: where they come from (for messages) and the values.
Layer = tuple[str, Mapping[str, Any]]


def unknown_option_problems(
    options: Mapping[str, Any], where: str, allowed: Iterable[str]
) -> list[Problem]:
    """A problem for every name in ``options`` that is not an option, with a suggestion."""
    allowed = list(allowed)
    problems = []
    for name in options:
        if name in allowed:
            continue
        close = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known options: {', '.join(allowed)}"
        hint = _NOT_AN_OPTION.get(str(name), hint)
        problems.append(Problem(where, str(name), options[name], f"is not an option; {hint}"))
    return problems


def options_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The options set by ``CORS_*`` keys in a Flask config.

    An unknown ``CORS_*`` key only warns: other code may use the prefix, and
    tutorials set ``CORS_HEADERS``, which no CORS extension has ever read.
    :func:`ignored_config_keys` lists the same keys for ``flask cors lint``.
    A key set to ``None`` (a placeholder in a config class: ``CORS_ORIGINS = None``)
    is unset, as in flask-cors: the default or a keyword argument applies.
    """
    found = {
        CONFIG_KEYS[key]: value
        for key, value in config.items()
        if key in CONFIG_KEYS and value is not None
    }
    for note in ignored_config_keys(config):
        warn_configuration(note)
    return found


def ignored_config_keys(config: Mapping[str, Any]) -> list[str]:
    """The ``CORS_*`` keys of ``config`` that are not settings, each with why and the fix."""
    notes = []
    for key in config:
        if not isinstance(key, str) or not key.startswith("CORS_") or key in CONFIG_KEYS:
            continue
        if key in _NEVER_READ:
            notes.append(f"app.config[{key!r}] is not a setting and is ignored: "
                         f"{_NEVER_READ[key]}")
            continue
        close = next(
            iter(difflib.get_close_matches(key, list(CONFIG_KEYS), n=1, cutoff=0.7)), None
        )
        hint = f"; did you mean {close!r}?" if close else ""
        notes.append(f"app.config[{key!r}] is not a flask-crossorigin setting and is "
                     f"ignored{hint}")
    return notes


def merge_layers(layers: Iterable[Layer]) -> dict[str, tuple[Any, str]]:
    """Resolve every policy option to ``(value, where it came from)``; later layers win."""
    merged: dict[str, tuple[Any, str]] = {
        name: (OPTIONS_BY_NAME[name].default, "default") for name in POLICY_OPTIONS
    }
    for where, values in layers:
        for name, value in values.items():
            if name in merged:
                label = where
                if where == "app.config":
                    label = f"app.config[{OPTIONS_BY_NAME[name].config_key!r}]"
                merged[name] = (value, label)
    return merged


# Normalizers: each returns the normalized value, or appends problems and returns None.

def check_bool(name: str, value: Any, where: str, problems: list[Problem]) -> bool:
    if isinstance(value, bool):
        return value
    meaning: bool | None = None
    if isinstance(value, str):
        meaning = _BOOLEAN_WORDS.get(value.strip().lower())
    elif type(value) is int and value in (0, 1):  # FLASK_CORS_...=1 reads as the number 1
        meaning = bool(value)
    if meaning is None or not where.startswith("app.config"):
        problems.append(Problem(where, name, value, "must be True or False"))
        return False
    # 'True' from FLASK_CORS_...=True: from_prefixed_env() reads values as JSON, and
    # JSON's booleans are lowercase, so the word stayed a string.
    word = "true" if meaning else "false"
    key = "FLASK_" + OPTIONS_BY_NAME[name].config_key
    problems.append(Problem(
        where, name, value,
        f"must be True or False, not {'a string' if isinstance(value, str) else 'a number'}; "
        f"environment values are read as JSON by "
        f"app.config.from_prefixed_env(), where a boolean is written {word} (lowercase): "
        f"{key}={word}",
    ))
    return False


_BOOLEAN_WORDS = {"true": True, "false": False, "yes": True, "no": False, "on": True,
                  "off": False, "1": True, "0": False}


def check_token_list(
    name: str,
    value: Any,
    where: str,
    problems: list[Problem],
    *,
    allow_none: bool = False,
) -> tuple[str, ...] | None:
    """A header-name or method list: a token, '*', or a list of tokens.

    Duplicates are dropped case-insensitively (methods are upper-cased after).
    """
    if value is None and allow_none:
        return ()
    if isinstance(value, str):
        # 'Link, Total-Count' is unambiguous (tokens hold no comma), and what flask-cors
        # sends as it is: accept it as the list it means.
        value = split_name_list(value)
    if not isinstance(value, (list, tuple, set, frozenset)):
        problems.append(
            Problem(where, name, value, f"is a {type(value).__name__}; pass a list of strings")
        )
        return None
    bad = [item for item in value if not is_token(item)]
    if bad:
        problems.append(
            Problem(where, name, value,
                    f"{', '.join(map(repr, bad))} not a valid HTTP token (letters, digits and "
                    "!#$%&'*+-.^_`|~; no spaces, commas or line breaks)")
        )
        return None
    if "*" in value and len(value) > 1:
        problems.append(Problem(where, name, value, "'*' already allows everything; "
                                                    "keep either '*' or the names"))
        return None
    unique: dict[str, str] = {}
    for item in value:  # keep the first spelling and the order
        unique.setdefault(item.lower(), item)
    return tuple(unique.values())


def split_name_list(value: str) -> list[str]:
    """One string of comma-separated names as the list it means; empty parts dropped.

    Whitespace around each name is dropped (a name never holds any), as environment
    variables and secret files deliver ``"GET, POST\n"``.
    """
    if "," not in value:
        return [value.strip(_SPACE) or value]
    return [part.strip(_SPACE) for part in value.split(",") if part.strip(_SPACE)]


_SPACE = " \t\r\n\f\v"


# What makes an allow_headers entry a regular expression: a header name never holds
# these ('*' alone is the wildcard). A '.' alone does not: it is a token character.
_HEADER_REGEX_SYNTAX = re.compile(r"[*+?^$|\\\[\](){}]")


def check_allow_headers(
    value: Any, where: str, problems: list[Problem]
) -> tuple[tuple[str, ...], tuple[re.Pattern[str], ...]] | None:
    """``allow_headers``: header names, and regexes matched case-insensitively
    against the whole requested name (``r'X-Company-.*'``), as flask-cors allows.

    Returns the entries for display (names, then regex patterns as written) and
    the compiled regexes; names go through :func:`check_token_list`.
    """
    if isinstance(value, str):
        value = [value] if _COUNTED.search(value) else split_name_list(value)
    if not isinstance(value, (list, tuple, set, frozenset)):
        check_token_list("allow_headers", value, where, problems)  # reports the type
        return None
    names: list[Any] = []
    patterns: list[re.Pattern[str]] = []
    shown: list[str] = []
    for item in value:
        if isinstance(item, str) and is_header_glob(item):
            # 'X-Custom-*': any header name that starts with 'X-Custom-', as people
            # mean it (as a regex, it would only repeat the '-').
            patterns.append(header_glob(item))
            shown.append(item)
        elif isinstance(item, re.Pattern) or (
            isinstance(item, str) and item != "*" and _HEADER_REGEX_SYNTAX.search(item)
        ):
            text = item.pattern if isinstance(item, re.Pattern) else item
            if not isinstance(text, str):
                problems.append(Problem(where, "allow_headers", item,
                                        "is a bytes regex; compile a str pattern"))
                continue
            if "\r" in text or "\n" in text:
                problems.append(Problem(where, "allow_headers", item,
                                        "contains a line break; a header name never does"))
                continue
            try:
                flags = item.flags if isinstance(item, re.Pattern) else 0
                patterns.append(re.compile(text, flags | re.IGNORECASE))
            except re.error as error:
                problems.append(Problem(where, "allow_headers", item,
                                        f"is not a valid regular expression ({error})"))
                continue
            shown.append(text)
        else:
            names.append(item)
    checked = check_token_list("allow_headers", names, where, problems) if names else ()
    if checked is None:
        return None
    if checked == ("*",) and patterns:
        problems.append(Problem(where, "allow_headers", value, "'*' already allows every "
                                "header; keep either '*' or the names and patterns"))
        return None
    return (*checked, *shown), tuple(patterns)


_COUNTED = re.compile(r"\{[0-9]*,[0-9]*\}")
# A glob of header names: token characters and '*' (not '.*', which is a regex).
_HEADER_GLOB = re.compile(r"(?:[-!#%&'_`~0-9A-Za-z*]|\.(?!\*))*\*(?:[-!#%&'_`~0-9A-Za-z*.])*")
_TOKEN_RUN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]*"


def is_header_glob(item: str) -> bool:
    """Whether an ``allow_headers`` entry is a glob (``'X-Custom-*'``, ``'*-Token'``):
    only header-name characters and ``*``, other than ``'*'`` alone and ``'.*'``."""
    return item != "*" and ".*" not in item and _HEADER_GLOB.fullmatch(item) is not None


def header_glob(item: str) -> re.Pattern[str]:
    """A glob as a regex on whole names: each ``*`` stands for any run of name characters."""
    return re.compile(_TOKEN_RUN.join(map(re.escape, item.split("*"))), re.IGNORECASE)


MAX_MAX_AGE = 365 * 24 * 3600


def is_ascii_digits(text: str) -> bool:
    """Only '0'-'9': ``str.isdigit()`` also accepts '²' (int() fails) and '٣' (int() reads 3)."""
    return text.isascii() and text.isdigit()


def check_max_age(value: Any, where: str, problems: list[Problem]) -> int | None:
    seconds: Any = value
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds != int(seconds):
            problems.append(Problem(where, "max_age", value, "must be whole seconds"))
            return None
        seconds = int(seconds)
    elif isinstance(value, str) and is_ascii_digits(value):
        seconds = int(value)
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        problems.append(Problem(where, "max_age", value,
                                "must be a number of seconds (int) or a timedelta"))
        return None
    if seconds < 0:
        problems.append(Problem(where, "max_age", value, "must not be negative"))
        return None
    if seconds > MAX_MAX_AGE:
        problems.append(
            Problem(where, "max_age", value,
                    "is over a year; browsers cap it (WebKit at 600 seconds, Chromium at "
                    "7200, Firefox at 86400), so use 7200 or less")
        )
        return None
    return seconds


#: The values of ``csrf_protection``.
CSRF_MODES = (False, True, "report-only")


def check_csrf_protection(value: Any, where: str, problems: list[Problem]) -> bool | str:
    """``csrf_protection``: False, True or 'report-only' (nothing that merely looks like one)."""
    if isinstance(value, bool) or (isinstance(value, str) and value == "report-only"):
        return value
    hint = ""
    if isinstance(value, str):
        spelled = value.strip().lower().replace("_", "-").replace(" ", "-")
        if spelled in ("report-only", "reportonly"):
            hint = "; write 'report-only'"
        elif spelled in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            hint = (f"; write {spelled in ('true', '1', 'yes', 'on')} (a bool, not a string; "
                    "FLASK_CORS_CSRF_PROTECTION=true with app.config.from_prefixed_env() "
                    "gives one)")
    problems.append(Problem(where, "csrf_protection", value,
                            f"must be True, False or 'report-only'{hint}"))
    return False


def check_interval(value: Any, where: str, problems: list[Problem]) -> float | None:
    """``report_only_interval``: seconds (an int, a float or a timedelta), 0 or more."""
    seconds: Any = value
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str) and is_ascii_digits(value):
        seconds = int(value)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        problems.append(Problem(where, "report_only_interval", value,
                                "must be a number of seconds (int or float) or a timedelta"))
        return None
    if not math.isfinite(seconds) or seconds < 0:
        problems.append(Problem(where, "report_only_interval", value,
                                "must be a finite number of seconds, 0 or more"))
        return None
    return float(seconds)
