"""The documentation builds without a single warning, and every example in it runs.

The same two builds as ``tox -e docs`` (html, then the doctest builder), in a
temporary directory, so that the normal test suite guards the docs too.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from sphinx.cmd.build import build_main

from flask_crossorigin import OPTIONS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def sphinx_build(builder: str, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = build_main([
        "-W", "--keep-going", "-q",
        "-b", builder,
        "-d", str(out / "doctrees"),
        str(DOCS), str(out / builder),
    ])
    output = capsys.readouterr()
    assert status == 0, f"sphinx-build -W -b {builder} failed:\n{output.err}\n{output.out}"


def test_html_builds_without_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sphinx_build("html", tmp_path, capsys)
    reference = (tmp_path / "html" / "configuration.html").read_text(encoding="utf-8")
    for option in OPTIONS:  # the reference is generated from the option table
        assert f'id="corsoption-{option.name}"' in reference, option.name
        assert option.config_key in reference, option.config_key
    changelog = (tmp_path / "html" / "changelog.html").read_text(encoding="utf-8")
    assert "Unreleased" in changelog  # CHANGELOG.md is included
    check_console_texts_are_quoted_literally(tmp_path / "html" / "troubleshooting.html")


#: Chromium's console texts, as a developer would paste them into the page's search.
CONSOLE_TEXTS = [
    "has been blocked by CORS policy:",
    "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
    "The value of the 'Access-Control-Allow-Origin' header in the response must not be the "
    "wildcard '*' when the request's credentials mode is 'include'.",
    "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which "
    "must be 'true' when the request's credentials mode is 'include'.",
    "that is not equal to the supplied origin.",
    "header contains multiple values",
    "but only one is allowed.",
    "Response to preflight request doesn't pass access control check: It does not have HTTP "
    "ok status.",
    "Response to preflight request doesn't pass access control check: Redirect is not allowed "
    "for a preflight request.",
    "TypeError: Failed to fetch",
]


def check_console_texts_are_quoted_literally(page: Path) -> None:
    """Each console text appears, character for character, in the page's visible text.

    Emphasis markup ate the wildcard '*' of one message, and smart quotes turn the
    console's ' into a typographic quote outside literals: both break a search.
    """
    parser = _TextOf()
    parser.feed(page.read_text(encoding="utf-8"))
    text = " ".join("".join(parser.parts).split())
    missing = [console for console in CONSOLE_TEXTS if console not in text]
    assert missing == [], f"not found literally in {page.name}: {missing}"


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def test_doctests_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sphinx_build("doctest", tmp_path, capsys)


def rst_headings(path: Path) -> list[tuple[int, str, str]]:
    """``(line index, title, underline character)`` of every section heading."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for i in range(1, len(lines)):
        line, title = lines[i], lines[i - 1].strip()
        if (title and len(line) >= 3 and len(set(line)) == 1 and line[0] in "=-^~\""
                and len(line) == len(lines[i - 1]) and not title.startswith("..")):
            found.append((i, title, line[0]))
    return found


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.rst")))
def test_headings_are_unique_and_none_is_empty(page: str) -> None:
    """What the migration guide once shipped: "Resources" twice, empty "Preflights"."""
    path = DOCS / page
    lines = path.read_text(encoding="utf-8").splitlines()
    headings = rst_headings(path)
    titles = [title for _, title, _ in headings]
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)
    levels: list[str] = []  # underline characters in the order they first appear
    for _, _, char in headings:
        if char not in levels:
            levels.append(char)
    for k, (at, title, char) in enumerate(headings):
        end = headings[k + 1][0] - 1 if k + 1 < len(headings) else len(lines)
        body = [line for line in lines[at + 1:end] if line.strip()]
        deeper = k + 1 < len(headings) and levels.index(headings[k + 1][2]) > levels.index(char)
        assert body or deeper, f"{page}: heading {title!r} is empty"


def test_migration_guide_describes_the_release_the_suite_runs() -> None:
    text = (DOCS / "migrating.rst").read_text(encoding="utf-8")
    assert "flask-cors 6.0.5" in text and "6.0.2" not in text
