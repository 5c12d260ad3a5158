"""Take a screenshot of the demo page with headless Chromium (the one the browser tests use).

    python scripts/screenshot_demo.py [--output docs/_static/demo.png]

It starts the demo's API and page in this process (on ports 5000 and 5001, as
``python -m example_app`` does, or on free ports if those are busy), waits until every row
has run, writes the PNG, and exits 1 if any row did not behave as expected.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from example_app.chromium import CHROMIUM  # noqa: E402
from example_app.chromium import CHROMIUM_ARGS as BASE_CHROMIUM_ARGS  # noqa: E402
from example_app.servers import DemoServers, create_demo_servers  # noqa: E402

CHROMIUM_ARGS = [
    *BASE_CHROMIUM_ARGS,
    "--hide-scrollbars",
    "--font-render-hinting=none",
]


def start_servers() -> DemoServers:
    try:
        return create_demo_servers(api_port=5000, page_port=5001).start()
    except (OSError, SystemExit):  # werkzeug exits when a port is in use
        return create_demo_servers(api_port=0, page_port=0).start()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "_static" / "demo.png")
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--width", type=int, default=1400, help="viewport width in CSS pixels")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    servers = start_servers()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            page.goto(servers.page_origin + "/")
            page.wait_for_selector("body[data-state=done]", timeout=30_000)
            failed = page.locator("tr[data-state=fail]").count()
            summary = page.inner_text("#summary")
            args.output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.output), full_page=True)
            browser.close()
    finally:
        servers.stop()
    print(f"{summary}\nwrote {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
