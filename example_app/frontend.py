"""The front-end: a static page on its own origin that calls the API with ``fetch()``.

It knows nothing about CORS; it only serves files. ``/`` is the demo table; ``/frame`` is a
blank page that runs one request when asked (by the demo page through ``postMessage``, or by
the browser tests directly), so scenarios can be run from other origins such as a tenant
subdomain ``http://shop.localhost:5001`` or an untrusted ``http://127.0.0.1:5001``.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, redirect, render_template, request
from werkzeug.wrappers import Response

from .api import tenant_origin_pattern


def create_frontend_app(page_origin: str, api_origin: str) -> Flask:
    app = Flask(__name__)
    page = urlsplit(page_origin)
    page_port = f":{page.port}" if page.port else ""
    demo_config = {
        "apiOrigin": api_origin,
        "pageOrigin": page_origin,
        "tenantOrigin": f"{page.scheme}://shop.{page.hostname}{page_port}",
        "tenantPattern": tenant_origin_pattern(page_origin),
        # An origin that the API trusts only while the partners table lists it.
        "partnerOrigin": f"{page.scheme}://partner.{page.hostname}{page_port}",
        # Same server, same port, but reached by IP: a different origin the API does not trust.
        "untrustedOrigin": f"{page.scheme}://127.0.0.1{page_port}",
    }

    @app.get("/")
    def index() -> Response | str:
        # The table's expectations are written for the canonical origin; send other hosts there.
        if request.host != page.netloc:
            return redirect(page_origin + "/")
        return render_template("index.html", demo_config=demo_config)

    @app.get("/frame")
    def frame() -> Response:
        return app.send_static_file("frame.html")

    @app.get("/clock")
    def clock() -> Response:
        # A real-time clock for the page: answers after ?ms= milliseconds (at most one
        # second). The page waits on it instead of setTimeout, whose clock headless
        # browsers may run on virtual time (see withinRealTime in demo.js).
        milliseconds = min(request.args.get("ms", 0, type=int), 1000)
        time.sleep(max(milliseconds, 0) / 1000)
        return Response(status=204, headers={"Cache-Control": "no-store"})

    return app
