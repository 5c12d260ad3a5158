"""Options are typed (TypedDict + Unpack, as in flask-cors 6.0.5): mypy --strict accepts
correct calls and rejects misspelled options and wrong types, and agrees with the runtime."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from flask_crossorigin import (
    CORS,
    OPTIONS,
    CachedOrigins,
    ConfigurationError,
    CorsOptions,
    CrossOriginOptions,
    ReportOnlyOptions,
)
from flask_crossorigin.options import POLICY_OPTIONS, REPORT_ONLY_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "typing_samples"
CORRECT = SAMPLES / "correct_options.py"
MISTAKEN = SAMPLES / "mistaken_options.py"


def marked_lines(path: Path) -> set[int]:
    """The lines a sample marks with ``# error``."""
    return {number for number, line in enumerate(path.read_text().splitlines(), 1)
            if "  # error: " in line}


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[int]]:
    """``mypy --strict`` over both samples: the lines with an error, per file."""
    cache = tmp_path_factory.mktemp("mypy-cache")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache),
         "--no-error-summary", str(CORRECT), str(MISTAKEN)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr  # 2 would be a crash or a usage error
    errors: dict[str, set[int]] = {CORRECT.name: set(), MISTAKEN.name: set()}
    for line in done.stdout.splitlines():
        found = re.match(r"(?:.*[/\\])?([\w.]+\.py):(\d+): error: ", line)
        if found:
            errors.setdefault(found[1], set()).add(int(found[2]))
    return errors


def test_mypy_accepts_every_option_with_each_type_it_takes(
    mypy_errors: dict[str, set[int]],
) -> None:
    assert mypy_errors[CORRECT.name] == set()


def test_mypy_rejects_a_misspelled_option_or_a_wrong_type(
    mypy_errors: dict[str, set[int]],
) -> None:
    expected = marked_lines(MISTAKEN)
    assert len(expected) >= 10
    assert mypy_errors[MISTAKEN.name] == expected


def test_the_correct_sample_runs() -> None:
    """What mypy accepts, the runtime accepts too."""
    runpy.run_path(str(CORRECT))


@pytest.mark.parametrize("line", [
    line.split("  # error")[0] for line in MISTAKEN.read_text().splitlines()
    if line.startswith("CORS(") and "  # error: " in line
])
def test_what_mypy_rejects_the_runtime_refuses_too(line: str) -> None:
    with pytest.raises(ConfigurationError):
        exec(line, {"CORS": CORS, "CachedOrigins": CachedOrigins,  # noqa: S102
                    "app": Flask(__name__)})


def test_every_option_is_typed_once() -> None:
    """Adding an option to the table means adding its line to the typed options."""
    assert set(CorsOptions.__annotations__) == {option.name for option in OPTIONS}
    assert set(CrossOriginOptions.__annotations__) == set(POLICY_OPTIONS)
    assert set(ReportOnlyOptions.__annotations__) == set(REPORT_ONLY_OPTIONS)
    for typed in (CorsOptions, CrossOriginOptions, ReportOnlyOptions):
        assert typed.__required_keys__ == frozenset()  # every option may be left out
