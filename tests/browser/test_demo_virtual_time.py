"""The demo page under the standard headless screenshot command, and its failed rows.

``chromium --headless --screenshot --virtual-time-budget=8000 URL`` runs timers on
virtual time, which races ahead while a cross-origin frame loads: the page used to
stop at "Running…" with most rows pending, and with longer budgets a frame timer
fired and its row turned red with no reason shown.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from example_app.chromium import CHROMIUM, CHROMIUM_ARGS


@pytest.mark.parametrize("budget", [8000, 30000])
def test_every_row_finishes_under_a_virtual_time_budget(
    browser: Any, demo: Any, tmp_path: Path, budget: int
) -> None:
    # The DOM a --screenshot with this budget would show (--dump-dom waits the same way).
    dom = subprocess.run(
        [CHROMIUM, "--headless", *CHROMIUM_ARGS, f"--user-data-dir={tmp_path}",
         f"--virtual-time-budget={budget}", "--dump-dom", demo.page_origin + "/"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    states = re.findall(r'<tr class="\w+" id="scenario-\d+"[^>]*data-state="(\w+)"', dom)
    assert len(states) >= 20, dom[:2000]
    assert set(states) == {"pass"}, states
    assert 'id="summary" class="summary pass"' in dom


def test_a_failed_row_always_shows_why(browser: Any, demo: Any) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(demo.page_origin + "/")
        page.wait_for_selector("body[data-state=done]", timeout=30_000)
        texts = page.evaluate("""() => {
            const row = (n) => document.getElementById(`scenario-${n}`);
            const scenario = { expect: "allowed", check: (r) => r.body.missing.field };
            showResult(row(1), scenario, { outcome: "error", error: "the frame did not load" });
            showResult(row(2), scenario, { outcome: "allowed", status: 200 });
            showResult(row(3), { expect: "blocked" }, { outcome: "allowed", status: 204 });
            const result = (n) => row(n).querySelector(".result").textContent;
            return [1, 2, 3].map((n) => [row(n).dataset.state, result(n)]);
        }""")
    finally:
        context.close()
    assert [state for state, _ in texts] == ["fail", "fail", "fail"]
    assert "the frame did not load" in texts[0][1] and "expected allowed" in texts[0][1]
    assert "the check failed: TypeError" in texts[1][1]
    assert "HTTP 200 (no body)" in texts[1][1]
    assert "HTTP 204" in texts[2][1] and "expected blocked" in texts[2][1]
