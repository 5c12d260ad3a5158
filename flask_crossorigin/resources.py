"""The resource table: which policy applies to a request path.

Patterns, as flask-cors users write them:

* ``"/api/users"`` (no wildcard, no regex syntax): exactly that path.
* ``"/api/*"``: ``/api`` itself and every path below it, never ``/apiary``;
  ``"/*"`` and ``"*"`` match every path.
* ``"/users/*/posts"``: a ``*`` elsewhere stands for one path segment or part of one.
* a string with regex syntax (``\\ ^ $ ? { } [ ] | ( )``, ``.*`` or ``.+``) or a
  compiled ``re.Pattern``: a regular expression that must match the *whole* path.
  A ``+`` or ``.`` on its own is literal (``/c++``, ``/app.js``), as paths use them.

Matching is case-sensitive, against ``request.path`` as Flask routes it (a ``+``
stays a ``+``). When several patterns match, the most specific wins,
whatever the order they were declared in:

1. an exact path beats every pattern;
2. otherwise the pattern with the longest *literal prefix* wins (the text
   before its first wildcard or regex syntax: ``/api/v1/`` for ``/api/v1/*``);
3. on equal prefixes, a glob beats a regex, which beats a ``/*`` pattern: a
   catch-all never hides a narrower pattern (``/api/users/*`` leaves
   ``/api/users/\\d+`` its paths);
4. then the longer pattern; then the one declared first.

Lookup does not scan the table: patterns are filed under the last ``/`` of their
literal prefix, and a request only probes the prefixes of its path that end in a
``/`` at a length some bucket has, so its cost does not grow with the number of
patterns, nor with the number of slashes in the path. (The extension keeps
recent answers in a bounded cache in front of the table.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from .errors import ConfigurationError, Problem
from .options import (
    OPTIONS_BY_NAME,
    POLICY_OPTIONS,
    Layer,
    options_from_config,
    unknown_option_problems,
)
from .origins import MatcherCache
from .policy import Policy, build_policy

T = TypeVar("T")

_REGEX_SYNTAX = re.compile(r"[\\^$?{}\[\]|()]|\.[*+]")
_META = set("\\.^$*+?{}[]|()")
_KIND_RANK = {"glob": 0, "regex": 1, "prefix": 2}


class ResourcePattern:
    """One compiled path pattern."""

    __slots__ = ("text", "kind", "literal", "segments", "rest", "_base", "_regex")

    def __init__(self, pattern: str | re.Pattern[str]) -> None:
        self._base = ""
        self._regex: re.Pattern[str] | None = None
        #: A glob's '/'-separated segments (a '*' matches within one), and whether it
        #: ends in '/*' (then it matches below them too).
        self.segments: tuple[str, ...] = ()
        self.rest = False
        if isinstance(pattern, re.Pattern):
            self.text = pattern.pattern
            self.kind = "regex"
            self._regex = pattern
            # With IGNORECASE or VERBOSE the raw text is no literal prefix of the paths
            # it matches ('/API', or ' /api  # comment'): file it where every path looks.
            unliteral = pattern.flags & (re.IGNORECASE | re.VERBOSE)
            self.literal = "" if unliteral else _regex_literal(self.text)
        elif _REGEX_SYNTAX.search(pattern):
            self.text = pattern
            self.kind = "regex"
            self._regex = re.compile(pattern)  # re.error is reported by the caller
            self.literal = _regex_literal(pattern)
        elif "*" not in pattern:
            self.text = self.literal = pattern
            self.kind = "exact"
        elif pattern in ("*", "/*") or (
            pattern.endswith("/*") and "*" not in pattern[:-2]
        ):
            self.text = pattern
            self.kind = "prefix"
            self._base = pattern[:-2] if pattern != "*" else ""
            self.literal = self._base + "/"
        else:
            self.text = pattern
            self.kind = "glob"
            parts = pattern[:-2].split("*") if pattern.endswith("/*") else pattern.split("*")
            body = "[^/]*".join(map(re.escape, parts))
            self._regex = re.compile(body + ("(?:/.*)?" if pattern.endswith("/*") else ""))
            self.literal = parts[0]
            self.rest = pattern.endswith("/*")
            self.segments = tuple((pattern[:-2] if self.rest else pattern).split("/"))

    def matches(self, path: str) -> bool:
        if self.kind == "prefix":
            base = self._base
            return path == base or path.startswith(base + "/")
        if self.kind == "exact":
            return path == self.text
        assert self._regex is not None
        return self._regex.fullmatch(path) is not None

    def sort_key(self, order: int) -> tuple[int, int, int, int]:
        return (-len(self.literal), _KIND_RANK.get(self.kind, 0), -len(self.text), order)

    def __repr__(self) -> str:
        return f"ResourcePattern({self.text!r}, {self.kind})"


def _regex_literal(text: str) -> str:
    """The literal text every match of ``text`` starts with (conservatively short)."""
    if "|" in text:
        return ""  # an alternation can match without any common prefix
    start = 1 if text.startswith("^") else 0
    end = start
    while end < len(text) and text[end] not in _META:
        end += 1
    if end < len(text) and text[end] in "*?{":
        end = max(start, end - 1)  # the character before a quantifier is optional
    return text[start:end]


Entry = tuple[tuple[int, int, int, int], ResourcePattern, T]


class ResourceTable(Generic[T]):
    """Patterns mapped to values (policies), looked up by path."""

    def __init__(self, entries: list[tuple[ResourcePattern, T]]) -> None:
        self.entries = entries
        self._exact: dict[str, tuple[ResourcePattern, T]] = {}
        buckets: dict[str, list[Entry[T]]] = {}
        self._globs: _Segments[T] | None = None
        for order, (pattern, value) in enumerate(entries):
            if pattern.kind == "exact":
                self._exact.setdefault(pattern.text, (pattern, value))
                continue
            entry = (pattern.sort_key(order), pattern, value)
            if pattern.kind == "glob":
                # Globs go into a tree of segments: '/api/*/x' and a thousand siblings
                # cost one walk down the path, not one regex each.
                if self._globs is None:
                    self._globs = _Segments()
                self._globs.add(pattern.segments, pattern.rest, entry)
                continue
            literal = pattern.literal
            if pattern.kind == "prefix" and literal.endswith("//"):
                literal = literal[:-1]  # '/a//*' matches '/a/' itself, probed as '/a/'
            bucket = literal[: literal.rfind("/") + 1]
            buckets.setdefault(bucket, []).append(entry)
        self._bucket_lengths = sorted({len(key) for key in buckets}, reverse=True)
        self._buckets = {key: tuple(sorted(items, key=_first)) for key, items in buckets.items()}

    def lookup(self, path: str) -> tuple[ResourcePattern, T] | None:
        """The most specific ``(pattern, value)`` matching ``path``, or ``None``."""
        exact = self._exact.get(path)
        if exact is not None:
            return exact
        best = self._globs.best(path.split("/")) if self._globs is not None else None
        # Deepest bucket first: its patterns have longer literal prefixes than any
        # pattern of a shallower bucket that can match this path. Only the depths
        # where buckets exist are probed, so a path of many slashes costs no more.
        probe = path if path.endswith("/") else path + "/"
        for length in self._bucket_lengths:
            if length > len(probe) or (length and probe[length - 1] != "/"):
                continue
            candidates = self._buckets.get(probe[:length])
            if candidates is not None:
                for entry in candidates:
                    if best is not None and best[0] < entry[0]:
                        break  # the glob found is more specific than the rest
                    if entry[1].matches(path):
                        best = entry
                        break
                else:
                    continue
                break
        return (best[1], best[2]) if best is not None else None


class _Node(Generic[T]):
    """One segment of the glob tree: children by literal segment, and by glob segment
    filed under its text before the first and after the last '*'."""

    __slots__ = ("literal", "globs", "prefix_lengths", "suffix_lengths", "_by_text",
                 "end", "rest")

    def __init__(self) -> None:
        self.literal: dict[str, _Node[T]] = {}
        self.globs: dict[tuple[str, str], list[tuple[re.Pattern[str] | None, _Node[T]]]] = {}
        self.prefix_lengths: tuple[int, ...] = ()
        self.suffix_lengths: tuple[int, ...] = ()
        self._by_text: dict[str, _Node[T]] = {}
        #: The most specific pattern that ends here, and one ending here in '/*'.
        self.end: Entry[T] | None = None
        self.rest: Entry[T] | None = None

    def glob_child(self, segment: str) -> _Node[T]:
        child = self._by_text.get(segment)
        if child is None:
            child = self._by_text[segment] = _Node()
            prefix, suffix = segment[: segment.find("*")], segment[segment.rfind("*") + 1 :]
            # One '*': the prefix and suffix say it all; more need the regex for the middle.
            middle = None if segment.count("*") == 1 else re.compile(
                "[^/]*".join(map(re.escape, segment.split("*"))))
            self.globs.setdefault((prefix, suffix), []).append((middle, child))
            self.prefix_lengths = tuple(sorted({*self.prefix_lengths, len(prefix)}))
            self.suffix_lengths = tuple(sorted({*self.suffix_lengths, len(suffix)}))
        return child


class _Segments(Generic[T]):
    """Glob patterns in a tree of path segments. A lookup walks down the path's
    segments, following the literal child and the glob children that match, so its
    cost depends on the path and on the patterns that match it, not on how many
    patterns share a prefix."""

    def __init__(self) -> None:
        self.root: _Node[T] = _Node()

    def add(self, segments: tuple[str, ...], rest: bool, entry: Entry[T]) -> None:
        node = self.root
        for segment in segments:
            if "*" in segment:
                node = node.glob_child(segment)
            else:
                node = node.literal.setdefault(segment, _Node())
        if rest:
            if node.rest is None or entry[0] < node.rest[0]:
                node.rest = entry
        elif node.end is None or entry[0] < node.end[0]:
            node.end = entry

    def best(self, segments: list[str]) -> Entry[T] | None:
        best: Entry[T] | None = None
        count = len(segments)
        stack = [(self.root, 0)]
        while stack:
            node, depth = stack.pop()
            found = node.rest
            if depth == count and node.end is not None and (
                    found is None or node.end[0] < found[0]):
                found = node.end
            if found is not None and (best is None or found[0] < best[0]):
                best = found
            if depth == count:
                continue
            segment = segments[depth]
            child = node.literal.get(segment)
            if child is not None:
                stack.append((child, depth + 1))
            if node.globs:
                size = len(segment)
                for p in node.prefix_lengths:
                    if p > size:
                        break
                    for q in node.suffix_lengths:
                        if p + q > size:
                            break
                        for middle, child in node.globs.get(
                                (segment[:p], segment[size - q:] if q else ""), ()):
                            if middle is None or middle.fullmatch(segment) is not None:
                                stack.append((child, depth + 1))
        return best


def _first(item: Entry[T]) -> tuple[int, int, int, int]:
    return item[0]


# -- compiling a resources option into a table -------------------------------------------

def compile_resources(
    app_config: Mapping[str, Any],
    options: Mapping[str, Any],
    label: str,
    *,
    app_resources: bool = True,
) -> ResourceTable[Policy]:
    """Compile ``resources`` with an app's config and the extension's options into a table.

    ``app_resources=False`` (a blueprint's table) reads no ``CORS_*`` key, as
    flask-cors does not for a blueprint: its policy is its own options over the
    defaults. (The app's paths are not the blueprint's, and an app-wide
    ``CORS_ORIGINS`` must not narrow, nor ``"/*": {"origins": "*"}`` widen, a
    blueprint's own origins.) Its ``csrf_protection``, when unset, is the app's,
    applied per request (see ``CrossOriginState.writes_of_rule``). Raises
    :class:`ConfigurationError` listing every problem.
    """
    config = options_from_config(app_config) if app_resources else {}
    default = OPTIONS_BY_NAME["resources"].default
    if "resources" in options:
        resources, source = options["resources"], f"{label}CORS()"
    elif "resources" in config:
        resources, source = config["resources"], "app.config['CORS_RESOURCES']"
    else:
        resources, source = default, "default"
    base: list[Layer] = [("app.config", config)] if app_resources else []
    base.append((f"{label}CORS()", options))
    problems: list[Problem] = []
    entries: list[tuple[ResourcePattern, Policy]] = []
    matchers = MatcherCache()
    for pattern, resource_options in _resource_items(resources, source, problems):
        where = f"{label}resources[{_pattern_text(pattern)!r}]"
        problems.extend(unknown_option_problems(resource_options, where, POLICY_OPTIONS))
        try:
            compiled = ResourcePattern(pattern)
        except re.error as error:
            problems.append(Problem(where, "pattern", _pattern_text(pattern),
                                    f"is not a valid regular expression ({error})"))
            continue
        layers = [*base, (where, resource_options)]
        policy, policy_problems = build_policy(where, layers, matchers=matchers)
        problems.extend(policy_problems)
        if policy is not None:
            entries.append((compiled, policy))
    problems = _unique(problems)
    if problems:
        raise ConfigurationError(problems)
    return ResourceTable(entries)


def _resource_items(
    resources: Any, where: str, problems: list[Problem]
) -> list[tuple[str | re.Pattern[str], Mapping[str, Any]]]:
    if isinstance(resources, (str, re.Pattern)):
        return [(resources, {})] if _check_pattern(resources, where, problems) else []
    if isinstance(resources, Mapping):
        items = []
        for pattern, resource_options in resources.items():
            if resource_options is None:
                resource_options = {}
            if not isinstance(resource_options, Mapping):
                problems.append(Problem(
                    where, "resources", {pattern: resource_options},
                    "each pattern maps to a dict of options, e.g. {'/api/*': {'origins': [...]}}",
                ))
                continue
            items.append((pattern, resource_options))
        return [item for item in items if _check_pattern(item[0], where, problems)]
    if isinstance(resources, (list, tuple)):
        return [(p, {}) for p in resources if _check_pattern(p, where, problems)]
    problems.append(Problem(
        where, "resources", resources,
        "must be a dict of pattern -> options, a list of patterns, a pattern or a regex",
    ))
    return []


def _check_pattern(pattern: Any, where: str, problems: list[Problem]) -> bool:
    if isinstance(pattern, re.Pattern):
        if not isinstance(pattern.pattern, str):
            text = pattern.pattern.decode("latin-1")
            problems.append(Problem(where, "resources", pattern,
                                    "is a bytes regex, which never matches a path (a str); "
                                    f"compile a str pattern: re.compile({text!r})"))
            return False
        return _check_regex_start(pattern, where, problems)
    if isinstance(pattern, str) and pattern:
        if pattern == "*" or pattern.startswith("/"):
            return True
        if _REGEX_SYNTAX.search(pattern):
            return _check_regex_start(pattern, where, problems)
        fix = pattern.strip() if pattern.strip().startswith("/") else "/" + pattern.strip()
        problems.append(Problem(where, "resources", pattern,
                                "matches no path: a path pattern starts with '/', as "
                                f"request paths do; write {fix!r}"))
        return False
    problems.append(Problem(where, "resources", pattern,
                            "a path pattern is a non-empty string or a compiled regex"))
    return False


def _check_regex_start(
    pattern: str | re.Pattern[str], where: str, problems: list[Problem]
) -> bool:
    """A regex whose literal prefix does not start with '/' ('api/.*') matches no path."""
    if isinstance(pattern, re.Pattern):
        if pattern.flags & (re.IGNORECASE | re.VERBOSE):
            return True  # its raw text says too little about its start
        text = pattern.pattern
    else:
        text = pattern
    literal = _regex_literal(text)
    if not literal or literal.startswith("/"):
        return True
    caret = "^" if text.startswith("^") else ""
    fix = f"{caret}/{text[len(caret):].lstrip()}"
    shown = f"re.compile({fix!r})" if isinstance(pattern, re.Pattern) else repr(fix)
    problems.append(Problem(where, "resources", text,
                            "is a regex that matches no path: it must start with '/', as "
                            f"request paths do; write {shown}"))
    return False


def _pattern_text(pattern: str | re.Pattern[str]) -> str:
    return pattern.pattern if isinstance(pattern, re.Pattern) else pattern


def _unique(problems: list[Problem]) -> list[Problem]:
    # The same app-wide value is checked once per resource; report it once.
    seen: set[str] = set()
    unique = []
    for problem in problems:
        if str(problem) not in seen:
            seen.add(str(problem))
            unique.append(problem)
    return unique
