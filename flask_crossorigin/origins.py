"""Origins: what a configuration may say, and how a request's ``Origin`` is matched.

Configured entries are validated and sorted into the structure that answers
fastest for their kind: exact origins in a set, wildcard subdomains in a set
keyed by (scheme, parent domain, port) and tried only for the parents of a host
no longer than the longest configured one (work linear in the host's length,
however many labels an ``Origin`` has), regular expressions matched against
the whole origin, and callables. A request's ``Origin`` is first looked up in
the exact set; only when that misses is it parsed, strictly, so that malformed
values never reach a regex or a user's callable.

A configured entry that can never match an ``Origin`` a browser sends (no
scheme, a trailing slash, a path...) is safe but ineffective: it is reported as
a :class:`~flask_crossorigin.ConfigurationWarning` naming the fix, and ignored,
as flask-cors ignores it. Only what is insecure or cannot be compiled is a problem.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
import weakref
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Protocol, Union

from .errors import warn_configuration
from .reasons import Refusal, logger
from .suffixes import SuffixesBelow, suffixes_below

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

#: What ``origins`` accepts, alone or in a list.
OriginSpec = Union[str, "re.Pattern[str]", Callable[[str], bool]]

ANY_ORIGIN = "*"
NULL_ORIGIN = "null"
DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}
MAX_ORIGIN_LENGTH = 1024

#: The URL standard's special schemes: only their hosts are lower-cased by browsers.
#: Other schemes keep the host as written ('safari-web-extension://140BB581-...').
SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})

# A serialized origin as browsers send it: lowercase scheme, a host (lowercase for
# special schemes, IDNs in punycode), IPv6 in brackets, a port only when it is not
# the default. The host's labels are checked apart (no empty label): a repeated
# group per label made an Origin of 500 short labels cost 5 times one long label.
_SERIALIZED_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.\-]*)://"
    r"(?P<host>[A-Za-z0-9_\-](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[1-9][0-9]{0,4}))?"
)
_WHITESPACE = re.compile(r"\s")
_HOSTNAME = re.compile(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*")
_IPV4 = re.compile(r"[0-9]+(?:\.[0-9]+){3}")
# What makes a configured origin a regular expression. A lone '?' or '+' does not:
# 'https://a.example?x' is a mistyped origin, reported as such.
_REGEX_SYNTAX = re.compile(r"[\\\[\]$^(){}|*]|\.\+")
# ... but a '?' or '+' before '://' does ('https?://a.example'), and so does a '?'
# followed by more of the host ('https://www?.example.com'), unlike a query.
_REGEX_SCHEME = re.compile(r"[^:/]*[?+][^:/]*://")
_REGEX_IN_HOST = re.compile(r"[^?/]*://[^?/]*\?[^?/=&#]*[.:]")
# An exact origin on an IPv6 address: its brackets are not regex syntax.
_IPV6_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\[[0-9A-Fa-f:.]+\](?::[0-9]+)?")
# A regex quantifier with a comma, such as '{2,8}': not a list separator.
_COUNTED_REPEAT = re.compile(r"\{[0-9]*,[0-9]*\}")
# A '*' that quantifies something: after '.', ')', ']', '}' or an escape like '\d'.
_QUANTIFIED_STAR = re.compile(r"(?:[.)\]}]|\\.)\*")
# An unescaped '.' before a name character, as in 'example.com' or '[a-z]+.example':
# meant as a literal dot, it matches any character.
_UNESCAPED_DOT = re.compile(r"(?<![\\\[])\.(?=[A-Za-z0-9])")


class RequestOrigin:
    """A request's ``Origin`` split into scheme, host and port ('' when absent)."""

    __slots__ = ("scheme", "host", "port")

    def __init__(self, scheme: str, host: str, port: str) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port


def parse_request_origin(value: str) -> RequestOrigin | None:
    """Parse a request's ``Origin`` strictly; ``None`` when it is not a serialized origin."""
    if len(value) > MAX_ORIGIN_LENGTH:
        return None
    m = _SERIALIZED_ORIGIN.fullmatch(value)
    if m is None:
        return None
    scheme, host, port = m.group("scheme", "host", "port")
    if ".." in host and host[0] != "[":
        return None  # an empty label (the pattern keeps dots off both ends)
    if scheme in SPECIAL_SCHEMES and host != host.lower():
        return None  # browsers lower-case the hosts of http(s), ws(s), ftp and file
    if port is not None and (int(port) > 65535 or DEFAULT_PORTS.get(scheme) == port):
        return None
    return RequestOrigin(scheme, host, port or "")


class OriginMatcher:
    """The compiled ``origins`` of one policy. Immutable once built."""

    __slots__ = (
        "any_origin", "exact", "wildcards", "regexes", "callables", "entries", "derived",
        "ineffective",
        "boundaries",
        "_open_regexes",
        "_longest_parent_length",
    )

    def __init__(
        self,
        *,
        any_origin: bool,
        exact: frozenset[str],
        wildcards: frozenset[tuple[str, str, str]],
        regexes: tuple[re.Pattern[str], ...],
        callables: tuple[Callable[[str], bool], ...],
        entries: tuple[str, ...],
        boundaries: dict[str, SuffixesBelow] | None = None,
    ) -> None:
        self.any_origin = any_origin
        self.exact = exact
        self.wildcards = wildcards
        self.regexes = regexes
        self.callables = callables
        #: The entries as configured, for people (CLI, reasons, docs).
        self.entries = entries
        #: Entries ignored because they can never match, each with the fix: the
        #: policy warns about them with the place they come from.
        self.ineffective: tuple[tuple[object, str], ...] = ()
        #: Wildcard parents with public suffixes below them, which matching never
        #: crosses ('*.amazonaws.com' never matches 'x.s3.amazonaws.com').
        self.boundaries: dict[str, SuffixesBelow] = boundaries or {}
        self._open_regexes: tuple[tuple[re.Pattern[str], str], ...] | None = None
        # A parent of a host longer than every configured parent matches none of them.
        self._longest_parent_length = max((len(parent) for _, parent, _ in wildcards),
                                          default=0)
        #: Answers precomputed from these origins by the policies that share them,
        #: filled while policies are compiled and read-only afterwards.
        self.derived: dict[object, object] = {}

    def open_regexes(self) -> tuple[tuple[re.Pattern[str], str], ...]:
        """The regexes that allow origins on domains anyone can register, each with
        such an origin: ``"*"`` in disguise (see :func:`open_probe`). Computed once,
        when a policy with credentials asks."""
        if self._open_regexes is None:
            self._open_regexes = tuple(
                (regex, probe) for regex in self.regexes
                for probe in (open_probe(regex),) if probe is not None
            )
        return self._open_regexes

    def check(self, origin: str, policy_name: str) -> Refusal | None:
        """``None`` when ``origin`` is allowed, else the :class:`Refusal` saying why."""
        if origin in self.exact:
            return None  # the common case: one set lookup, nothing parsed
        if origin == NULL_ORIGIN:
            return Refusal("origin-null")
        if self.any_origin:
            # '*' grants everyone, so refusing a malformed value ('www.example.com', as
            # test clients send) protects nothing; the policy never echoes such a value.
            return None
        parsed = parse_request_origin(origin)
        if parsed is None:
            return Refusal("origin-malformed", origin=origin)
        if self.wildcards and self._matches_wildcard(parsed):
            return None
        for regex in self.regexes:
            if regex.fullmatch(origin) is not None:
                return None
        for allow in self.callables:
            try:
                if allow(origin):
                    return None
            except Exception as error:  # a user's callable must not turn into a 500
                logger.error("origins callable %r raised", allow, exc_info=True)
                return Refusal(
                    "origin-callable-failed", origin=origin, policy=policy_name,
                    error=type(error).__name__,
                )
        if self.boundaries:
            crossed = self.crossed_suffix(parsed)
            if crossed is not None:
                return Refusal(
                    "origin-public-suffix", origin=origin, policy=policy_name,
                    wildcard=crossed[0], suffix=crossed[1],
                )
        return Refusal("origin-not-allowed", origin=origin, policy=policy_name)

    def _longest_parent(self, origin: RequestOrigin) -> int:
        """Where in the host the longest wildcard parent that ``origin`` is below
        starts (same scheme and port); -1 when none. The host itself is never its
        own parent, so ``*.example.com`` needs a label before ``example.com``.

        Only the parents no longer than the longest configured one are tried,
        longest first: one set lookup for a usual host ('api.example.com'), and
        for a host of 500 one-letter labels a handful that depends on the
        configuration, never on the host (cutting and hashing each of its
        parents in turn cost work quadratic in its length).
        """
        host = origin.host
        dot = host.find(".", max(0, len(host) - self._longest_parent_length - 1))
        while dot != -1:
            if (origin.scheme, host[dot + 1 :], origin.port) in self.wildcards:
                return dot + 1
            dot = host.find(".", dot + 1)
        return -1

    def _matches_wildcard(self, origin: RequestOrigin) -> bool:
        # _longest_parent inlined (the hot path): the longest parent decides. A host
        # under a public suffix below that parent is never matched: see suffixes.py.
        host = origin.host
        start = len(host) - self._longest_parent_length - 1
        dot = host.find(".", start) if start > 0 else host.find(".")
        while dot != -1:
            parent = host[dot + 1 :]
            if (origin.scheme, parent, origin.port) in self.wildcards:
                below = self.boundaries.get(parent)
                return below is None or below.crossed(host, dot + 1) is None
            dot = host.find(".", dot + 1)
        return False

    def crossed_suffix(self, origin: RequestOrigin) -> tuple[str, str] | None:
        """The wildcard entry and the public suffix it would have to cross to match ``origin``."""
        start = self._longest_parent(origin)
        if start == -1:
            return None
        parent = origin.host[start:]
        below = self.boundaries.get(parent)
        suffix = below.crossed(origin.host, start) if below is not None else None
        if suffix is None:
            return None
        port = f":{origin.port}" if origin.port else ""
        return f"{origin.scheme}://*.{parent}{port}", suffix


def _fresh_origins() -> tuple[str, ...]:
    """Origins on registrable domains nobody's configuration names: labels of every
    length up to 24 (and 63), of letters and of letters and digits, under common
    top-level domains and a public suffix, on https and http, with and without a
    port or a subdomain; and two public IP addresses."""
    import random

    draw = random.Random(16)  # the same probes on every start
    letters = "abcdefghijklmnopqrstuvwxyz"
    tlds = ("com", "net", "org", "io", "dev", "co.uk")
    probes = []
    for length in (*range(1, 25), 63):
        for alphabet in (letters, letters + "0123456789-"):
            label = draw.choice(letters) + "".join(
                draw.choice(alphabet) for _ in range(length - 2)) + draw.choice(letters)
            probes += [f"https://{label[:length]}.{tld}" for tld in tlds]
    for tld in tlds:
        label = "".join(draw.choice(letters) for _ in range(9))
        probes += [f"http://{label}.{tld}", f"https://www.{label}.{tld}",
                   f"https://{label}.{tld}:8443", f"http://{label}.{tld}:8080"]
    probes += ["https://203.0.113.7", "http://198.51.100.23:8080"]
    return tuple(probes)


#: Origins on fresh registrable domains, tried against every origin regex.
FRESH_ORIGINS = _fresh_origins()
# Domains a regex names ('example\.com' -> 'example.com'), for look-alikes of them.
_NAMED_DOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z][a-z0-9-]*")
_FRESH_LABEL = "zqxv7"


def lookalike_origins(pattern: str) -> list[str]:
    """Origins anyone can register that look like the domains ``pattern`` names:
    a label glued in front ('evilexample.com'), more labels or characters after
    ('example.com.evil.com', 'example.comevil.com'), and a new subdomain when
    the named domain is a public suffix ('evil.github.io')."""
    plain = pattern.replace("\\.", ".").replace("\\-", "-").lower()
    probes = []
    for domain in dict.fromkeys(_NAMED_DOMAIN.findall(plain)):
        for scheme in ("https", "http"):
            probes += [f"{scheme}://{_FRESH_LABEL}{domain}",
                       f"{scheme}://{domain}.{_FRESH_LABEL}.com",
                       f"{scheme}://{domain}{_FRESH_LABEL}.com"]
            if _public_suffixes().is_public(domain):
                probes.append(f"{scheme}://{_FRESH_LABEL}.{domain}")
    return probes


def open_probe(regex: re.Pattern[str]) -> str | None:
    r"""An origin on a domain anyone can register that ``regex`` allows, or ``None``.

    The line between a regex that names your sites and ``"*"`` in disguise: a
    regex that allows an origin on a registrable domain chosen at random
    (:data:`FRESH_ORIGINS`), or on a look-alike of a domain it names
    (:func:`lookalike_origins`), allows origins an attacker can own.
    ``r".*"``, ``r"https?://.*"``, ``r"https://[a-z0-9.-]+"``,
    ``r"https://[a-z]+\.com"``, ``r"https://.*example\.com"`` and
    ``r"https://[a-z]+\.github\.io"`` are such regexes;
    ``r"https://([a-z0-9-]+\.)*example\.com"`` is not.
    """
    for probe in (*FRESH_ORIGINS, *lookalike_origins(regex.pattern)):
        if regex.fullmatch(probe) is not None:
            return probe
    return None


class OriginsFollower(Protocol):
    """What follows a :class:`LiveOriginMatcher` (a policy): it precomputes its answers
    for a new set, then takes them, after the matcher swapped to that set."""

    def prepare_origins(self, matcher: OriginMatcher) -> object: ...

    def take_origins(self, prepared: object) -> None: ...


class OriginSource:
    """Origins that change at run time (:class:`~flask_crossorigin.CachedOrigins`).

    :func:`compile_origins` answers such a value with its :attr:`live` matcher,
    shared by every policy built on it. Loading, caching and invalidation live in
    ``cached_origins.py``; this is all the core path knows of them.
    """

    live: LiveOriginMatcher

    def describe(self) -> dict[str, Any]:
        """Where the origins come from and how fresh they are, for people (the CLI)."""
        return {}

    def attach(self, app: Any) -> None:
        """Called by the extension for each app whose policies use these origins."""

    def adopt_process(self) -> None:
        """Called from the request path by :meth:`LiveOriginMatcher.ensure` when its
        :attr:`~LiveOriginMatcher.check_at` has passed: start this process's threads if
        it is not the one that set up the source (a fork that skipped Python's fork
        hooks), close a set past ``max_stale``, and set the next ``check_at``."""


#: Seconds between two checks of the process id on the request path: a process forked
#: without Python's fork hook (and without uWSGI's master, which asks at once) starts
#: its own threads within this time of its first request.
PROCESS_CHECK_INTERVAL = 0.1


class LiveOriginMatcher:
    """The origins of an :class:`OriginSource`: the compiled matcher of its last load.

    It answers through the same interface as :class:`OriginMatcher`. A reload
    compiles a new matcher off the request path and swaps it in whole (one
    reference assignment), after the policies following it prepared their
    answers for it: a request reads one consistent set, with no lock and no I/O.
    """

    __slots__ = ("source", "current", "pid", "closes_at", "check_at", "_followers", "_lock",
                 "__weakref__")
    any_origin = False
    callables: tuple[Callable[[str], bool], ...] = ()

    def __init__(self, source: OriginSource, initial: OriginMatcher) -> None:
        self.source = source
        self.current = initial
        #: The process whose threads keep :attr:`current` up to date.
        self.pid = os.getpid()
        #: ``time.monotonic()`` after which :attr:`current` may no longer serve
        #: (``max_stale``), whether or not a thread of this process is there to close it.
        self.closes_at = math.inf
        #: ``time.monotonic()`` of the next check (of the process and of ``max_stale``):
        #: at most :data:`PROCESS_CHECK_INTERVAL` ahead, and never after :attr:`closes_at`.
        self.check_at = 0.0
        self._followers: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()  # guards the followers, never taken by a request

    def ensure(self) -> None:
        """Make :attr:`current` right for this process and this instant (request path:
        one clock read; the process id, a system call, at most every
        :data:`PROCESS_CHECK_INTERVAL`). A worker forked without Python's fork hooks
        starts its own threads here; a set past ``max_stale`` closes here, on time,
        even where no thread runs."""
        if time.monotonic() >= self.check_at:
            self.source.adopt_process()

    def check(self, origin: str, policy_name: str) -> Refusal | None:
        self.ensure()
        return self.current.check(origin, policy_name)

    @property
    def exact(self) -> frozenset[str]:
        self.ensure()
        return self.current.exact

    @property
    def wildcards(self) -> frozenset[tuple[str, str, str]]:
        return self.current.wildcards

    @property
    def regexes(self) -> tuple[re.Pattern[str], ...]:
        return self.current.regexes

    def open_regexes(self) -> tuple[tuple[re.Pattern[str], str], ...]:
        # Loaded sets never keep such a regex (CachedOrigins skips it), so this is empty.
        return self.current.open_regexes()

    @property
    def entries(self) -> tuple[str, ...]:
        return self.current.entries

    @property
    def boundaries(self) -> dict[str, SuffixesBelow]:
        return self.current.boundaries

    @property
    def ineffective(self) -> tuple[tuple[object, str], ...]:
        return ()  # a loaded entry that is no good is skipped, and logged, at load

    @property
    def derived(self) -> dict[object, object]:
        return self.current.derived

    def crossed_suffix(self, origin: RequestOrigin) -> tuple[str, str] | None:
        return self.current.crossed_suffix(origin)

    def follow(self, follower: OriginsFollower) -> None:
        with self._lock:
            self._followers.add(follower)

    def after_fork(self) -> None:
        """In a forked child: a lock the parent held at the fork is not ours; and the
        followers take their answers for the current set anew (what a policy
        remembered in the parent is not carried into the child)."""
        self._lock = threading.Lock()
        with self._lock:
            followers = list(self._followers)
        matcher = self.current
        for follower in followers:
            follower.take_origins(follower.prepare_origins(matcher))

    def swap(self, matcher: OriginMatcher) -> None:
        """Serve ``matcher`` from now on (called by the source's reloading thread)."""
        with self._lock:
            followers = list(self._followers)
        prepared = [(follower, follower.prepare_origins(matcher)) for follower in followers]
        self.current = matcher
        for follower, answers in prepared:
            follower.take_origins(answers)


class ClosedOriginMatcher(OriginMatcher):
    """Allows nothing: origins that could not be loaded (fail closed), saying why."""

    def __init__(self, reason: str) -> None:
        super().__init__(any_origin=False, exact=frozenset(), wildcards=frozenset(),
                         regexes=(), callables=(), entries=())
        self.reason = reason

    def check(self, origin: str, policy_name: str) -> Refusal | None:
        return Refusal("origins-closed", origin=origin, policy=policy_name, error=self.reason)


#: What a policy matches origins with: a static matcher, or a live one.
AnyOriginMatcher = Union[OriginMatcher, LiveOriginMatcher]

#: What is trimmed from around a configured origin or name: ASCII whitespace.
SURROUNDING_WHITESPACE = " \t\r\n\f\v"


#: How start-up ends the message of an origins entry that can never match: it is ignored.
IGNORED_ENTRY = "this entry can never match an Origin a browser sends, so it is ignored"


def compile_origins(value: object) -> tuple[AnyOriginMatcher | None, list[tuple[object, str]]]:
    """Validate ``origins`` and build its matcher.

    Returns the matcher (``None`` when there are problems) and the problems,
    each as ``(offending value, what is wrong and how to fix it)``. Entries that
    are safe but can never match are left out of the matcher and listed in its
    :attr:`~OriginMatcher.ineffective`.
    """
    if isinstance(value, OriginSource):
        return value.live, []
    problems: list[tuple[object, str]] = []
    ineffective: list[tuple[object, str]] = []
    items = _as_items(value, problems)
    any_origin = False
    exact: set[str] = set()
    wildcards: set[tuple[str, str, str]] = set()
    regexes: list[re.Pattern[str]] = []
    callables: list[Callable[[str], bool]] = []
    entries: list[str] = []
    for item in items:
        if isinstance(item, re.Pattern):
            if not isinstance(item.pattern, str):
                problems.append((item, "is a bytes regex; compile a str pattern"))
                continue
            regexes.append(item)
            entries.append(f"regex {item.pattern!r}")
        elif isinstance(item, str):
            # Environment variables and secret files deliver ' https://a.example\n': space
            # around an origin cannot be part of it, so it is dropped (inside, it warns).
            item = item.strip(SURROUNDING_WHITESPACE) or item
            entries.append(item)
            if item == ANY_ORIGIN:
                any_origin = True
            elif item == NULL_ORIGIN:
                exact.add(item)
            elif item.lower() == NULL_ORIGIN:
                ineffective.append((item, "write 'null' in lowercase, as browsers send it"))
            elif re.match(r"[A-Za-z][A-Za-z0-9+.\-]*://\*\.", item):
                _add_wildcard(item, wildcards, problems, ineffective)
            elif _IPV6_ORIGIN.fullmatch(item):
                normalized = _exact_origin(item, ineffective)  # brackets, not a regex
                if normalized is not None:
                    exact.add(normalized)
            elif is_origin_regex(item):
                _add_regex(item, regexes, problems)
            else:
                normalized = _exact_origin(item, ineffective)
                if normalized is not None:
                    exact.add(normalized)
        elif isinstance(item, OriginSource):
            problems.append((item, "must be the whole origins value, not an entry of a "
                                   "list; return the other origins from its load too"))
        elif callable(item):
            callables.append(item)
            entries.append(f"callable {getattr(item, '__qualname__', repr(item))}")
        else:
            problems.append((item, _type_message(item)))
    ineffective = [(entry, f"{message}; {IGNORED_ENTRY}") for entry, message in ineffective]
    if any_origin and (exact - {NULL_ORIGIN} or wildcards or regexes or callables):
        ineffective.append(
            (value, "'*' already allows every origin, so the other entries mean nothing; "
                    "keep either '*' or the list of origins")
        )
    if problems:
        return None, problems
    matcher = OriginMatcher(
        any_origin=any_origin,
        exact=frozenset(exact),
        wildcards=frozenset(wildcards),
        regexes=tuple(regexes),
        callables=tuple(callables),
        entries=tuple(entries),
        boundaries=wildcard_boundaries(wildcards),
    )
    matcher.ineffective = tuple(ineffective)
    return matcher, problems


def is_origin_regex(item: str) -> bool:
    """Whether a configured origin string is a regular expression rather than an origin.

    Regex syntax anywhere, a '?' or '+' in the scheme ('https?://a.example'), or
    a '?' followed by more host ('https://(www.)?a.example', 'https://www?.a.example')
    makes it one; a lone '?' after a complete origin ('https://a.example?x') does
    not: that is a mistyped origin, reported as such.
    """
    return bool(
        _REGEX_SYNTAX.search(item) or _REGEX_SCHEME.match(item) or _REGEX_IN_HOST.match(item)
    )


def wildcard_boundaries(wildcards: Iterable[tuple[str, str, str]]) -> dict[str, SuffixesBelow]:
    """The public suffixes below each wildcard parent that has any (see suffixes.py)."""
    found = {}
    for _, parent, _ in wildcards:
        below = suffixes_below(parent)
        if below:
            found[parent] = below
    return found


class MatcherCache:
    """Compiles each distinct ``origins`` value once.

    The resources of one table usually share the app's origins: compiling (and
    storing) them once per table keeps start-up and memory independent of the
    number of resources.
    """

    def __init__(self) -> None:
        self._compiled: dict[
            object, tuple[AnyOriginMatcher | None, list[tuple[object, str]]]] = {}

    def compile(
        self, value: object
    ) -> tuple[AnyOriginMatcher | None, list[tuple[object, str]]]:
        try:
            key = _freeze(value)
            return self._compiled[key]
        except KeyError:
            result = self._compiled[key] = compile_origins(value)
            return result
        except TypeError:  # something unhashable: compile it every time
            return compile_origins(value)


def _freeze(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, *map(_freeze, value))
    if isinstance(value, (set, frozenset)):
        return frozenset(map(_freeze, value))
    hash(value)
    return (type(value).__name__, value)


def _as_items(value: object, problems: list[tuple[object, str]]) -> list[object]:
    if isinstance(value, str):
        separators = _COUNTED_REPEAT.sub("", value)
        several = "," in separators or (value.count("://") > 1 and " " in value.strip())
        if several and is_origin_regex(value):
            problems.append(
                (value, "looks like several origins in one regex; pass a list, "
                        "e.g. ['https://a.example', r'https://.*\\.b\\.example']")
            )
            return []
        if several:  # 'https://a.example, https://b.example', as in an environment variable
            return [part for part in re.split(r"[\s,]+", value) if part]
        return [value]
    if isinstance(value, re.Pattern) or callable(value):
        return [value]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    problems.append((value, _type_message(value)))
    return []


def _type_message(value: object) -> str:
    return (
        f"is a {type(value).__name__}; an origin is a string ('https://app.example'), "
        "a compiled regex, or a callable origin -> bool (or a list of these)"
    )


def _split_origin(
    text: str, problems: list[tuple[object, str]], *, entry: str, shown_prefix: str = ""
) -> tuple[str, str, str] | None:
    """Split 'scheme://host[:port]', reporting what keeps it from being an origin.

    ``shown_prefix`` goes before the host in suggested fixes ('*.' for wildcards).
    """
    if _WHITESPACE.search(text):
        problems.append((entry, "contains whitespace; an origin is scheme://host[:port]"))
        return None
    scheme, sep, rest = text.partition("://")
    if not sep:
        problems.append((entry, f"has no scheme; write 'https://{text.rstrip('/')}'"))
        return None
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme):
        problems.append(
            (entry, f"has an invalid scheme {scheme!r}: a scheme starts with a letter, "
                    "then letters, digits, '+', '-' or '.'; write e.g. 'https://app.example'")
        )
        return None
    scheme = scheme.lower()
    authority, slash, path = rest.partition("/")
    shown = f"{scheme}://{shown_prefix}"
    base = f"{shown}{authority}"
    if "@" in authority:
        problems.append(
            (entry, f"contains user info; browsers never send it in Origin; "
                    f"write '{shown}{authority.rpartition('@')[2]}'")
        )
        return None
    for mark, what in (("?", "a query"), ("#", "a fragment")):
        if mark in authority:
            problems.append((entry, f"has {what}; write '{base.split(mark)[0]}'"))
            return None
    if slash:
        what = "a trailing slash" if not path else f"a path ('/{path}')"
        problems.append(
            (entry, f"has {what}; an origin is scheme://host[:port], write '{base}'")
        )
        return None
    host, port = authority, ""
    if authority.startswith("["):
        close = authority.find("]")
        host, port = authority[: close + 1], authority[close + 1 :].removeprefix(":")
    elif ":" in authority:
        host, _, port = authority.rpartition(":")
    if port:
        if not (port.isascii() and port.isdigit()) or port.startswith("0") or int(port) > 65535:
            problems.append((entry, f"has an invalid port {port!r}; use 1-65535"))
            return None
        if DEFAULT_PORTS.get(scheme) == port:
            problems.append(
                (entry, f"names the default port {port}, which browsers never send; "
                        f"write '{shown}{host.lower()}'")
            )
            return None
    try:
        ascii_host = host.encode("ascii").decode("ascii")
    except UnicodeEncodeError:
        try:
            suggestion = host.encode("idna").decode("ascii")
            hint = f"write its punycode form '{shown}{suggestion}'"
        except UnicodeError:
            hint = "write the host in punycode"
        problems.append((entry, f"has a non-ASCII host, which browsers send as punycode; {hint}"))
        return None
    if scheme in SPECIAL_SCHEMES or ascii_host.startswith("["):
        ascii_host = ascii_host.lower()  # as browsers serialize it; other schemes keep case
    if not (_HOSTNAME.fullmatch(ascii_host.lower())
            or re.fullmatch(r"\[[0-9a-f:.]+\]", ascii_host)):
        problems.append(
            (entry, f"has an invalid host {host!r}: write dot-separated labels of letters, "
                    "digits and hyphens (e.g. 'app.example'), or an IP address")
        )
        return None
    return scheme, ascii_host, port


def _exact_origin(text: str, problems: list[tuple[object, str]]) -> str | None:
    parts = _split_origin(text, problems, entry=text)
    if parts is None:
        return None
    scheme, host, port = parts
    # Only special schemes parse a host ending in a number as an IPv4 address.
    ip_rules = scheme in SPECIAL_SCHEMES or host.startswith("[")
    if ip_rules and not _is_browser_ip_host(text, scheme, host, port, problems):
        return None
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"


def _is_browser_ip_host(
    text: str, scheme: str, host: str, port: str, problems: list[tuple[object, str]]
) -> bool:
    """Whether an IP host is written the one way browsers send it (WHATWG URL serialization).

    ``http://127.000.000.001``, ``http://0x7f.0.0.1`` or ``http://[0:0:0:0:0:0:0:1]``
    name an address a browser sends as ``127.0.0.1`` or ``[::1]``: as written they
    could never match, so the problem names the form to write.
    """
    if host.startswith("["):
        serialized = _serialize_ipv6(host[1:-1])
        what = "IPv6 address"
    elif _ends_in_number(host):
        serialized = _serialize_ipv4(host)
        what = "IPv4 address"
    else:
        return True
    if serialized is None:
        problems.append((text, f"has an invalid {what} {host!r}; write e.g. "
                               f"'{scheme}://127.0.0.1' or '{scheme}://[::1]'"))
        return False
    if serialized != host:
        shown = f"{scheme}://{serialized}" + (f":{port}" if port else "")
        problems.append((text, f"writes the {what} in a form browsers never send "
                               f"(they send {serialized}); write '{shown}'"))
        return False
    return True


def _ends_in_number(host: str) -> bool:
    # WHATWG URL: a host whose last label is a number is parsed as an IPv4 address.
    last = host.removesuffix(".").rpartition(".")[2]
    if last.isascii() and last.isdigit():
        return True
    return last[:2] == "0x" and all(c in "0123456789abcdef" for c in last[2:])


def _serialize_ipv4(host: str) -> str | None:
    """The WHATWG IPv4 parser and serializer: parts in decimal, octal (0..) or hex (0x..)."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        return None
    numbers = []
    for part in parts:
        radix, digits = 10, part
        if part[:2] == "0x":
            radix, digits = 16, part[2:]
        elif len(part) > 1 and part[0] == "0":
            radix, digits = 8, part[1:]
        if digits == "":
            numbers.append(0)
            continue
        try:
            numbers.append(int(digits, radix) if digits.isascii() and digits.isalnum() else -1)
        except ValueError:
            return None
        if numbers[-1] < 0:
            return None
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    address = numbers[-1]
    for index, n in enumerate(numbers[:-1]):
        address += n * 256 ** (3 - index)
    return ".".join(str((address >> shift) & 255) for shift in (24, 16, 8, 0))


def _serialize_ipv6(text: str) -> str | None:
    """The WHATWG IPv6 serializer: lowercase hex, no leading zeros, the longest run of
    two or more zero pieces (the first on a tie) written '::', no dotted IPv4 tail."""
    import ipaddress

    try:
        packed = ipaddress.IPv6Address(text).packed
    except ValueError:
        return None
    pieces = [packed[i] << 8 | packed[i + 1] for i in range(0, 16, 2)]
    best_start, best_length, start = -1, 1, -1
    for index, piece in enumerate([*pieces, 1]):
        if piece == 0 and start < 0:
            start = index
        elif piece != 0 and start >= 0:
            if index - start > best_length:
                best_start, best_length = start, index - start
            start = -1
    words = [format(piece, "x") for piece in pieces]
    if best_start < 0:
        return "[" + ":".join(words) + "]"
    head = ":".join(words[:best_start])
    tail = ":".join(words[best_start + best_length:])
    return f"[{head}::{tail}]"


def _add_wildcard(
    text: str,
    wildcards: set[tuple[str, str, str]],
    problems: list[tuple[object, str]],
    ineffective: list[tuple[object, str]],
) -> None:
    scheme, _, rest = text.partition("://")
    if "*" in rest[2:]:
        problems.append((text, "may hold one '*', as its whole leftmost label"))
        return
    parts = _split_origin(f"{scheme}://{rest[2:]}", ineffective, entry=text, shown_prefix="*.")
    if parts is None:
        return
    scheme, parent, port = parts
    if parent.startswith("[") or _IPV4.fullmatch(parent):
        ineffective.append((text, "puts a wildcard on an IP address, which has no "
                                  "subdomains; list the origins"))
    elif _public_suffixes().is_public(parent):
        problems.append(
            (text, f"'{parent}' is a public suffix, so '*.{parent}' would trust sites anyone "
                   "can register; list the origins you trust")
        )
    else:
        wildcards.add((scheme, parent, port))


def _add_regex(
    text: str, regexes: list[re.Pattern[str]], problems: list[tuple[object, str]]
) -> None:
    bare = _bare_star(text)
    if bare is not None:
        problems.append((text, bare))
        return
    try:
        regex = re.compile(text)
    except re.error as error:
        problems.append((text, f"is not a valid regular expression ({error})"))
        return
    dot = _UNESCAPED_DOT.search(text)
    if dot is not None:
        around = text[max(0, dot.start() - 8) : dot.end() + 8]
        warn_configuration(
            f"origin regex {text!r} has an unescaped '.' in {around!r}: it matches any "
            "character, so look-alike hosts match too; write '\\.' for a literal dot"
        )
    regexes.append(regex)


def _bare_star(text: str) -> str | None:
    """What a '*' that is not part of a deliberate regex repeat really does, or ``None``.

    'http://localhost:*' reads as "any port", but as a regex matched against the
    whole origin its '*' repeats the ':' before it: it matches 'http://localhost',
    'http://localhost:', 'http://localhost::' and never 'http://localhost:3000'
    (flask-cors matches regexes as prefixes, so there it also admits
    'http://localhost.evil.com').
    """
    stars = [m.start() for m in re.finditer(r"\*", text)]
    quantified = {m.end() - 1 for m in _QUANTIFIED_STAR.finditer(text)}
    for at in stars:
        if at in quantified:
            continue
        before = text[at - 1] if at else ""
        if not before or before in "(|^":
            return ("has a '*' that repeats nothing, which is not a valid regex; '*' means "
                    "'any subdomain' only as a whole leftmost label ('https://*.example.com')")
        head = text[:at - 1]
        if before == ":":
            return (f"has a '*' that repeats the ':' before it: matched against the whole "
                    f"origin it allows only '{head}' followed by any number of ':', never a "
                    f"port (flask-cors matched it as a prefix, so there it also admitted "
                    f"look-alike hosts such as '{head}.evil.example'); for an optional port "
                    rf"write r'{head}(:\d+)?'")
        return (f"has a '*' that repeats the {before!r} before it (zero or more of it), not "
                "'anything'; '*' means 'any subdomain' only as a whole leftmost label "
                "('https://*.example.com'); in a regex, write what may appear there, e.g. "
                r"'[a-z0-9-]+'")
    return None


@lru_cache(maxsize=1)
def _public_suffixes() -> PublicSuffixList:
    from publicsuffixlist import PublicSuffixList

    # accept_unknown=False: names outside the list, such as 'localhost' or 'test',
    # are not public suffixes, so '*.localhost' stays usable for development.
    return PublicSuffixList(accept_unknown=False)
