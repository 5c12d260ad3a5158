"""The documentation builds without a single warning, and every example in it runs.

The same two builds as ``tox -e docs`` (html, then the doctest builder), in a
temporary directory, so that the normal test suite guards the docs too.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sphinx.cmd.build import build_main

from flask_crossorigin import OPTIONS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


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


# -- the README's build command, on a fresh clone -------------------------------------------


def readme_docs_commands() -> list[str]:
    """The commands of the README's "Documentation" section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Documentation"):]
    block = section[section.index("```bash") + len("```bash"):]
    block = block[:block.index("```")]
    return [line.split("  #")[0].strip() for line in block.strip().splitlines()]


def docs_extra() -> set[str]:
    """The distributions of the ``[docs]`` extra (tomllib is not in Python 3.9 and 3.10)."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^docs = \[(.*?)^\]", pyproject, re.MULTILINE | re.DOTALL)
    assert block is not None
    specs = re.findall(r'^\s+"([^"]+)"', block[1], re.MULTILINE)
    return {re.split(r"[<>=\[ ]", spec, maxsplit=1)[0].lower() for spec in specs}


def test_the_docs_extra_has_everything_the_build_imports() -> None:
    """What a plain sphinx-build lacked: the theme and myst_parser come with '.[docs]'."""
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    extensions = re.findall(r'^\s+"([\w.]+)",', conf[conf.index("extensions = ["):],
                            re.MULTILINE)
    theme = re.search(r'^html_theme = "(\w+)"', conf, re.MULTILINE)
    assert theme is not None
    local = {path.stem for path in (DOCS / "_ext").glob("*.py")}
    needed = {"sphinx", theme[1]}
    needed |= {name.split(".")[0].replace("_", "-") for name in extensions
               if name.split(".")[0] not in local | {"sphinx"}}
    assert needed <= docs_extra(), needed - docs_extra()


def test_the_readme_builds_the_docs_from_a_fresh_clone(tmp_path: Path) -> None:
    """The README's commands, run in a copy of the tracked files only (no build output,
    no installed copy of the package on the path)."""
    commands = readme_docs_commands()
    assert commands[0] == "python -m pip install -e '.[docs]'"
    builds = commands[1:]
    assert [command.split()[6] for command in builds] == ["html", "doctest"]
    # What a clone holds: the tracked files, as this checkout has them.
    clone = tmp_path / "clone"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                             capture_output=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            target = clone / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    for command in builds:
        args = shlex.split(command)
        assert args[:3] == ["python", "-m", "sphinx"]
        done = subprocess.run([sys.executable, *args[1:]], cwd=clone, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (clone / "docs" / "_build" / "html" / "index.html").is_file()
