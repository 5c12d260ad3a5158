"""Exit statuses of ``flask cors``: one meaning each, so a pipeline can act on them.

0 allowed / no warnings, 1 blocked / warnings, 2 usage error, 3 the app cannot be
checked (invalid CORS configuration, or the app fails to load), 4 a store of origins
loaded at run time cannot be reached, 141 the output was closed (``| head``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import FlaskGroup

from flask_crossorigin import CORS, CachedOrigins, cross_origin
from flask_crossorigin.cli import status

from .conftest import TRUSTED

ROOT = Path(__file__).resolve().parent.parent


def good_app() -> Flask:
    app = Flask(__name__)

    @app.get("/api/data")
    def data() -> Any:
        return "data"

    CORS(app, origins=[TRUSTED])
    return app


def risky_app() -> Flask:
    app = good_app()
    app.config["CORS_HEADERS"] = "Content-Type"  # lint warns: never read
    return app


def bad_extension_app() -> Flask:
    app = Flask(__name__)
    CORS(app, origins="*", supports_credentials=True)  # ConfigurationError
    return app


def bad_decorator_app() -> Flask:
    """A decorator whose policy only fails against the app's config (compiled late)."""
    app = Flask(__name__)
    app.config["CORS_SUPPORTS_CREDENTIALS"] = True  # with the default origins='*'

    @app.get("/api/data")
    @cross_origin()
    def data() -> Any:
        return "data"

    return app


def unreachable_store_app() -> Flask:
    """Origins loaded from a store that is down: every load fails."""
    def partner_rows() -> list[str]:
        raise ConnectionError("the partners database is not reachable")

    app = Flask(__name__)

    @app.get("/api/data")
    def data() -> Any:
        return "data"

    origins = CachedOrigins(partner_rows, ttl=30, max_stale=300)
    CORS(app, origins=origins)
    STORES.append(origins)
    return app


STORES: list[CachedOrigins] = []


def crashing_app() -> Flask:
    raise RuntimeError("the database is not reachable")


def invoke(factory: Callable[[], Flask], *args: str) -> Any:
    """``flask cors ARGS`` for an app the command loads itself (as ``flask --app`` does)."""
    return CliRunner().invoke(FlaskGroup(create_app=factory), ["cors", *args])


CHECK = ["check", "/api/data", "--origin", TRUSTED]

CASES = [
    (good_app, CHECK, status.OK),
    (good_app, ["check", "/api/data", "--origin", "https://evil.example"], status.FOUND),
    (good_app, ["check", "/api/data"], status.USAGE_ERROR),  # --origin is required
    (bad_extension_app, CHECK, status.CONFIGURATION_ERROR),
    (bad_decorator_app, CHECK, status.CONFIGURATION_ERROR),
    (crashing_app, CHECK, status.CONFIGURATION_ERROR),
    (good_app, ["lint"], status.OK),
    (risky_app, ["lint"], status.FOUND),
    (good_app, ["lint", "--no-such-option"], status.USAGE_ERROR),
    (bad_extension_app, ["lint"], status.CONFIGURATION_ERROR),
    (bad_decorator_app, ["lint"], status.CONFIGURATION_ERROR),
    (crashing_app, ["lint"], status.CONFIGURATION_ERROR),
    (good_app, ["routes"], status.OK),
    (bad_decorator_app, ["routes"], status.CONFIGURATION_ERROR),
    (unreachable_store_app, CHECK, status.STORE_UNREACHABLE),
    (unreachable_store_app, ["routes"], status.STORE_UNREACHABLE),
    (unreachable_store_app, ["lint"], status.STORE_UNREACHABLE),
    (unreachable_store_app, ["origins", "list"], status.STORE_UNREACHABLE),
    (unreachable_store_app, ["origins", "add", TRUSTED], status.USAGE_ERROR),  # no Redis
]


@pytest.fixture(autouse=True)
def close_stores() -> Any:
    yield
    while STORES:
        STORES.pop().close()


@pytest.mark.parametrize(("factory", "args", "expected"), CASES,
                         ids=[f"{c[0].__name__}-{' '.join(c[1][:2])}" for c in CASES])
def test_each_outcome_has_its_own_exit_status(
    factory: Callable[[], Flask], args: list[str], expected: int
) -> None:
    result = invoke(factory, *args)
    assert result.exit_code == expected, result.output
    if expected == status.STORE_UNREACHABLE:
        assert result.output == (
            "Error: the origins store CachedOrigins(partner_rows) could not be reached "
            "(ConnectionError: the partners database is not reachable); check that what its "
            "load() reads (a database, a service) is reachable from here\n")
    if expected == status.CONFIGURATION_ERROR:
        assert "Error: " in result.output
        if factory is crashing_app:
            assert "the app could not be checked: RuntimeError: the database" in result.output
        else:
            assert "problem in the CORS configuration" in result.output
            assert "Traceback" not in result.output


def test_the_statuses_are_distinct() -> None:
    codes = [status.OK, status.FOUND, status.USAGE_ERROR, status.CONFIGURATION_ERROR,
             status.STORE_UNREACHABLE, status.OUTPUT_CLOSED]
    assert len(set(codes)) == 6
    assert status.USAGE_ERROR == 2  # click's own usage error status
    assert status.OUTPUT_CLOSED == 128 + 13  # as a shell shows a tool ended by SIGPIPE


def test_the_docs_list_every_status() -> None:
    text = (ROOT / "docs" / "cli.rst").read_text()
    for code, meaning in [(status.OK, "allowed"), (status.FOUND, "blocked"),
                          (status.USAGE_ERROR, "usage error"),
                          (status.CONFIGURATION_ERROR, "cannot be checked"),
                          (status.STORE_UNREACHABLE, "could not be reached"),
                          (status.OUTPUT_CLOSED, "SIGPIPE")]:
        assert f"``{code}``" in text and meaning in text
    table = text[re.search(r"Status +Meaning", text).start():]  # type: ignore[union-attr]
    for code in (4, 141):
        assert re.search(rf"^``{code}``\s+\S", table, re.MULTILINE), code


def test_the_flask_command_exits_3_for_an_app_whose_configuration_is_invalid(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken_app.py").write_text(textwrap.dedent("""
        from flask import Flask
        from flask_crossorigin import CORS

        app = Flask(__name__)
        CORS(app, origins="*", supports_credentials=True)
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    env.pop("FLASK_APP", None)
    for args in (CHECK, ["lint"]):
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "broken_app", "cors", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 3, (done.stdout, done.stderr)
        assert done.stderr.startswith("Error: 1 problem in the CORS configuration"), done.stderr
