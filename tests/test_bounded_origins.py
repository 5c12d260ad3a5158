"""Matching an ``Origin`` of many short labels costs no more than one of a few (issue 22).

Wildcard-subdomain and public-suffix matching used to slice and hash every parent
of the host: a 1 KiB ``Origin`` of 500 one-letter labels (within the length
limit, so parsed) cost hundreds of times a plain refusal, on every actual
request, preflight and write check. Now only the parents no longer than the
longest configured one are tried, and public-suffix boundaries are read from a
tree of labels in one pass that stops where the rules do.

Work is counted, never timed: the tracer of ``test_adversarial`` counts the lines
of ``flask_crossorigin`` a request executes, and that count must not grow with
the number of labels, for origins that are refused, matched, and refused at a
public-suffix boundary.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from flask_crossorigin.origins import MAX_ORIGIN_LENGTH, compile_origins
from flask_crossorigin.suffixes import SuffixesBelow, suffixes_below

from .test_adversarial import lines_executed, make_app, work_of_request

# Label counts: past the deepest configured name (where the walk stops), up to origins
# close to the length limit (so all are parsed, none refused for their length).
LABELS = [20, 100, 480]
# Through requests: origins longer than the answers a policy remembers (issue 23's memo
# keeps those of at most 128 characters), so that every request does the matching.
REQUEST_LABELS = [70, 100, 480]

POLICIES: dict[str, dict[str, Any]] = {
    "one wildcard": {"origins": ["https://*.example.com"]},
    "a wildcard over public suffixes": {"origins": ["https://*.amazonaws.com"]},
    "1000 wildcards": {"origins": [f"https://*.p{i}.example.com" for i in range(1000)]},
    "deep wildcards": {"origins": ["https://*.a.a.a.example.com", "https://*.example.net",
                                   "https://*.b.a.example.com"]},
}

# Hosts of n labels: each kind ends the same way whatever n is.
HOSTS: dict[str, Callable[[int], str]] = {
    "refused": lambda n: "a." * n + "example.org",
    "matched": lambda n: "a." * n + "example.com",
    "matched deep": lambda n: "a." * n + "p999.example.com",
    "under a public suffix": lambda n: "a." * n + "s3.amazonaws.com",
    "under a wildcard public suffix": lambda n: "a." * n + "x.compute.amazonaws.com",
    "beside the parent's labels": lambda n: "a." * n + "a.a.example.com",
    "one long label": lambda n: "a" * (2 * n) + ".example.com",
}


def origin(kind: str, labels: int) -> str:
    value = "https://" + HOSTS[kind](labels)
    assert len(value) <= MAX_ORIGIN_LENGTH
    return value


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("kind", list(HOSTS))
def test_matching_work_does_not_grow_with_the_labels(policy: str, kind: str) -> None:
    matcher, problems = compile_origins(POLICIES[policy]["origins"])
    assert matcher is not None and not problems
    counts = []
    for labels in LABELS:
        value = origin(kind, labels)
        counts.append(lines_executed(lambda v=value: matcher.check(v, "policy")))
    assert counts[0] > 0
    assert len(set(counts)) == 1, (policy, kind, dict(zip(LABELS, counts)))


@pytest.fixture(scope="module")
def clients() -> dict[str, Any]:
    return {name: make_app({**options, "csrf_protection": True}).test_client()
            for name, options in POLICIES.items()}


REQUESTS: dict[str, Callable[[str], tuple[dict[str, str], bool]]] = {
    "actual": lambda value: ({"HTTP_ORIGIN": value}, False),
    "preflight": lambda value: ({"HTTP_ORIGIN": value,
                                 "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "PUT"}, True),
}


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("kind", ["refused", "matched", "under a public suffix"])
@pytest.mark.parametrize("request_kind", list(REQUESTS))
def test_request_work_does_not_grow_with_the_labels(
    clients: dict[str, Any], policy: str, kind: str, request_kind: str
) -> None:
    client = clients[policy]
    work_of_request(client, *REQUESTS[request_kind](origin(kind, 70)))  # first-time work
    counts = []
    for labels in REQUEST_LABELS:
        environ, preflight = REQUESTS[request_kind](origin(kind, labels))
        counts.append(work_of_request(client, environ, preflight))
    assert counts[0] > 0
    assert len(set(counts)) == 1, (policy, kind, dict(zip(REQUEST_LABELS, counts)))


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("kind", ["refused", "matched", "under a public suffix"])
def test_write_check_work_does_not_grow_with_the_labels(
    clients: dict[str, Any], policy: str, kind: str
) -> None:
    client = clients[policy]

    def work(labels: int) -> int:
        environ = {"HTTP_ORIGIN": origin(kind, labels), "HTTP_SEC_FETCH_SITE": "cross-site"}
        return lines_executed(lambda: client.put("/api/data", environ_overrides=environ))

    work(REQUEST_LABELS[0])  # first-time work (a log line said once, a cache entry)
    counts = [work(labels) for labels in REQUEST_LABELS]
    assert counts[0] > 0
    assert len(set(counts)) == 1, (policy, kind, dict(zip(REQUEST_LABELS, counts)))


def test_the_suffix_walk_agrees_with_the_rules_name_by_name() -> None:
    # crossed() reads a host's labels once; is_public() judges one name. For every
    # host built from the rules' own labels, the longest public ancestor is the same.
    below = suffixes_below("amazonaws.com")
    assert isinstance(below, SuffixesBelow) and below
    names = sorted(below.exact | below.wildcard | below.exceptions)[:300]
    parent = "amazonaws.com"
    start = 0
    for name in names:
        for host in (name, "x." + name, "y.x." + name):
            start = len(host) - len(parent)

            def naive(host: str = host, start: int = start) -> str | None:
                at = 0
                while at < start:
                    if below.is_public(host[at:]):
                        return host[at:]
                    at = host.find(".", at) + 1
                    if at == 0:
                        break
                return None

            assert below.crossed(host, start) == naive(), host


def test_same_length_origins_cost_about_the_same() -> None:
    # What counting lines cannot see (work inside the regex engine, slices and hashes
    # in C): a ratio of timings of two origins of the same length, one of 500
    # one-letter labels and one of a single long label, interleaved, best of many.
    # Before the fix the first cost about 40 times the second; the bound is loose.
    import timeit

    many = "https://" + "a." * 500 + "example.org"
    one = "https://" + "a" * 999 + ".example.org"
    assert len(many) == len(one)
    for patterns in (["https://*.example.com"], ["https://*.amazonaws.com"],
                     [f"https://*.p{i}.example.com" for i in range(1000)]):
        matcher, _ = compile_origins(patterns)
        assert matcher is not None
        best = {many: float("inf"), one: float("inf")}
        for _ in range(15):
            for value in (many, one):
                took = timeit.timeit(lambda m=matcher, v=value: m.check(v, "p"), number=200)
                best[value] = min(best[value], took)
        assert best[many] < 4 * best[one], (patterns, best)
