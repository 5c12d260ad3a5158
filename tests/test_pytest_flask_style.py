"""The same checks written with pytest-flask's fixtures (``client``, ``config``, markers).

pytest-flask builds ``client`` from the ``app`` fixture in ``conftest.py``, which
is ``CORS(app)`` on a few typical routes.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for


def test_client_fixture_sees_the_one_liner(client: Any) -> None:
    response = client.get(url_for("data"), headers={"Origin": "https://a.example"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://a.example"


@pytest.mark.options(TESTING=True)
def test_config_fixture(config: Any) -> None:
    assert config["TESTING"] is True


def test_preflight_with_the_client_fixture(client: Any) -> None:
    response = client.options(
        "/api/items/3",
        headers={"Origin": "https://a.example", "Access-Control-Request-Method": "DELETE"},
    )
    assert response.status_code == 204
    assert "DELETE" in response.headers["Access-Control-Allow-Methods"]


def test_error_response_with_the_client_fixture(client: Any, app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom", headers={"Origin": "https://a.example"})
    assert response.status_code == 500
    assert response.headers["Access-Control-Allow-Origin"] == "https://a.example"
