"""How the repository's tools start Debian's headless Chromium (tests, screenshot script)."""

from __future__ import annotations

import os

#: Debian's package installs it here; CROSSORIGIN_CHROMIUM points elsewhere.
CHROMIUM = os.environ.get("CROSSORIGIN_CHROMIUM", "/usr/bin/chromium")

#: Flags for a headless run as root on a machine with no network but loopback:
#: without the background-networking ones Chromium keeps calling hosts it cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",  # we may run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
