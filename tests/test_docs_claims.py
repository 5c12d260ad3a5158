"""What the docs say the code does, checked against what it does.

Three kinds of statement drifted from the code before (issue 17), so each is a table
here, and each row pairs a phrase the docs contain with the behaviour it describes:

* what is a start-up error, what a warning and what starts quietly (``CLAIMS``); and
  every sentence in the docs that calls a configuration "an error" must be one of them;
* which CORS headers a response carries (``HEADER_CLAIMS``);
* which console message Chromium prints for which cause: every message
  docs/troubleshooting.rst quotes has a case in tests/browser/troubleshooting_cases.py,
  which tests/browser/test_troubleshooting.py runs in Chromium.

A changed sentence fails here until its row says the same, and is true.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from flask import Flask

from flask_crossorigin import CORS, ConfigurationError, ConfigurationWarning

from .browser.troubleshooting_cases import CASES, NOT_CORS

ROOT = Path(__file__).resolve().parent.parent
DOCS = [*sorted((ROOT / "docs").glob("*.rst")), ROOT / "README.md"]


def flat(path: Path) -> str:
    """The file's text with every run of whitespace made one space (claims span lines)."""
    return " ".join(path.read_text(encoding="utf-8").split())


@dataclass(frozen=True)
class Claim:
    """A phrase of a doc, and what starting an app with these options does."""

    doc: str
    phrase: str
    options: dict[str, Any]
    outcome: str  # "error", "warning" or "starts"
    #: A text the error or warning message must contain (the fix it names).
    says: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    #: Called with the app after a quiet start, for what "starts" means (read as a list...).
    then: Callable[[Flask], None] | None = None


def methods_of(app: Flask) -> tuple[str, ...]:
    policy = app.extensions["crossorigin"].table.lookup("/")[1]
    methods: tuple[str, ...] = policy.settings["methods"]
    return methods


def read_as_list(app: Flask) -> None:
    assert methods_of(app) == ("GET", "POST")


CLAIMS = [
    # Origins that can never match: warned about, ignored, the app starts.
    Claim("quickstart.rst", "One written with a trailing slash or a path can never match: the "
          "app starts, ignores it, and emits a :class:`~flask_crossorigin.ConfigurationWarning`",
          {"origins": ["http://localhost:8000/"]}, "warning", "'http://localhost:8000'"),
    Claim("quickstart.rst", "One written with a trailing slash or a path can never match",
          {"origins": ["http://localhost:8000/app"]}, "warning", "has a path"),
    Claim("README.md", "what is safe but can never match (a trailing slash, no scheme) is a "
          "`ConfigurationWarning` with the fix, and the app starts",
          {"origins": ["app.example.com"]}, "warning", "'https://app.example.com'"),
    *[Claim("origins.rst", "Any other spelling could never match: the app starts, ignores the "
            "entry and emits a :class:`~flask_crossorigin.ConfigurationWarning` that gives the "
            "form to write", {"origins": [written]}, "warning", f"'{fix}'")
      for written, fix in [("http://127.000.000.001", "http://127.0.0.1"),
                           ("http://0x7f.0.0.1", "http://127.0.0.1"),
                           ("http://127.1", "http://127.0.0.1"),
                           ("http://010.0.0.1", "http://8.0.0.1"),
                           ("http://[0:0:0:0:0:0:0:1]:8080", "http://[::1]:8080"),
                           ("http://[::ffff:127.0.0.1]", "http://[::ffff:7f00:1]")]],
    *[Claim("origins.rst", "a host ending in a number that is not an address) warn too, and "
            "are ignored", {"origins": [written]}, "warning")
      for written in ("http://256.1.1.1", "http://[1::2::3]", "http://example.123")],
    Claim("origins.rst", "a ``*`` that repeats a single character where a glob was meant is an "
          "error saying what the regex really matches", {"origins": ["http://localhost:*"]},
          "error", "repeats the ':'"),
    Claim("origins.rst", "A wildcard on an IP address (``https://*.10.0.0.1``) never matches, "
          "and warns", {"origins": ["https://*.10.0.0.1"]}, "warning"),
    Claim("origins.rst", "Wildcards are refused on public suffixes",
          {"origins": ["https://*.github.io"]}, "error", "public suffix"),
    # Values.
    Claim("configuration.rst", "A single string with commas in it (``\"GET, POST\"``) is read as "
          "the list it means", {"methods": "GET, POST"}, "starts", then=read_as_list),
    *[Claim("configuration.rst", "``\"*\"`` together with names is an error in "
            ":corsoption:`methods`, :corsoption:`allow_headers` and "
            ":corsoption:`expose_headers`", {name: ["*", "X-Name"]}, "error",
            "keep either '*' or the names")
      for name in ("methods", "allow_headers", "expose_headers")],
    Claim("configuration.rst", "in :corsoption:`origins` it warns, and the other entries are "
          "ignored", {"origins": ["*", "https://a.example"]}, "warning"),
    Claim("configuration.rst", "whitespace around an origin or a name (a line break at the end "
          "of a secret file, a space after a comma) is dropped",
          {"origins": [" https://b.example.com\n"], "methods": "GET,\tPOST\n"}, "starts",
          then=read_as_list),
    Claim("configuration.rst", "``FLASK_CORS_SUPPORTS_CREDENTIALS=True`` gives the string "
          "``'True'``, and the error says to write ``true``", {}, "error",
          "FLASK_CORS_SUPPORTS_CREDENTIALS=true",
          config={"CORS_SUPPORTS_CREDENTIALS": "True"}),
    Claim("configuration.rst", "an unknown ``CORS_*`` key in ``app.config``", {}, "warning",
          "CORS_HEADERS", config={"CORS_HEADERS": "Content-Type"}),
    # The migration guide's differences.
    Claim("migrating.rst", "``supports_credentials=True`` with ``origins=\"*\"`` is an error",
          {"supports_credentials": True}, "error", "cannot be combined with origins='*'"),
    Claim("migrating.rst", "``\":*\"`` is an error", {"origins": ["http://localhost:*"]},
          "error"),
    Claim("migrating.rst", "wildcards on public suffixes are errors",
          {"origins": ["https://*.co.uk"]}, "error"),
    Claim("migrating.rst", "unknown options are errors", {"orgins": ["https://a.example"]},
          "error", "did you mean 'origins'?"),
    Claim("migrating.rst", "unknown ``CORS_*`` keys warn", {}, "warning", "CORS_ORIGIN",
          config={"CORS_ORIGIN": "https://a.example"}),
    Claim("migrating.rst", "one that repeats a single character where \"anything\" was meant is "
          "an error saying what the regex really matches",
          {"origins": [r"http[s]?://(localhost|127\.0\.0\.1):*"]}, "error"),
    Claim("migrating.rst", "``expose_headers=\"*\"`` with credentials is an error",
          {"expose_headers": "*", "supports_credentials": True,
           "origins": ["https://a.example"]}, "error"),
    Claim("migrating.rst", "an unescaped ``.`` before a name warns",
          {"origins": [r"https://app.example\.com"]}, "warning", "unescaped '.'"),
    Claim("migrating.rst", "a string of digits, or a ``timedelta`` of whole seconds; anything "
          "else is an error", {"max_age": 1.5}, "error", "max_age"),
    Claim("migrating.rst", "``\"NULL\"`` in capitals", {"origins": ["NULL"]}, "warning",
          "lowercase"),
    Claim("migrating.rst", "a wildcard on an IP address (``\"http://*.10.0.0.1\"``)",
          {"origins": ["http://*.10.0.0.1"]}, "warning"),
    Claim("migrating.rst", "``origins=[]``: grants nothing", {"origins": []}, "starts"),
    Claim("README.md", "What is insecure or unusable is an error",
          {"origins": ["https://*.github.io", "http://localhost:*"], "max_age": -1}, "error",
          "3 problems"),
    Claim("resources.rst", "``\"api/*\"`` is an error whose message suggests ``\"/api/*\"``",
          {"resources": {"api/*": {}}}, "error", "'/api/*'"),
    Claim("security.rst", "is an error saying what the regex matches",
          {"origins": ["http://localhost:*"]}, "error"),
    Claim("security.rst", "Wildcards on entries of the Public Suffix List are errors",
          {"origins": ["https://*.herokuapp.com"]}, "error"),
    Claim("security.rst", "(on IP addresses they never match, and warn)",
          {"origins": ["https://*.192.168.0.1"]}, "warning"),
    Claim("security.rst", "a trailing slash, a path, userinfo or a default port can never match: "
          "a warning with the fix, and the entry is ignored",
          {"origins": ["https://user@a.example"]}, "warning", "user info"),
]

#: Sentences that say "is an error" about something other than a configuration.
NOT_CONFIGURATION = [
    ("troubleshooting.rst", "the response is an error (status 400 or more)"),
    ("migrating.rst", "a second ``CORS(app)`` or ``init_app(app)`` on the same app is an error"),
    ("migrating.rst", "``CORS(app)`` twice is an error"),
    ("configuration.rst", "has the table of which configurations are errors"),
    ("README.md", "build it (warnings are errors)"),
    ("troubleshooting.rst", "The extension never grants a preflight whose answer is an error"),
]

def above_the_route_is_an_error() -> None:
    from flask_crossorigin import cross_origin

    app = Flask(__name__)

    @cross_origin(origins=["https://a.example"])
    @app.route("/v")
    def v() -> str:
        return "v"

    with pytest.raises(ConfigurationError, match="the route registered this function before"):
        CORS(app)


def unseen_decorators_are_errors() -> None:
    """Above the route, stacked, or hidden behind a wrapper the extension cannot see into."""
    from flask_crossorigin import cross_origin

    above_the_route_is_an_error()
    with pytest.raises(ConfigurationError, match="already has a @cross_origin policy"):
        cross_origin(origins=["https://a.example"])(cross_origin()(lambda: "x"))
    hidden: dict[str, Callable[[], str]] = {}

    def by_name(view: Callable[[], str]) -> Callable[[], str]:
        hidden["v"] = view
        return lambda: hidden["v"]()

    app = Flask(__name__)
    app.add_url_rule("/v", "v", by_name(cross_origin(origins=["https://a.example"])(lambda: "v")))
    CORS(app)
    app.testing = True
    with pytest.raises(ConfigurationError, match="cannot find it among the views"):
        app.test_client().get("/v")


#: Sentences calling a decorator's placement an error, and the check that it is
#: (tests/test_view_policies.py tests the whole class).
DECORATOR_CLAIMS = [
    ("decorator.rst", "Put it **below** ``@app.route``, so that the route registers the "
     "decorated function (above it, it is an error)", above_the_route_is_an_error),
    ("decorator.rst", "What the extension cannot see is an error, never a quiet fallback to "
     "another policy", unseen_decorators_are_errors),
    ("migrating.rst", "``@cross_origin`` above the route, two decorators on one view, and a "
     "wrapper that hides the decorated function from the extension are",
     unseen_decorators_are_errors),
    ("migrating.rst", "a decorator's policy is used for preflights too, wherever it sits (under "
     "wrappers, on a ``MethodView`` method); misplaced decorators are errors",
     above_the_route_is_an_error),
]


@pytest.mark.parametrize(("doc", "phrase", "check"), DECORATOR_CLAIMS,
                         ids=[f"{doc}:{phrase[:30]}" for doc, phrase, _ in DECORATOR_CLAIMS])
def test_the_docs_say_which_decorator_placements_are_errors(
    doc: str, phrase: str, check: Callable[[], None]
) -> None:
    assert " ".join(phrase.split()) in flat(ROOT / "docs" / doc), phrase
    check()


ERROR_CLAIM = re.compile(r"\b(?:is an error|are errors|an error (?:that|saying|whose))\b")


def start(claim: Claim) -> tuple[str, str, Flask]:
    """Start an app as the claim says: the outcome, the message, and the app."""
    app = Flask(__name__)
    app.config.update(claim.config)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            CORS(app, **claim.options)
        except ConfigurationError as error:
            return "error", str(error), app
    found = [str(w.message) for w in caught if issubclass(w.category, ConfigurationWarning)]
    return ("warning", " ".join(found), app) if found else ("starts", "", app)


@pytest.mark.parametrize("claim", CLAIMS, ids=[f"{c.doc}:{c.options}" for c in CLAIMS])
def test_the_docs_say_what_start_up_does(claim: Claim) -> None:
    assert " ".join(claim.phrase.split()) in flat(ROOT / "docs" / claim.doc
                                                  if claim.doc != "README.md"
                                                  else ROOT / claim.doc), claim.phrase
    outcome, message, app = start(claim)
    assert outcome == claim.outcome, message
    assert claim.says in message
    if claim.then is not None:
        claim.then(app)


def test_the_second_cors_call_is_an_error() -> None:
    app = Flask(__name__)
    CORS(app)
    with pytest.raises(ConfigurationError, match="already initialised"):
        CORS(app)


@pytest.mark.parametrize("path", DOCS, ids=[path.name for path in DOCS])
def test_every_error_the_docs_name_is_a_checked_claim(path: Path) -> None:
    """A sentence calling a configuration an error is in CLAIMS (or is about something else)."""
    text = flat(path)
    covered: list[tuple[int, int]] = []
    phrases = [c.phrase for c in CLAIMS if c.doc == path.name]
    phrases += [phrase for doc, phrase in NOT_CONFIGURATION if doc == path.name]
    phrases += [phrase for doc, phrase, _ in DECORATOR_CLAIMS if doc == path.name]
    for phrase in phrases:
        for found in re.finditer(re.escape(" ".join(phrase.split())), text):
            covered.append(found.span())
    unchecked = [
        text[max(0, m.start() - 80):m.end()] for m in ERROR_CLAIM.finditer(text)
        if not any(start <= m.start() and m.end() <= end for start, end in covered)
    ]
    assert unchecked == [], f"{path.name}: add these to CLAIMS in {__file__}"


# -- headers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderClaim:
    """A phrase of a doc, and the headers of a response to a request under some options."""

    doc: str
    phrase: str
    options: dict[str, Any]
    request: dict[str, str]
    #: Header -> value (``None``: absent). For Vary, the names it must list.
    expected: dict[str, str | None]


PAGE = "https://page.example"

HEADER_CLAIMS = [
    HeaderClaim("migrating.rst", "Without credentials, an any-origin policy echoes the request's "
                "origin in ``Access-Control-Allow-Origin`` (with ``Vary: Origin``; ``*`` only "
                "with ``send_wildcard=True``) and never sends "
                "``Access-Control-Allow-Credentials``", {}, {"Origin": PAGE},
                {"Access-Control-Allow-Origin": PAGE, "Vary": "Origin",
                 "Access-Control-Allow-Credentials": None}),
    HeaderClaim("migrating.rst", "``*`` only with ``send_wildcard=True``",
                {"send_wildcard": True}, {"Origin": PAGE},
                {"Access-Control-Allow-Origin": "*", "Vary": "Origin"}),
    HeaderClaim("migrating.rst", "but always answers ``*``: a malformed value is never echoed",
                {}, {"Origin": "www.example.com"}, {"Access-Control-Allow-Origin": "*"}),
    HeaderClaim("migrating.rst", "an any-origin policy sends ``*`` to requests without "
                "``Origin``", {}, {}, {"Access-Control-Allow-Origin": "*"}),
    HeaderClaim("migrating.rst", "a policy with listed origins sends nothing but "
                "``Vary: Origin``", {"origins": [PAGE]}, {},
                {"Access-Control-Allow-Origin": None, "Vary": "Origin"}),
    HeaderClaim("origins.rst", "every origin, echoed (``send_wildcard=True`` answers ``*``)",
                {"origins": "*"}, {"Origin": PAGE}, {"Access-Control-Allow-Origin": PAGE}),
    HeaderClaim("security.rst", "an any-origin policy grants it as ``*`` (never echoing it)",
                {}, {"Origin": "https://a.example/"}, {"Access-Control-Allow-Origin": "*"}),
    HeaderClaim("troubleshooting.rst", "an any-origin policy (``origins=\"*\"``, the default), "
                "which echoes every origin but never allows credentials", {},
                {"Origin": PAGE, "Cookie": "session=1"},
                {"Access-Control-Allow-Origin": PAGE,
                 "Access-Control-Allow-Credentials": None}),
]


@pytest.mark.parametrize("claim", HEADER_CLAIMS, ids=[c.phrase[:40] for c in HEADER_CLAIMS])
def test_the_docs_say_which_headers_are_sent(claim: HeaderClaim) -> None:
    path = ROOT / claim.doc if claim.doc == "README.md" else ROOT / "docs" / claim.doc
    assert " ".join(claim.phrase.split()) in flat(path), claim.phrase
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return "index"

    CORS(app, **claim.options)
    response = app.test_client().get("/", headers=claim.request)
    for name, value in claim.expected.items():
        if name == "Vary":
            assert value in [v.strip() for v in response.headers.get("Vary", "").split(",")]
        else:
            assert response.headers.get(name) == value, (name, dict(response.headers))


def test_the_demo_page_explains_what_the_public_route_sends() -> None:
    """The demo's "why" texts for the one-liner describe its real answer."""
    example_app = pytest.importorskip("example_app")
    app = example_app.create_app({"DEMO_FRONTEND_ORIGIN": PAGE})
    response = app.test_client().get("/public/hello", headers={"Origin": PAGE})
    assert response.headers["Access-Control-Allow-Origin"] == PAGE  # echoed, not '*'
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    demo = (ROOT / "example_app" / "static" / "demo.js").read_text()
    assert "it echoes the page's origin in Access-Control-Allow-Origin (with Vary: Origin)" in demo
    assert "an any-origin policy echoes the origin but never sends Allow-Credentials" in demo
    assert "Allow-Origin: *" not in demo


# -- browser messages ----------------------------------------------------------------------


def quoted_console_messages() -> list[str]:
    """The console messages docs/troubleshooting.rst explains: its definition terms."""
    text = (ROOT / "docs" / "troubleshooting.rst").read_text(encoding="utf-8")
    return [line[2:-2] for line in text.splitlines()
            if line.startswith("``") and line.endswith("``") and "`` " not in line[2:-2]]


def matches(quoted: str, printed: str) -> bool:
    """``'...'`` in the page stands for a value (the origin, the header's value)."""
    pattern = ".*?".join(re.escape(part) for part in quoted.split("..."))
    return re.fullmatch(pattern, printed) is not None


def test_every_quoted_console_message_has_a_browser_case() -> None:
    quoted = quoted_console_messages()
    assert len(quoted) >= 8
    printed = [case.message.format(origin="http://localhost:5001") for case in CASES]
    missing = [q for q in quoted if not any(matches(q, p) for p in printed)]
    assert missing == [], "quoted without a case in tests/browser/troubleshooting_cases.py"
    unquoted = [p for p in printed if not any(matches(q, p) for q in quoted)]
    assert unquoted == []
    assert f"``{NOT_CORS}``" in (ROOT / "docs" / "troubleshooting.rst").read_text()
