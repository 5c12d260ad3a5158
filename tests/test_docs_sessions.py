"""The ``flask cors`` sessions the docs show are what the tools print today.

``scripts/docs_sessions.py`` finds them (docs/cli.rst's hidden testcode + testoutput
pairs, and ``$ flask --app example_app cors`` console blocks on any page and in
README.md), runs each
as the ``flask`` command does and compares as the doctest build does;
``python scripts/docs_sessions.py --write`` rewrites the ones that differ.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "docs_sessions", ROOT / "scripts" / "docs_sessions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["docs_sessions"] = module
    spec.loader.exec_module(module)
    return module


docs_sessions = load_script()
SESSIONS = [session for _, found in docs_sessions.pages() for session in found]


@pytest.fixture(scope="module")
def namespace() -> dict[str, Any]:
    return docs_sessions.shell_namespace()  # type: ignore[no-any-return]


def test_the_sessions_are_found() -> None:
    pages = {session.page.name for session in SESSIONS}
    assert {"cli.rst", "tightening.rst", "README.md"} <= pages
    commands = " ".join(session.code for session in SESSIONS)
    for command in ("cors routes", "cors routes --wide", "cors routes --json", "cors check",
                    "cors origins list", "cors lint"):
        assert command in commands


@pytest.mark.parametrize("session", SESSIONS, ids=[session.where for session in SESSIONS])
def test_each_session_is_real_output(session: Any, namespace: dict[str, Any]) -> None:
    real = docs_sessions.run(session, namespace)
    assert docs_sessions.matches(session.shown, real), (
        f"{session.where} is not what the command prints now; run "
        f"`python scripts/docs_sessions.py --write` and read the diff:\n{real}")


def test_rewriting_keeps_the_ellipses_that_still_stand_for_something() -> None:
    shown = ("$ flask check\nallowed\n< X-Request-Id: ...\n< Vary: Origin\n...\n"
             "$ echo $?\n0\n")
    real = ("$ flask check\nallowed\n< X-Request-Id: 7f3a\n< Vary: Origin\n"
            "< Access-Control-Expose-Headers: X-Request-Id\n< Content-Type: text/plain\n"
            "$ echo $?\n0\n")
    assert not docs_sessions.matches("$ flask check\nblocked\n", real)
    assert docs_sessions.matches(shown, real)
    changed = real.replace("allowed", "allowed: by policy")
    merged = docs_sessions.carry_ellipses(shown, changed)
    assert merged == ("$ flask check\nallowed: by policy\n< X-Request-Id: ...\n"
                      "< Vary: Origin\n...\n$ echo $?\n0\n")
    assert docs_sessions.matches(merged, changed)
