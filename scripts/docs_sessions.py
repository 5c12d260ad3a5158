"""The ``flask cors`` sessions shown in the docs, checked against (or rewritten from) real runs.

    python scripts/docs_sessions.py           # check: a diff per session that differs, status 1
    python scripts/docs_sessions.py --write   # rewrite those sessions with what the tools print

Two kinds of session are found in ``docs/*.rst``:

* in docs/cli.rst, a hidden ``.. testcode:: cli`` of ``shell("flask --app ...")`` calls
  and the ``.. testoutput:: cli`` after it (the doctest build runs them too);
* anywhere, a ``.. code-block:: console`` (in README.md, a ```` ```console ```` block)
  whose first line is ``$ flask --app example_app cors ...`` (the demo API): each
  ``$ flask`` line is run (``$ echo $?`` prints the status), and the lines after it
  are its output.

Each runs in this process as the ``flask`` command does, in an 80-column terminal,
with the ``shell()`` helper of docs/cli.rst's ``testsetup``. Output is compared as
the doctest build compares it (``...`` matches anything, runs of whitespace match).
``--write`` keeps the ``...`` of a session where they still stand for something (a
request id, a time, a part left out) and takes every other line from the real run;
read the diff (``git diff docs/``) before committing it.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import doctest
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
_CHECKER = doctest.OutputChecker()
_DIRECTIVE = re.compile(r"^(\s*)\.\. (testcode|testoutput|code-block)::\s*(\S*)\s*$")


@dataclass
class Session:
    """One session: where its shown output is (``start:end`` lines of ``page``), the
    code that prints it, and the output as shown (dedented)."""

    page: Path
    start: int
    end: int
    indent: str
    code: str
    shown: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.start + 1}"


def _body(lines: list[str], start: int, directive_indent: str) -> tuple[int, int, str, int]:
    """The body of the directive on line ``start``: (first, end, indent, options end)."""
    index = start + 1
    while index < len(lines) and lines[index].strip().startswith(":"):
        index += 1  # options (:hide:)
    while index < len(lines) and not lines[index].strip():
        index += 1
    first = index
    if first >= len(lines):
        return first, first, "", first
    indent = re.match(r"\s*", lines[first]).group(0)  # type: ignore[union-attr]
    if len(indent) <= len(directive_indent):
        return first, first, indent, first
    end = first
    for index in range(first, len(lines)):
        line = lines[index]
        if line.strip() and not line.startswith(indent):
            break
        if line.strip():
            end = index + 1
    return first, end, indent, first


def _dedent(lines: list[str], indent: str) -> str:
    return "".join(line[len(indent):] if line.startswith(indent) else line.lstrip(" ")
                   for line in lines)


def sessions(page: Path) -> Iterator[Session]:
    lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
    pending: str | None = None  # the code of a hidden cli testcode, until its testoutput
    for number, line in enumerate(lines):
        found = _DIRECTIVE.match(line)
        if found is None:
            continue
        directive_indent, kind, argument = found.groups()
        first, end, indent, _ = _body(lines, number, directive_indent)
        body = _dedent(lines[first:end], indent)
        if kind == "testcode" and argument == "cli":
            hidden = any(lines[i].strip() == ":hide:" for i in range(number + 1, first))
            pending = body if hidden and "shell(" in body else None
        elif kind == "testoutput" and argument == "cli" and pending is not None:
            yield Session(page, first, end, indent, pending, body)
            pending = None
        elif kind == "code-block" and argument == "console" and body.startswith(DEMO):
            yield Session(page, first, end, indent, _console_code(body), body)


DEMO = "$ flask --app example_app cors"


def _console_code(body: str) -> str:
    """The ``shell()`` calls that print a console session (``$ echo $?``: the status)."""
    commands = [text[2:].strip() for text in body.splitlines() if text.startswith("$ ")]
    calls = []
    for index, command in enumerate(commands):
        if command == "echo $?":
            continue
        status = index + 1 < len(commands) and commands[index + 1] == "echo $?"
        calls.append(f"shell({command!r}, status={status})\n")
    return "".join(calls)


def markdown_sessions(page: Path) -> Iterator[Session]:
    """The ```` ```console ```` blocks of a Markdown page that run the demo's commands."""
    lines = page.read_text(encoding="utf-8").splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.strip() != "```console":
            continue
        end = next(i for i in range(number + 1, len(lines)) if lines[i].strip() == "```")
        body = "".join(lines[number + 1:end])
        if body.startswith(DEMO):
            yield Session(page, number + 1, end, "", _console_code(body), body)


def pages() -> Iterator[tuple[Path, Iterator[Session]]]:
    for page in sorted(DOCS.glob("*.rst")):
        yield page, sessions(page)
    yield ROOT / "README.md", markdown_sessions(ROOT / "README.md")


def shell_namespace() -> dict[str, object]:
    """The names docs/cli.rst's examples run with: the doctest setup, then its testsetup."""
    sys.path.insert(0, str(DOCS))
    sys.path.insert(0, str(ROOT))
    import conf  # docs/conf.py: doctest_global_setup

    namespace: dict[str, object] = {}
    exec(conf.doctest_global_setup, namespace)
    lines = (DOCS / "cli.rst").read_text(encoding="utf-8").splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.startswith(".. testsetup:: cli"):
            first, end, indent, _ = _body(lines, number, "")
            exec(_dedent(lines[first:end], indent), namespace)
            return namespace
    raise RuntimeError("docs/cli.rst has no testsetup:: cli block")


def run(session: Session, namespace: dict[str, object]) -> str:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(session.code, dict(namespace))
    return output.getvalue()


def matches(shown: str, real: str) -> bool:
    return _CHECKER.check_output(shown, real, FLAGS)


def carry_ellipses(shown: str, real: str) -> str:
    """``real``, keeping the lines of ``shown`` that still match it (with their ``...``)
    and its ``...`` lines where they stand for lines ``real`` still has."""
    old = shown.splitlines()
    new = real.splitlines()
    patterns = [(line, re.compile(".*?".join(map(re.escape, line.split("...")))))
                for line in old if "..." in line and line.strip() != "..."]

    def canonical(line: str) -> str:
        for text, pattern in patterns:
            if pattern.fullmatch(line):
                return text
        return line

    merged: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, [canonical(line) for line in new],
                                      autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        elided = [line for line in old[i1:i2] if line.strip() == "..."]
        if tag == "equal":
            merged += old[i1:i2]
        elif elided and (tag == "delete" or old[i1:i2] == elided):
            merged += elided  # '...' still stands for these lines (or none)
        elif tag != "delete":
            merged += new[j1:j2]
    return "\n".join(merged) + "\n"


def write(session: Session, text: str) -> None:
    lines = session.page.read_text(encoding="utf-8").splitlines(keepends=True)
    body = [(session.indent + line).rstrip() + "\n" if line.strip() else "\n"
            for line in text.splitlines()]
    lines[session.start:session.end] = body
    session.page.write_text("".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help="rewrite the sessions that differ with the real output")
    args = parser.parse_args(argv)
    namespace = shell_namespace()
    differing = 0
    for _, found in pages():
        # Bottom up, so that rewriting a session keeps the line numbers of those above.
        for session in reversed(list(found)):
            real = run(session, namespace)
            if matches(session.shown, real):
                continue
            differing += 1
            updated = carry_ellipses(session.shown, real)
            sys.stdout.writelines(difflib.unified_diff(
                session.shown.splitlines(keepends=True), updated.splitlines(keepends=True),
                f"{session.where} (shown)", f"{session.where} (real)"))
            if args.write:
                write(session, updated)
    print(f"{differing} session(s) differ" + (", rewritten" if args.write and differing
                                               else ""), file=sys.stderr)
    return 1 if differing and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
