"""The demo page's script keeps no clock of its own (the browser suite runs it for real)."""

from __future__ import annotations

import re
from pathlib import Path

from example_app.frontend import create_frontend_app

STATIC = Path(__file__).resolve().parent.parent / "example_app" / "static"


def test_the_demo_scripts_use_no_timers() -> None:
    # setTimeout and Date run on virtual time under --virtual-time-budget: a timer would
    # fail rows that were merely slow. The page waits on the page server's /clock.
    for script in ("demo.js", "frame.js"):
        text = (STATIC / script).read_text(encoding="utf-8")
        code = re.sub(r"//.*", "", text)  # comments may name what is avoided
        for timer in ("setTimeout", "setInterval", "Date.now", "performance.now"):
            assert timer not in code, f"{script} uses {timer}"
    assert "/clock?ms=" in (STATIC / "demo.js").read_text(encoding="utf-8")


def test_the_page_servers_clock_answers_after_a_bounded_wait() -> None:
    client = create_frontend_app("http://localhost:5001", "http://localhost:5000").test_client()
    response = client.get("/clock?ms=1")
    assert response.status_code == 204
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/clock?ms=-5").status_code == 204
    assert client.get("/clock?ms=nonsense").status_code == 204
