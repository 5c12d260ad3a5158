"""A wildcard origin never reaches across a public suffix below its parent.

``s3.amazonaws.com`` is on the Public Suffix List: anyone can own
``attacker-bucket.s3.amazonaws.com``, so ``https://*.amazonaws.com`` must not grant it.
publicsuffixlist's own ``is_public`` is the oracle for every rule below a parent.
"""

from __future__ import annotations

import pytest
from publicsuffixlist import PublicSuffixList

from flask_crossorigin.origins import compile_origins
from flask_crossorigin.suffixes import SuffixesBelow, _rules, suffixes_below

from .conftest import make_app
from .test_cli import WARNINGS, run

ORACLE = PublicSuffixList(accept_unknown=False)

# Parents that are not public suffixes themselves but have some below them.
PARENTS = ["amazonaws.com", "on.aws", "scw.cloud", "sagemaker.aws", "us-east-2.amazonaws.com",
           "amazonaws.com.cn"]


def hosts_across(parent: str) -> list[str]:
    """A host at, and one below, every public-suffix rule under ``parent``."""
    hosts = []
    for rule in _rules():
        if rule.endswith("." + parent) and not rule.startswith("!"):
            name = rule.replace("*", "anything")
            hosts += [name, "attacker." + name]
    return hosts


def crosses(host: str, parent: str) -> bool:
    # The oracle: is the host, or an ancestor strictly below the parent, public?
    labels = host[: -len(parent) - 1].split(".")
    return any(ORACLE.is_public(".".join(labels[i:]) + "." + parent)
               for i in range(len(labels)))


@pytest.mark.parametrize("parent", PARENTS)
def test_no_host_at_or_below_a_public_suffix_is_matched(parent: str) -> None:
    assert not ORACLE.is_public(parent)
    matcher, problems = compile_origins([f"https://*.{parent}"])
    assert matcher is not None and not problems
    hosts = hosts_across(parent)
    assert hosts
    for host in hosts:
        assert crosses(host, parent), host
        refusal = matcher.check(f"https://{host}", "p")
        assert refusal is not None and refusal.code == "origin-public-suffix", host
    # The parent's own subdomains are still matched.
    assert matcher.check(f"https://www.{parent}", "p") is None
    assert matcher.check(f"https://a.b-c.{parent}", "p") is None or crosses(
        f"a.b-c.{parent}", parent)


def test_the_reported_example_is_refused_on_requests_and_preflights() -> None:
    client = make_app(origins=["https://*.amazonaws.com"]).test_client()
    attacker = "https://attacker-bucket.s3.amazonaws.com"
    response = client.get("/api/data", headers={"Origin": attacker})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options("/api/data", headers={
        "Origin": attacker, "Access-Control-Request-Method": "PUT"})
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    # A host Amazon runs under the parent itself is still matched, and listing an
    # origin below a public suffix explicitly allows it.
    own = "https://console.amazonaws.com"
    assert client.get("/api/data", headers={"Origin": own}).headers[
        "Access-Control-Allow-Origin"] == own
    listed = make_app(origins=["https://*.amazonaws.com", attacker]).test_client()
    assert listed.get("/api/data", headers={"Origin": attacker}).headers[
        "Access-Control-Allow-Origin"] == attacker


def test_the_refusal_names_the_suffix_and_the_wildcard() -> None:
    matcher, _ = compile_origins(["https://*.amazonaws.com"])
    assert matcher is not None
    refusal = matcher.check("https://x.s3.amazonaws.com", "policy")
    assert refusal is not None
    assert "s3.amazonaws.com" in refusal.message
    assert "https://*.amazonaws.com" in refusal.message


def test_parents_without_suffixes_below_cost_nothing_extra() -> None:
    matcher, _ = compile_origins(["https://*.example.com"])
    assert matcher is not None and matcher.boundaries == {}


def test_rules_of_every_kind() -> None:
    # exact 'a.p', wildcard '*.w.p' (w.p is public too), exception '!ok.w.p'.
    below = SuffixesBelow(frozenset({"a.p"}), frozenset({"w.p"}), frozenset({"ok.w.p"}))
    parent_start = {"x.a.p": 4, "a.p": 2, "w.p": 2, "x.w.p": 4, "y.x.w.p": 6,
                    "ok.w.p": 5, "y.ok.w.p": 7, "b.p": 2, "y.b.p": 4}
    crossed = {host: below.crossed(host, start) for host, start in parent_start.items()}
    assert crossed == {"x.a.p": "a.p", "a.p": "a.p", "w.p": "w.p", "x.w.p": "x.w.p",
                       "y.x.w.p": "x.w.p", "ok.w.p": "w.p", "y.ok.w.p": "w.p",
                       "b.p": None, "y.b.p": None}


def test_lint_flags_a_wildcard_with_public_suffixes_below() -> None:
    result = run(make_app(origins=["https://*.amazonaws.com"]), "lint")
    assert result.exit_code == 1
    below = suffixes_below("amazonaws.com")
    expected = WARNINGS["wildcard-public-suffix"].format(
        entry="'https://*.amazonaws.com'", count=len(below),
        examples=", ".join(below.examples()))
    assert result.output.splitlines()[0] == "resources['/*']: " + expected
    assert run(make_app(origins=["https://*.example.com"]), "lint").exit_code == 0
