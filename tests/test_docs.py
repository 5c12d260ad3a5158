"""The documentation builds without a single warning, and every example in it runs.

The same two builds as ``tox -e docs`` (html, then the doctest builder), in a
temporary directory, so that the normal test suite guards the docs too.
"""

from __future__ import annotations

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


def test_doctests_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sphinx_build("doctest", tmp_path, capsys)
