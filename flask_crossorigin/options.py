"""The option table: every option's name, ``CORS_*`` key, default and meaning.

This table is the single source for validation, for reading ``app.config`` and
for the configuration reference in the docs. Options are merged from layers
(defaults, then ``app.config``, then keyword arguments, then a resource entry),
each layer named so that a problem says where the offending value came from.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .errors import Problem, warn_configuration
from .headers import is_token


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
        "origins", "*", "str | re.Pattern | callable | list of these",
        "Origins allowed to read responses: '*' (any origin, never with credentials), "
        "exact origins ('https://app.example.com'), wildcard subdomains "
        "('https://*.example.com'), regexes matched against the whole origin, or callables "
        "origin -> bool. 'null' is allowed only when listed.",
    ),
    Option(
        "methods", DEFAULT_METHODS, "str | list of str",
        "Methods a preflight may ask for, compared case-sensitively; '*' allows any method.",
    ),
    Option(
        "allow_headers", "*", "str | list of str",
        "Request headers a preflight may ask for, compared case-insensitively; '*' allows "
        "any (the requested names are echoed back).",
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
        "send_wildcard", True, "bool",
        "With origins='*', answer 'Access-Control-Allow-Origin: *' (True) or echo the "
        "request's origin (False).",
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
        "the policy answers '*' anyway. Policies with listed origins never list them to "
        "requests without an Origin.",
    ),
    Option(
        "intercept_exceptions", True, "bool",
        "Add CORS headers to error responses (status 400 and above: aborts, 404, 405, "
        "unhandled exceptions) so the page can read them.",
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
        "resources", "/*", "dict | list | str | re.Pattern",
        "Path patterns the extension applies to, optionally each with its own options "
        "(dict pattern -> options). The most specific matching pattern wins.",
        extension_only=True,
    ),
)

OPTIONS_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}
POLICY_OPTIONS = tuple(o.name for o in OPTIONS if not o.extension_only)
CONFIG_KEYS: dict[str, str] = {option.config_key: option.name for option in OPTIONS}

# Keys that tutorials set although no CORS extension reads them.
_IGNORED_CONFIG_HINTS = {"CORS_HEADERS": "CORS_ALLOW_HEADERS"}

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
        problems.append(Problem(where, str(name), options[name], f"is not an option; {hint}"))
    return problems


def options_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The options set by ``CORS_*`` keys in a Flask config.

    An unknown ``CORS_*`` key only warns: other code may use the prefix, and
    tutorials set ``CORS_HEADERS``, which no CORS extension has ever read.
    """
    found: dict[str, Any] = {}
    for key, value in config.items():
        if not isinstance(key, str) or not key.startswith("CORS_"):
            continue
        if key in CONFIG_KEYS:
            found[CONFIG_KEYS[key]] = value
            continue
        close = _IGNORED_CONFIG_HINTS.get(key) or next(
            iter(difflib.get_close_matches(key, list(CONFIG_KEYS), n=1, cutoff=0.7)), None
        )
        hint = f"; did you mean {close!r}?" if close else ""
        warn_configuration(
            f"app.config[{key!r}] is not a flask-crossorigin setting and is ignored{hint}"
        )
    return found


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
    problems.append(Problem(where, name, value, "must be True or False"))
    return False


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
        if "," in value:
            items = [v.strip() for v in value.split(",")]
            problems.append(
                Problem(where, name, value, f"is one string with commas; pass a list: {items!r}")
            )
            return None
        value = [value]
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
