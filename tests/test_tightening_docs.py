"""docs/tightening.rst, "On the demo app": the lines it shows are what the demo prints."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.cli import FlaskGroup, ScriptInfo

from example_app import create_app
from example_app.__main__ import show_cors_log

PAGE = (Path(__file__).resolve().parent.parent / "docs" / "tightening.rst").read_text(
    encoding="utf-8")
DEMO_SECTION = PAGE[PAGE.index("\nOn the demo app\n"):PAGE.index("\nMigrating from flask-cors\n")]
UNTRUSTED = "http://127.0.0.1:5001"  # the demo page's server reached by IP: another origin


def block_after(marker: str) -> list[str]:
    """The lines of the first literal block after ``marker`` in the demo section."""
    at = DEMO_SECTION.index(marker)
    lines = DEMO_SECTION[DEMO_SECTION.rindex("\n", 0, at) + 1:].splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("::")
                 or ".. code-block::" in line)
    indent = len(lines[start]) - len(lines[start].lstrip())
    body = []
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        if line.strip():
            body.append(line.strip())
    return body


@pytest.fixture
def demo_log() -> Iterator[io.StringIO]:
    """What ``python -m example_app`` sets up, its handler writing here; undone afterwards."""
    logger = logging.getLogger("flask_crossorigin")
    saved = logger.handlers[:], logger.level, logger.propagate
    logger.handlers.clear()
    try:
        show_cors_log()
        [handler] = logger.handlers
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(written := io.StringIO())
        yield written
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def test_the_log_line_the_page_shows_is_the_demo_s(demo_log: io.StringIO) -> None:
    [documented] = block_after(".. code-block:: text")
    client = create_app().test_client()  # default ports: the page at http://localhost:5001
    response = client.get("/catalog/items", headers={"Origin": UNTRUSTED})
    assert response.headers["Access-Control-Allow-Origin"] == UNTRUSTED  # still allowed
    assert demo_log.getvalue().splitlines() == [documented]
    client.get("/catalog/items", headers={"Origin": "http://localhost:5001"})
    assert len(demo_log.getvalue().splitlines()) == 1  # the origin the policy lists: nothing


def test_the_check_output_the_page_shows_is_the_cli_s() -> None:
    command, *documented = block_after("3. Ask the command line")
    assert command == f"$ flask --app example_app cors check /catalog/items --origin {UNTRUSTED}"
    assert documented[-1] == "..."
    app = ScriptInfo(app_import_path="example_app").load_app()
    result = app.test_cli_runner().invoke(
        FlaskGroup(), args=["cors", "check", "/catalog/items", "--origin", UNTRUSTED])
    assert result.exit_code == 0
    assert result.output.splitlines()[:len(documented) - 1] == documented[:-1]


def test_the_demo_entry_the_page_quotes_is_in_the_demo() -> None:
    [entry] = block_after("resource allows any origin")
    api = (Path(__file__).resolve().parent.parent / "example_app" / "api.py").read_text(
        encoding="utf-8")
    assert entry in api
