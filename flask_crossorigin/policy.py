"""A compiled CORS policy and the decisions it makes for one request.

:func:`build_policy` validates merged options and precomputes every header
value; :class:`Policy` then only looks things up. The checks follow the order
of the Fetch standard's CORS check and CORS-preflight fetch: origin, then
method, then request headers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError, Problem, warn_configuration
from .headers import (
    MAX_REQUEST_HEADERS_COUNT,
    MAX_REQUEST_HEADERS_LENGTH,
    TOKEN,
    HeaderListError,
    parse_request_headers,
)
from .options import (
    REPORT_ONLY_OPTIONS,
    Layer,
    check_allow_headers,
    check_bool,
    check_csrf_protection,
    check_interval,
    check_max_age,
    check_token_list,
    is_header_glob,
    merge_layers,
    unknown_option_problems,
)
from .origins import (
    AnyOriginMatcher,
    LiveOriginMatcher,
    MatcherCache,
    OriginMatcher,
    OriginSource,
    parse_request_origin,
)
from .reasons import STORE_DECIDES, Refusal
from .writes import WriteProtection, write_protection

if TYPE_CHECKING:
    from .metrics import PolicyMetrics

_monotonic = time.monotonic

ACAO = "Access-Control-Allow-Origin"
ACAC = "Access-Control-Allow-Credentials"
ACEH = "Access-Control-Expose-Headers"
ACAM = "Access-Control-Allow-Methods"
ACAH = "Access-Control-Allow-Headers"
ACMA = "Access-Control-Max-Age"
ACAPN = "Access-Control-Allow-Private-Network"

Header = tuple[str, str]

_HEADER_LIMITS = (
    f"{MAX_REQUEST_HEADERS_LENGTH} characters or {MAX_REQUEST_HEADERS_COUNT} names"
)

#: Bounds of the answers remembered for origins that are not listed exactly (refused,
#: or matched by a wildcard or a regex), per set of origins and the headers its
#: policies add: entries, and the length of an origin remembered. A refused origin seen
#: again (a stale front end, a partner not listed yet) is answered from there, as
#: cheaply as a listed one. Full, the memo is emptied: a flood of distinct origins
#: costs a refill, never more memory (a few tens of kB at most); longer origins are
#: always checked afresh.
UNLISTED_MEMO_SIZE = 64
UNLISTED_MEMO_ORIGIN_LENGTH = 128


class Decision:
    """What a policy answers to one request: headers to add, ``Vary`` names, and a refusal."""

    __slots__ = ("headers", "vary", "vary_value", "lines", "refusal")

    def __init__(
        self, headers: tuple[Header, ...], vary: tuple[str, ...], refusal: Refusal | None
    ) -> None:
        self.headers = headers
        self.vary = vary
        #: ``vary`` as one header value, for responses that have no ``Vary`` yet.
        self.vary_value = ", ".join(vary)
        #: Every line for a response that has no CORS header and no ``Vary`` yet: the
        #: headers, then ``Vary``; appended in one step.
        self.lines: tuple[Header, ...] = headers + (
            (("Vary", self.vary_value),) if vary else ())
        #: ``None`` when granted (or when the request was not a CORS request at all).
        self.refusal = refusal

    @property
    def granted(self) -> bool:
        return self.refusal is None and any(name == ACAO for name, _ in self.headers)


class Policy:
    """One immutable, compiled CORS policy. Safe to share between threads.

    On origins loaded at run time (``CachedOrigins``), each reload hands the policy
    its precomputed answers for the new set, swapped whole (:meth:`take_origins`).
    """

    def __init__(self, name: str, settings: dict[str, Any], origins: AnyOriginMatcher) -> None:
        #: Where the policy comes from, as people read it ("resources['/api/*']").
        self.name = name
        #: The validated options, for display (CLI, docs, debugging).
        self.settings = settings
        self.origins = origins
        #: The counters of this policy's decisions, set by the extension on an app with
        #: ``metrics`` on (``None``: off, the request path's one check).
        self.metrics: PolicyMetrics | None = None
        self.credentials: bool = settings["supports_credentials"]
        self.automatic_options: bool = settings["automatic_options"]
        self.intercept_exceptions: bool = settings["intercept_exceptions"]
        self.private_network: bool = settings["allow_private_network"]
        methods: tuple[str, ...] = settings["methods"]
        allow_headers: tuple[str, ...] = settings["allow_headers"]
        patterns: tuple[re.Pattern[str], ...] = settings.get("allow_header_patterns", ())
        #: ``None`` means any method / any header.
        self.methods = None if methods == ("*",) else frozenset(methods)
        self.allow_headers = (
            None if allow_headers == ("*",) else frozenset(
                h.lower() for h in allow_headers
                if h not in {p.pattern for p in patterns} and not is_header_glob(h))
        )
        #: Regexes of ``allow_headers``, matched case-insensitively against whole names.
        self.allow_header_patterns = patterns

        # Everything below is precomputed so that a request only looks it up.
        self._wildcard = origins.any_origin and settings["send_wildcard"]
        shared: list[Header] = []
        if self.credentials:
            shared.append((ACAC, "true"))
        if settings["expose_headers"]:
            # Sorted, as flask-cors sends them: the order means nothing to a browser.
            # On granted preflight answers too, as flask-cors: browsers ignore it there,
            # and test suites written against flask-cors check it.
            shared.append((ACEH, ", ".join(sorted(settings["expose_headers"]))))
        self._actual_static = tuple(shared)
        self._methods_value = ", ".join(methods)
        preflight_tail = list(shared)
        if settings["max_age"] is not None:
            preflight_tail.append((ACMA, str(settings["max_age"])))
        self._preflight_static = tuple(preflight_tail)

        vary = settings["vary_header"]
        always = settings["always_send"]
        # Even a '*' policy refuses 'null' and malformed origins, so every answer
        # depends on Origin: a cache must not hand one origin's answer to another.
        self.actual_vary: tuple[str, ...] = ("Origin",) if vary else ()
        preflight_vary = ["Origin", "Access-Control-Request-Method",
                          "Access-Control-Request-Headers"]
        if self.private_network:
            preflight_vary.append("Access-Control-Request-Private-Network")
        self.preflight_vary: tuple[str, ...] = tuple(preflight_vary) if vary else ()
        self._no_origin = Decision(
            ((ACAO, "*"),) + self._actual_static if origins.any_origin and always else (),
            self.actual_vary,
            None,
        )
        self._wildcard_grant = Decision(
            ((ACAO, "*"),) + self._actual_static, self.actual_vary, None
        )
        # Answers to unlisted origins are remembered unless a callable decides: it is
        # asked on every request, as flask-cors asks it.
        self._memoize = not origins.callables
        self._exact_grants: dict[str, Decision] = {}
        self._unlisted: dict[tuple[str, str], Decision] = {}
        #: Run-time origins, loaded whole: the refusals remembered, with the set they were
        #: decided by (a memo that belongs to one set: a reload, a close or any other swap
        #: starts it empty, since it is only read while its set is current).
        self._live_refused: tuple[object, dict[str, Decision]] = (None, {})
        if isinstance(origins, LiveOriginMatcher):
            # Origins loaded at run time: each new set brings its own precomputed answers
            # (take_origins). Following first, then checking that no set was swapped in
            # meanwhile, means a reload in another thread is never missed.
            origins.follow(self)
            # Before the answers precomputed for a set: is it this process's, still fresh?
            self.actual = self._actual_live  # type: ignore[method-assign]
            #: The per-origin answers of the source (``CachedOrigins(lookup=)``), if any.
            self._lookups: Any = getattr(origins.source, "lookups", None)
            while True:
                current = origins.current
                self.take_origins(self.prepare_origins(current))
                if origins.current is current:
                    break
        else:
            self.take_origins(self.prepare_origins(origins))
        #: The report-only policy that shadows this one (``None``: none), tried on every
        #: request this one decides; it never changes a response (see ``report_only``).
        self.report_only: Policy | None = None
        #: Seconds during which one report-only mismatch is logged once.
        self.report_only_interval: float = settings.get("report_only_interval", 60.0)
        #: ``csrf_protection``: False, True or 'report-only'.
        self.csrf_protection: bool | str = settings.get("csrf_protection", False)
        #: Whether ``csrf_protection`` was set (by a key, an argument or an entry) rather
        #: than left at its default: a ``@cross_origin`` view that leaves it unset
        #: takes the value of the resource pattern its path matches.
        self.csrf_protection_set: bool = settings.get("csrf_protection_set", True)
        # Write checks trusting these origins, by csrf_protection value, made on first use
        # (a decorator's policy may serve with its path's value).
        self._writes: dict[bool | str, WriteProtection | None] = {False: None}
        #: The cross-origin write check of this policy (``None``: writes are not checked).
        self.writes: WriteProtection | None = self.writes_with(self.csrf_protection)

    def __repr__(self) -> str:
        return f"<Policy {self.name}>"

    def writes_with(self, mode: bool | str) -> WriteProtection | None:
        """The write check trusting this policy's origins, for a ``csrf_protection`` value."""
        try:
            return self._writes[mode]
        except KeyError:
            # Idempotent: two threads may both build it, and either result serves.
            check = self._writes[mode] = write_protection(self.name, self.origins, mode)
            return check

    def prepare_origins(
        self, origins: OriginMatcher
    ) -> tuple[dict[str, Decision], dict[tuple[str, str], Decision]]:
        """The answer to each exactly listed origin, shared by every policy that
        lists the same origins with the same headers (resources usually do); and the
        memo of answers to other origins, shared by the same policies, by (policy
        name, origin): equal names, headers and origins make equal answers."""
        headers = (self._wildcard, self._actual_static, self.actual_vary)
        key = ("grants", *headers)
        grants = origins.derived.get(key)
        if grants is None:
            grants = origins.derived[key] = {
                origin: self._wildcard_grant if self._wildcard else Decision(
                    ((ACAO, origin),) + self._actual_static, self.actual_vary, None)
                for origin in origins.exact
            }
        unlisted = origins.derived.setdefault(("unlisted", *headers), {})
        return grants, unlisted  # type: ignore[return-value]

    def origin_sources(self) -> list[OriginSource]:
        """The run-time origin sources of this policy and its report-only policy."""
        found = [policy.origins.source for policy in (self, self.report_only)
                 if policy is not None and isinstance(policy.origins, LiveOriginMatcher)]
        return found

    def take_origins(self, prepared: object) -> None:
        """Answer from a new set of run-time origins (see :class:`LiveOriginMatcher`).

        The set's matcher is already current when this is called, so whatever the
        new memo is given was decided by the new set (or a newer one)."""
        self._exact_grants, self._unlisted = prepared  # type: ignore[misc]
        self._live_refused = (None, {})  # what the previous set refused is not kept

    def actual(self, origin: str | None) -> Decision:
        """The headers for an actual (non-preflight) response to a request from ``origin``."""
        if origin is None:
            return self._no_origin
        grant = self._exact_grants.get(origin)
        if grant is not None:
            return grant  # the common case: a listed origin, answered in advance
        unlisted = self._unlisted  # before the check: see take_origins
        answer = unlisted.get((self.name, origin))
        if answer is not None:
            return answer  # a refused (or matched) origin seen before: as cheap as a grant
        return self._answer_unlisted(origin, unlisted)

    def _answer_unlisted(
        self, origin: str, unlisted: dict[tuple[str, str], Decision]
    ) -> Decision:
        """Decide for an origin that is not listed exactly, and remember the answer
        (bounded) unless a callable decides or the origin is long."""
        refusal = self.origins.check(origin, self.name)
        if refusal is not None:
            answer = Decision((), self.actual_vary, refusal)
        elif self._wildcard or not self._echoable(origin):
            answer = self._wildcard_grant
        else:
            answer = Decision(((ACAO, origin),) + self._actual_static, self.actual_vary, None)
        if self._memoize and len(origin) <= UNLISTED_MEMO_ORIGIN_LENGTH:
            if len(unlisted) >= UNLISTED_MEMO_SIZE:
                unlisted.clear()  # bounded: many distinct origins only cost a refill
            unlisted[(self.name, origin)] = answer
        return answer

    def _actual_live(self, origin: str | None) -> Decision:
        """:meth:`actual` for origins loaded at run time: first make sure, now and then,
        that the set is this process's and within max_stale (``LiveOriginMatcher.ensure``,
        inlined: one clock read); then
        a loaded origin's precomputed answer, or a looked-up origin's cached one (its
        grant made once per policy and kept with the cache entry); a refused origin seen
        before is answered from what was remembered with the set (whole list) or with
        the cached refusal (per origin), as cheaply."""
        live: LiveOriginMatcher = self.origins  # type: ignore[assignment]
        now = _monotonic()
        if now >= live.check_at:
            live.source.adopt_process()
        if origin is None:
            return self._no_origin
        grant = self._exact_grants.get(origin)
        if grant is not None:
            return grant
        current = live.current  # read once: what is decided and what it is kept with
        lookups = self._lookups
        if lookups is not None:
            entry = lookups.granted.get(origin)
            if entry is not None and entry[0] > now:
                lookups.hits += 1
                grant = entry[2].get(self)
                if grant is None:
                    grant = entry[2][self] = self._wildcard_grant if self._wildcard else \
                        Decision(((ACAO, origin),) + self._actual_static, self.actual_vary,
                                 None)
                return grant
            refused = lookups.refused.get(origin)
            if refused is not None and refused[0] > now:
                kept = refused[1].get(self)
                if kept is not None and kept[0] is current:
                    lookups.hits += 1  # as LookupOriginMatcher.check counts a cached refusal
                    return kept[1]  # type: ignore[no-any-return]
                return self._answer_looked_up(origin, current, lookups, refused)
            return self._answer_looked_up(origin, current, lookups, None)
        memo = self._live_refused
        if memo[0] is current:
            answer = memo[1].get(origin)
            if answer is not None:
                return answer  # a refused origin seen before, under this very set
        refusal = current.check(origin, self.name)
        if refusal is not None:
            answer = Decision((), self.actual_vary, refusal)
            if len(origin) <= UNLISTED_MEMO_ORIGIN_LENGTH and not current.callables:
                if memo[0] is not current:
                    memo = self._live_refused = (current, {})
                elif len(memo[1]) >= UNLISTED_MEMO_SIZE:
                    memo[1].clear()  # bounded: many distinct origins only cost a refill
                memo[1][origin] = answer
            return answer
        if self._wildcard:
            return self._wildcard_grant
        return Decision(((ACAO, origin),) + self._actual_static, self.actual_vary, None)

    def _answer_looked_up(self, origin: str, current: OriginMatcher, lookups: Any,
                          refused: Any) -> Decision:
        """Per-origin mode (``CachedOrigins(lookup=)``), when no fresh cached grant nor
        kept refusal answers: decide (``LookupOriginMatcher.check``), and keep a refusal
        with the cached refusal of the store (``refused``: the entry that was fresh
        before the check, if any), per policy, with the patterns it was decided under
        (a reload that now grants the origin is never hidden)."""
        refusal = current.check(origin, self.name)
        if refusal is None:
            if self._wildcard:
                return self._wildcard_grant
            return Decision(((ACAO, origin),) + self._actual_static, self.actual_vary, None)
        answer = Decision((), self.actual_vary, refusal)
        # Kept only when that entry is still the cached one (no lookup, invalidation or
        # eviction replaced it meanwhile) and the patterns refused (never a failed
        # lookup's answer).
        if refused is not None and lookups.refused.get(origin) is refused and \
                refusal.code in STORE_DECIDES:
            refused[1][self] = (current, answer)
        return answer

    def names_origin(self, origin: str) -> bool:
        """Whether the policy allows ``origin`` explicitly (listed, a wildcard subdomain,
        a regex or a callable), not only through ``"*"``: who may get credentials."""
        return not self.origins.any_origin and self.origins.check(origin, self.name) is None

    def _echoable(self, origin: str) -> bool:
        """Whether a granted ``origin`` may be echoed: a '*' policy grants malformed
        values too ('www.example.com'), and answers those with '*', never echoed."""
        return not self.origins.any_origin or parse_request_origin(origin) is not None

    def preflight_for(self, environ: dict[str, Any]) -> Decision:
        """:meth:`preflight` for the request in a WSGI environ."""
        return self.preflight(
            environ.get("HTTP_ORIGIN"),
            environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"],
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"),
        )

    def preflight(
        self,
        origin: str | None,
        method: str,
        request_headers: str | None,
        private_network: str | None = None,
    ) -> Decision:
        """The headers for a preflight answer; ``refusal`` is set when nothing is granted."""
        vary = self.preflight_vary
        if origin is None:
            return Decision((), vary, Refusal("origin-missing"))
        refusal = self.origins.check(origin, self.name)
        if refusal is not None:
            return Decision((), vary, refusal)
        if TOKEN.fullmatch(method) is None:
            return Decision((), vary, Refusal("method-malformed", method=method))
        if self.methods is not None and method not in self.methods:
            return Decision((), vary, Refusal(
                "method-not-allowed", method=method, policy=self.name,
                allowed=self._methods_value,
            ))
        names: list[str] = []
        if request_headers:
            try:
                # As the client spelt them: they are echoed back (compared case-insensitively).
                names = parse_request_headers(request_headers, keep_case=True)
            except HeaderListError as error:
                return Decision((), vary, Refusal(
                    error.code, limit=_HEADER_LIMITS, length=error.length, count=error.count,
                ))
            if self.allow_headers is not None:
                missing = [name for name in names if not self._header_allowed(name)]
                if missing:
                    return Decision((), vary, Refusal(
                        "headers-not-allowed", headers=", ".join(missing), policy=self.name,
                        allowed=", ".join(self.settings["allow_headers"]),
                    ))
        echo = not self._wildcard and self._echoable(origin)
        headers: list[Header] = [(ACAO, origin if echo else "*")]
        headers.append((ACAM, method if self.methods is None else self._methods_value))
        if names:
            headers.append((ACAH, ", ".join(names)))
        headers.extend(self._preflight_static)
        if self.private_network and private_network == "true":
            headers.append((ACAPN, "true"))
        return Decision(tuple(headers), vary, None)

    def _header_allowed(self, name: str) -> bool:
        allowed = self.allow_headers
        if allowed is not None and name.lower() in allowed:
            return True
        return any(p.fullmatch(name) is not None for p in self.allow_header_patterns)


def is_preflight(environ: dict[str, Any]) -> bool:
    """A CORS preflight: ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``.

    Without ``Origin`` it is not a CORS request, and a plain ``OPTIONS`` is not a
    preflight: both go to the app as any other request.
    """
    return (
        environ.get("REQUEST_METHOD", "").upper() == "OPTIONS"  # as Werkzeug routes it
        and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        and "HTTP_ORIGIN" in environ
    )


def build_policy(
    name: str,
    layers: Iterable[Layer],
    *,
    check_conflicts: bool = True,
    matchers: MatcherCache | None = None,
    _trial: bool = False,
) -> tuple[Policy | None, list[Problem]]:
    """Merge and validate option layers into a :class:`Policy`.

    Returns the policy (``None`` when anything is wrong) and every problem found.
    ``check_conflicts=False`` checks each value on its own but not their
    combinations (for a decorator whose other options may come from ``app.config``).
    ``matchers`` shares compiled origins between the policies of one table.
    A ``report_only`` option is compiled too, into :attr:`Policy.report_only`.
    """
    layers = list(layers)
    merged = merge_layers(layers)
    problems: list[Problem] = []
    settings: dict[str, Any] = {}

    def value(option: str) -> Any:
        return merged[option][0]

    def where(option: str) -> str:
        return merged[option][1]

    for option in ("supports_credentials", "send_wildcard", "vary_header", "automatic_options",
                   "always_send", "intercept_exceptions", "allow_private_network"):
        settings[option] = check_bool(option, value(option), where(option), problems)
    methods = check_token_list("methods", value("methods"), where("methods"), problems)
    if methods is not None:
        methods = tuple(m.upper() for m in methods)
    settings["methods"] = methods
    allow_headers = check_allow_headers(value("allow_headers"), where("allow_headers"), problems)
    settings["allow_headers"], settings["allow_header_patterns"] = allow_headers or (None, ())
    settings["expose_headers"] = check_token_list(
        "expose_headers", value("expose_headers"), where("expose_headers"), problems,
        allow_none=True,
    )
    settings["max_age"] = check_max_age(value("max_age"), where("max_age"), problems)
    settings["csrf_protection"] = check_csrf_protection(
        value("csrf_protection"), where("csrf_protection"), problems)
    settings["csrf_protection_set"] = where("csrf_protection") != "default"
    matcher, origin_problems = (matchers or MatcherCache()).compile(value("origins"))
    for offending, message in origin_problems:
        problems.append(Problem(where("origins"), "origins", offending, message))
    # A report-only policy that keeps the enforced origins does not repeat their warnings.
    warn = not _trial or where("origins") == layers[-1][0]
    for offending, message in matcher.ineffective if matcher is not None and warn else ():
        warn_configuration(f"{where('origins')}: origins={offending!r}: {message}")
    settings["origins"] = value("origins")

    def conflict(*options: str) -> str:
        """Where a problem of several options is: the one place that set them, else the
        policy (a resource entry) that combines them, saying where each came from."""
        places = {where(option) for option in options} - {"default"}
        if _trial:
            return where(options[0])  # the report-only policy names both places itself
        if len(places) <= 1:
            return places.pop() if places else name
        return f"{name} (" + ", ".join(
            f"{option} from {where(option)}" for option in options) + ")"

    credentials = settings["supports_credentials"] and check_conflicts
    if credentials and matcher is not None and matcher.any_origin:
        default = " (the default)" if where("origins") == "default" else ""
        problems.append(Problem(
            conflict("supports_credentials", "origins"), "supports_credentials", True,
            f"cannot be combined with origins='*'{default}: that would let every site "
            "read credentialed responses; list the trusted origins, or pass a callable "
            "origin -> bool",
        ))
    for regex, probe in matcher.open_regexes() if credentials and matcher is not None else ():
        problems.append(Problem(
            conflict("origins", "supports_credentials"), "origins", regex.pattern,
            f"allows origins on domains anyone can register (such as {probe!r}), so "
            "with supports_credentials=True any site could read "
            "credentialed responses: it is origins='*' in disguise; anchor it to your "
            r"domain, e.g. r'https://([a-z0-9-]+\.)*example\.com', or list the origins",
        ))
    if credentials and settings["expose_headers"] == ("*",):
        problems.append(Problem(
            conflict("expose_headers", "supports_credentials"), "expose_headers", "*",
            "'*' is not a wildcard for credentialed requests; list the header names",
        ))
    trial: Policy | None = None
    if not _trial:
        settings["report_only_interval"] = check_interval(
            value("report_only_interval"), where("report_only_interval"), problems)
        trial, trial_problems = _report_only_policy(
            name, layers, merged["report_only"], check_conflicts, matchers, problems)
        problems.extend(trial_problems)
        settings["report_only"] = dict(value("report_only")) if trial is not None else None
    if problems or matcher is None:
        return None, problems
    policy = Policy(name, settings, matcher)
    policy.report_only = trial
    return policy, problems


def _report_only_policy(
    name: str,
    layers: list[Layer],
    option: tuple[Any, str],
    check_conflicts: bool,
    matchers: MatcherCache | None,
    enforced_problems: list[Problem],
) -> tuple[Policy | None, list[Problem]]:
    """The report-only policy of a policy: its ``report_only`` options over its layers.

    Its problems name where the ``report_only`` dict was set
    (``resources['/api/*'].report_only``); one that only arises from combining it
    with the enforced options names both places. The problems of inherited values
    are the enforced policy's (``enforced_problems``), and not repeated.
    """
    options, where = option
    if options is None:
        return None, []
    if not isinstance(options, Mapping):
        return None, [Problem(where, "report_only", options,
                              "must be a dict of policy options, e.g. {'origins': [...]}, "
                              "or None")]
    label = where if where.startswith("app.config") else f"{where}.report_only"
    problems = []
    if "report_only" in options:
        problems.append(Problem(label, "report_only", options["report_only"],
                                "a report-only policy has no report-only policy of its own"))
    if "report_only_interval" in options:
        problems.append(Problem(label, "report_only_interval", options["report_only_interval"],
                                "set it beside report_only, not inside it"))
    if "csrf_protection" in options:
        problems.append(Problem(label, "csrf_protection", options["csrf_protection"],
                                "set it beside report_only, not inside it; "
                                "csrf_protection='report-only' tries it without enforcing"))
    ours = {key: value for key, value in options.items()
            if key not in ("report_only", "report_only_interval", "csrf_protection")}
    problems.extend(unknown_option_problems(ours, label, REPORT_ONLY_OPTIONS))
    known = {key: value for key, value in ours.items() if key in REPORT_ONLY_OPTIONS}
    trial, trial_problems = build_policy(
        f"{name}.report_only", [*layers, (label, known)],
        check_conflicts=check_conflicts, matchers=matchers, _trial=True,
    )
    seen = {str(problem) for problem in enforced_problems}
    for problem in trial_problems:
        if str(problem) in seen:
            continue
        if problem.where != label:
            problem = Problem(f"{label} (merged with {problem.where})", problem.option,
                              problem.value, problem.message)
        problems.append(problem)
    return (trial if not trial_problems else None), problems


def attach_origin_sources(app: Any, policies: Iterable[Policy]) -> None:
    """Bind each run-time origin source (``CachedOrigins``) of ``policies`` to ``app``:
    its loads run in the app's context, the first one now."""
    seen: set[int] = set()
    for policy in policies:
        for source in policy.origin_sources():
            if id(source) not in seen:
                seen.add(id(source))
                source.attach(app)


def compile_policy(name: str, layers: Iterable[Layer]) -> Policy:
    """Like :func:`build_policy`, raising :class:`ConfigurationError` on any problem."""
    policy, problems = build_policy(name, layers)
    if policy is None:
        raise ConfigurationError(problems)
    return policy


__all__ = [
    "Decision", "Policy", "attach_origin_sources", "build_policy", "compile_policy",
    "is_preflight", "parse_request_origin",
]
