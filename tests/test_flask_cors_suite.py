"""flask-cors 6.0.5's own tests, run against flask-crossorigin: "change one import", proven.

Every test of its ``tests/decorator`` and ``tests/extension`` must pass, except
those listed in ``tests/flask_cors_expected.py``, each with the difference of
docs/migrating.rst that explains it. A listed test that starts passing fails
this test too, so the table stays true. ``python -m tests.flask_cors_suite --report``
prints what to paste after a change.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from . import flask_cors_suite
from .flask_cors_expected import EXPECTED_FAILURES, KINDS

MIGRATING = Path(__file__).resolve().parent.parent / "docs" / "migrating.rst"


@pytest.fixture(scope="module")
def outcomes() -> dict[str, tuple[str, str]]:
    return flask_cors_suite.run()


def test_flask_cors_suite_fails_only_where_documented(
    outcomes: dict[str, tuple[str, str]]
) -> None:
    ran = {node: outcome for node, (outcome, _) in outcomes.items() if outcome != "skipped"}
    assert len(ran) >= 88, sorted(ran)  # the suite really ran, all of it
    failed = {node: line for node, (outcome, line) in outcomes.items() if outcome == "failed"}
    unexpected = {node: line for node, line in failed.items() if node not in EXPECTED_FAILURES}
    assert not unexpected, (
        "flask-cors tests failing without a documented difference (run "
        f"`python -m tests.flask_cors_suite --report`): {unexpected}"
    )
    now_passing = sorted(set(EXPECTED_FAILURES) - set(failed))
    assert not now_passing, f"listed as failing but passing now; remove them: {now_passing}"
    assert len(ran) - len(failed) >= 80  # 80 of 88 since the request hooks (issue 10)


def test_every_listed_difference_is_documented() -> None:
    text = MIGRATING.read_text(encoding="utf-8")
    headings = {int(m.group(1)): m.group(2) for m in re.finditer(
        r"^(\d+)\. (.+)\n\^+$", text, re.MULTILINE)}
    for node, (number, kind) in EXPECTED_FAILURES.items():
        assert kind in KINDS, (node, kind)
        assert number in headings, f"{node}: difference {number} is not in docs/migrating.rst"
