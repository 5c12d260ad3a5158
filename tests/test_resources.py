"""The resource table: pattern kinds, the most-specific rule, case and '+' handling."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_crossorigin import CORS
from flask_crossorigin.resources import ResourcePattern, ResourceTable


def table(*patterns: Any) -> ResourceTable[str]:
    return ResourceTable([(ResourcePattern(p), str(p)) for p in patterns])


def winner(t: ResourceTable[str], path: str) -> str | None:
    hit = t.lookup(path)
    return hit[1] if hit else None


@pytest.mark.parametrize(("path", "matches"), [
    ("/api", True), ("/api/", True), ("/api/users", True), ("/api/a/b/c", True),
    ("/apiary", False), ("/Api/users", False), ("/", False), ("/v1/api", False),
])
def test_slash_star_means_the_path_and_everything_below(path: str, matches: bool) -> None:
    assert ResourcePattern("/api/*").matches(path) is matches


@pytest.mark.parametrize("pattern", ["*", "/*"])
def test_star_patterns_match_everything(pattern: str) -> None:
    p = ResourcePattern(pattern)
    assert all(p.matches(path) for path in ("/", "/a", "/a/b"))


def test_exact_pattern() -> None:
    p = ResourcePattern("/static/app.js")
    assert p.kind == "exact"
    assert p.matches("/static/app.js")
    assert not p.matches("/static/appxjs")


def test_inner_star_is_one_segment() -> None:
    p = ResourcePattern("/users/*/posts")
    assert p.matches("/users/42/posts")
    assert not p.matches("/users/42/x/posts")


def test_regex_matches_the_whole_path() -> None:
    p = ResourcePattern(r"/api/v\d+/.*")
    assert p.kind == "regex"
    assert p.matches("/api/v2/users")
    assert not p.matches("/x/api/v2/users")
    assert not p.matches("/api/v2")


def test_compiled_regex_pattern() -> None:
    p = ResourcePattern(re.compile(r"/files/[a-z]+"))
    assert p.matches("/files/abc")
    assert not p.matches("/files/abc/def")


def test_most_specific_wins_whatever_the_order() -> None:
    patterns = ["/*", "/api/*", "/api/v1/*", r"/api/v1/users/\d+", "/api/v1/users/me"]
    for ordering in (patterns, list(reversed(patterns))):
        t = table(*ordering)
        assert winner(t, "/api/v1/users/me") == "/api/v1/users/me"
        assert winner(t, "/api/v1/users/7") == r"/api/v1/users/\d+"
        assert winner(t, "/api/v1/other") == "/api/v1/*"
        assert winner(t, "/api/v2") == "/api/*"
        assert winner(t, "/api") == "/api/*"
        assert winner(t, "/home") == "/*"


def test_longer_catch_all_does_not_beat_a_specific_pattern() -> None:
    t = table(r"/.*/.*/.*/.*", "/admin/*")
    assert winner(t, "/admin/a/b/c") == "/admin/*"


def test_on_equal_prefixes_a_catch_all_never_hides_a_narrower_pattern() -> None:
    t = table("/api/*", r"/api/.*/x", "/api/*/x")
    assert winner(t, "/api/a/x") == "/api/*/x"       # glob first
    assert winner(t, "/api/a/b/x") == r"/api/.*/x"   # then regex
    assert winner(t, "/api/a/y") == "/api/*"          # then the catch-all
    users = table("/api/users/*", r"/api/users/\d+")
    assert winner(users, "/api/users/42") == r"/api/users/\d+"
    assert winner(users, "/api/users/me") == "/api/users/*"


def test_no_match() -> None:
    assert winner(table("/api/*"), "/other") is None
    assert winner(table(), "/other") is None


def test_deep_paths_and_many_patterns() -> None:
    t = table(*[f"/api/v{i}/*" for i in range(1000)])
    assert winner(t, "/api/v999/a/b") == "/api/v999/*"
    assert winner(t, "/api/v1000/a") is None


def resource_app(resources: Any) -> Flask:
    app = Flask(__name__)
    for rule in ("/admin", "/Admin", "/api/a+b", "/api/users", "/public"):
        app.add_url_rule(rule, rule, lambda: "ok")
    CORS(app, resources=resources)
    return app


def allowed(app: Flask, path: str, origin: str) -> str | None:
    return app.test_client().get(path, headers={"Origin": origin}).headers.get(
        "Access-Control-Allow-Origin")


def test_paths_match_case_sensitively() -> None:
    app = resource_app({"/admin": {"origins": ["https://admin.example"]},
                        "/*": {"origins": ["https://public.example"]}})
    assert allowed(app, "/admin", "https://admin.example") == "https://admin.example"
    assert allowed(app, "/Admin", "https://admin.example") is None
    assert allowed(app, "/Admin", "https://public.example") == "https://public.example"


def test_plus_is_not_decoded_to_a_space() -> None:
    app = resource_app({"/api/a+b": {"origins": ["https://plus.example"]},
                        "/api/a b": {"origins": ["https://space.example"]}})
    assert allowed(app, "/api/a+b", "https://plus.example") == "https://plus.example"
    assert allowed(app, "/api/a+b", "https://space.example") is None


def test_resources_as_list_and_string_use_the_app_options() -> None:
    for resources in (["/api/*"], "/api/*", re.compile(r"/api/.*")):
        app = resource_app(resources)
        assert allowed(app, "/api/users", "https://x.example") == "https://x.example"
        assert allowed(app, "/public", "https://x.example") is None


def test_resource_options_override_app_options() -> None:
    app = Flask(__name__)
    app.add_url_rule("/api/users", "u", lambda: "ok")
    app.add_url_rule("/public", "p", lambda: "ok")
    CORS(app, origins=["https://app.example"],
         resources={"/api/*": {"origins": ["https://api.example"]}, "/*": {}})
    assert allowed(app, "/api/users", "https://api.example") == "https://api.example"
    assert allowed(app, "/api/users", "https://app.example") is None
    assert allowed(app, "/public", "https://app.example") == "https://app.example"


def test_the_policy_cache_is_bounded_and_answers_like_the_table() -> None:
    from flask_crossorigin import extension

    app = Flask(__name__)
    CORS(app, resources={"/api/*": {}, r"/api/v\d+/.*": {"expose_headers": ["X-V"]}})
    client = app.test_client()
    state = app.extensions["crossorigin"]
    for i in range(extension.CACHE_SIZE + 10):
        response = client.get(f"/api/v{i}/x", headers={"Origin": "https://a.example"})
        assert response.headers["Access-Control-Expose-Headers"] == "X-V"
        assert 0 < len(state._policies) <= extension.CACHE_SIZE
    long_path = "/api/" + "a" * extension.CACHE_PATH_LENGTH
    assert client.get(long_path, headers={"Origin": "https://a.example"}).status_code == 404
    assert (None, long_path) not in state._policies


def test_lookup_probes_only_bucket_depths_so_many_slashes_cost_little() -> None:
    t = table("/api/*", "/a/*/b")
    probed: list[str] = []

    class CountingBuckets(dict):  # type: ignore[type-arg]
        def get(self, key: Any, default: Any = None) -> Any:
            probed.append(key)
            return super().get(key, default)

    t._buckets = CountingBuckets(t._buckets)  # type: ignore[assignment]
    for n in (1_000, 10_000):
        probed.clear()
        assert winner(t, "/" * n) is None
        assert sum(map(len, probed)) <= 16  # only prefixes as long as some bucket key


SEGMENTS = st.sampled_from(["a", "b", "ab", "ba", "", "x1"])
GLOB_SEGMENTS = st.sampled_from(["*", "a*", "*b", "a*b", "*a*", "x*1", "**"])


@st.composite
def patterns(draw: st.DrawFn) -> str | re.Pattern[str]:
    kind = draw(st.sampled_from(["exact", "prefix", "glob", "glob-rest", "regex"]))
    if kind == "regex":
        return draw(st.sampled_from([r"/a/[ab]+", r"/a/.*", re.compile(r"/b/\w*/a"), r"/(a|b)/x1"]))
    parts = draw(st.lists(st.one_of(SEGMENTS, GLOB_SEGMENTS) if kind.startswith("glob")
                          else SEGMENTS, min_size=1, max_size=4))
    if kind.startswith("glob") and not any("*" in part for part in parts):
        parts[-1] = "*" + parts[-1]
    text = "/" + "/".join(parts)
    return text + "/*" if kind in ("prefix", "glob-rest") else text


@given(st.lists(patterns(), min_size=1, max_size=25),
       st.lists(st.lists(SEGMENTS, max_size=5).map(lambda p: "/" + "/".join(p)), max_size=12))
@settings(max_examples=300, deadline=None)
def test_lookup_finds_the_most_specific_match_as_a_scan_would(
    written: list[Any], paths: list[str]
) -> None:
    # The indexes (buckets of literal prefixes, a tree of glob segments) answer
    # exactly what trying every pattern in order of specificity answers.
    entries = [(ResourcePattern(p), i) for i, p in enumerate(written)]
    t = ResourceTable(entries)
    for path in [*paths, "/a", "/a/b", "/a/ab/x1", "/ab/b/a/"]:
        exact = [e for e in entries if e[0].kind == "exact" and e[0].text == path]
        matching = [(e[0].sort_key(i), e) for i, e in enumerate(entries) if e[0].matches(path)]
        expected = exact[0] if exact else (min(matching)[1] if matching else None)
        hit = t.lookup(path)
        assert (hit[1] if hit else None) == (expected[1] if expected else None), path


def test_a_thousand_globs_sharing_a_prefix_are_not_tried_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t = table(*(f"/api/*/x{i}" for i in range(1000)), *(f"/api/v{i}*/y" for i in range(1000)))
    tried: list[str] = []
    original = ResourcePattern.matches

    def counting(self: ResourcePattern, path: str) -> bool:
        tried.append(self.text)
        return original(self, path)

    monkeypatch.setattr(ResourcePattern, "matches", counting)
    assert winner(t, "/api/" + "s" * 300 + "/x999") == "/api/*/x999"
    assert winner(t, "/api/v999abc/y") == "/api/v999*/y"
    assert winner(t, "/api/v1/z") is None
    assert tried == []  # globs are found by walking segments, never by trying each
