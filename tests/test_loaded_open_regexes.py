"""A loaded regex that any registrable domain satisfies is '*' in disguise: skipped
(issues 16, 19)."""

from __future__ import annotations

import re

from flask import Flask

from flask_crossorigin import CORS, CachedOrigins


def test_open_regex_in_a_loaded_list_is_skipped_and_never_grants_with_credentials() -> None:
    origins = CachedOrigins(lambda: [re.compile(r".*"), r"https?://.*", "https://app.example.com"])
    app = Flask(__name__)
    CORS(app, origins=origins, supports_credentials=True)

    @app.route("/data")
    def data() -> str:
        return "ok"

    client = app.test_client()
    evil = client.get("/data", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers
    good = client.get("/data", headers={"Origin": "https://app.example.com"})
    assert good.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert good.headers["Access-Control-Allow-Credentials"] == "true"
    assert origins.skipped_count == 2
    origins.close()
