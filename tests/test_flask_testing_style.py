"""The same kind of checks written as a Flask-Testing ``TestCase``."""

from __future__ import annotations

from flask import Flask
from flask_testing import TestCase

from .conftest import TRUSTED, make_app


class CrossOriginTestCase(TestCase):  # type: ignore[misc]
    def create_app(self) -> Flask:
        app = make_app(origins=[TRUSTED], supports_credentials=True, max_age=300)
        app.config["TESTING"] = True
        return app

    def test_granted_origin(self) -> None:
        response = self.client.get("/api/data", headers={"Origin": TRUSTED})
        self.assert200(response)
        self.assertEqual(response.headers["Access-Control-Allow-Origin"], TRUSTED)
        self.assertEqual(response.headers["Access-Control-Allow-Credentials"], "true")
        self.assertEqual(response.json, {"message": "hello"})

    def test_refused_origin(self) -> None:
        response = self.client.get("/api/data", headers={"Origin": "https://evil.example"})
        self.assert200(response)
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)
        self.assertEqual(response.headers["Vary"], "Origin")

    def test_preflight(self) -> None:
        response = self.client.open("/api/items/1", method="OPTIONS", headers={
            "Origin": TRUSTED, "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type"})
        self.assertStatus(response, 204)
        self.assertEqual(response.headers["Access-Control-Max-Age"], "300")

    def test_unauthorized_is_readable(self) -> None:
        response = self.client.get("/private", headers={"Origin": TRUSTED})
        self.assert401(response)
        self.assertEqual(response.headers["Access-Control-Allow-Origin"], TRUSTED)
