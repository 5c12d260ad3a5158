"""Browser tests: headless Chromium (Debian's) driven by Playwright against the demo servers.

The API and the page run in this process on free loopback ports, so the page origin
``http://localhost:<page>`` and the API origin ``http://localhost:<api>`` differ. More origins
come from the same page server: ``*.localhost`` names resolve to loopback inside Chromium, a
second page server gives another port, and ``--host-resolver-rules`` maps a few look-alike
attacker names (``*.test``) to 127.0.0.1. No traffic leaves the machine.

Without Chromium (or Playwright) these tests skip, unless CROSSORIGIN_REQUIRE_BROWSER=1,
which makes them fail instead (CI sets it).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from example_app.chromium import CHROMIUM
from example_app.chromium import CHROMIUM_ARGS as BASE_CHROMIUM_ARGS
from example_app.request_log import LoggedRequest
from example_app.servers import DemoServers, bind, create_demo_servers

REQUIRE_BROWSER = os.environ.get("CROSSORIGIN_REQUIRE_BROWSER", "") not in ("", "0")
CHROMIUM_ARGS = [
    *BASE_CHROMIUM_ARGS,
    "--disable-default-apps",
    "--disable-extensions",
    # Look-alike attacker hosts, all on loopback (*.localhost needs no rule).
    "--host-resolver-rules=MAP *.test 127.0.0.1, MAP evillocalhost 127.0.0.1",
]
HERE = Path(__file__).resolve().parent


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "the Python package 'playwright' is not installed (pip install playwright)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CROSSORIGIN_CHROMIUM)"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: runs in headless Chromium (tests/browser)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = browser_unavailable()
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if reason and not REQUIRE_BROWSER and "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(reason=f"browser tests need Chromium: {reason}"))


# Package scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread while it is open, which breaks later tests that run async views (asgiref refuses
# to start a loop inside a running one). Closing it after the last browser test avoids that.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    reason = browser_unavailable()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"CROSSORIGIN_REQUIRE_BROWSER is set but {reason}", pytrace=False)
        pytest.skip(f"browser tests need Chromium: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class Origins:
    """The origins a test can run its page on, and the API's origin."""

    api: str
    page: str  # the trusted front end: http://localhost:<page>
    page_port: int
    other_port: int  # a second page server: same hosts, another port

    def at(self, host: str, port: int | None = None) -> str:
        return f"http://{host}:{port or self.page_port}"


@pytest.fixture(scope="package")
def demo() -> Iterator[DemoServers]:
    werkzeug_logger = logging.getLogger("werkzeug")
    level = werkzeug_logger.level
    werkzeug_logger.setLevel(logging.WARNING)  # no access log per request
    servers = create_demo_servers(api_port=0, page_port=0).start()
    yield servers
    servers.stop()
    werkzeug_logger.setLevel(level)


@pytest.fixture(scope="package")
def origins(demo: DemoServers) -> Iterator[Origins]:
    other = bind(0)
    other.app = demo.page  # same front end, another port
    thread = threading.Thread(
        target=other.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    yield Origins(
        api=demo.api_origin,
        page=demo.page_origin,
        page_port=demo.page_server.server_port,
        other_port=other.server_port,
    )
    other.shutdown()
    other.server_close()
    thread.join(timeout=5)


@dataclass
class FetchResult:
    """What a page's ``fetch()`` got: readable (allowed) or a network error (blocked)."""

    allowed: bool
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)  # only those the page may read
    error: str | None = None
    console: list[str] = field(default_factory=list)  # the browser's CORS messages for it

    @property
    def cors_error(self) -> str | None:
        return next((line for line in self.console if "blocked by CORS policy" in line), None)


FETCH_JS = """
async ({url, init}) => {
  try {
    const response = await fetch(url, init);
    const text = await response.text();
    let body = text;
    try { body = JSON.parse(text); } catch (_) {}
    const headers = Object.fromEntries(response.headers.entries());
    return {allowed: true, status: response.status, body, headers};
  } catch (error) {
    return {allowed: false, error: String(error)};
  }
}
"""


class BrowserClient:
    """One fresh browser context (own cookies and preflight cache) with one tab."""

    def __init__(self, context: Any, origins: Origins) -> None:
        self.context = context
        self.origins = origins
        self.page = context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda message: self.console.append(message.text))
        self.page.set_default_timeout(15_000)

    def open(self, origin: str) -> None:
        """Show a blank page served from ``origin`` (a no-op if already there)."""
        url = f"{origin}/frame"
        if self.page.url != url:
            self.page.goto(url)

    def fetch(self, origin: str, path: str, **init: Any) -> FetchResult:
        """``fetch(API + path, init)`` from a page on ``origin``."""
        self.open(origin)
        return self._run(self.page, self.origins.api + path, init)

    def fetch_url(self, origin: str, url: str, **init: Any) -> FetchResult:
        """``fetch(url, init)`` from a page on ``origin``, to any server."""
        self.open(origin)
        return self._run(self.page, url, init)

    def fetch_from_null_origin(self, path: str, **init: Any) -> FetchResult:
        """``fetch()`` from a sandboxed iframe, whose origin is opaque (``Origin: null``)."""
        self.open(self.origins.page)
        self.page.evaluate(
            """() => new Promise((resolve) => {
                 const frame = document.createElement('iframe');
                 frame.setAttribute('sandbox', 'allow-scripts');
                 frame.src = '/frame?sandboxed';
                 frame.onload = () => resolve();
                 document.body.append(frame);
               })"""
        )
        frame = next(f for f in self.page.frames if f.url.endswith("/frame?sandboxed"))
        assert frame.evaluate("() => self.origin") == "null"
        return self._run(frame, self.origins.api + path, init)

    def _run(self, target: Any, url: str, init: dict[str, Any]) -> FetchResult:
        seen = len(self.console)
        raw = target.evaluate(FETCH_JS, {"url": url, "init": init})
        result = FetchResult(**raw)
        if not result.allowed:
            # Chromium logs the CORS reason to the console; it may arrive just after the error.
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and not any(
                "blocked by CORS policy" in line and url in line for line in self.console[seen:]
            ):
                self.page.wait_for_timeout(25)
        result.console = [line for line in self.console[seen:] if url in line]
        return result


@pytest.fixture()
def client(browser: Any, origins: Origins) -> Iterator[BrowserClient]:
    context = browser.new_context()
    try:
        yield BrowserClient(context, origins)
    finally:
        context.close()


@pytest.fixture()
def api_log(demo: DemoServers) -> Any:
    """``api_log(path)``: the requests the API received for ``path``, oldest first."""

    def entries(path: str) -> list[LoggedRequest]:
        return demo.request_log.entries(path)

    return entries
