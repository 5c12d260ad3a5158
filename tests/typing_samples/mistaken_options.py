"""Calls that mypy --strict rejects: each line marked '# error' has one mistake."""

from __future__ import annotations

from flask import Flask

from flask_crossorigin import CORS, CachedOrigins, cross_origin

app = Flask(__name__)

CORS(app, orgins=["https://app.example.com"])  # error: misspelled option
CORS(app, supports_credentials="True")  # error: a string, not a bool
CORS(app, origins=42)  # error: not an origin
CORS(app, origins=["https://a.example", CachedOrigins(list)])  # error: loaded origins, in a list
CORS(app, methods=["GET", 1])  # error: a method is a string
CORS(app, max_age=1.5)  # error: whole seconds
CORS(app, report_only={"orgins": ["https://app.example.com"]})  # error: misspelled, nested
CORS(app, report_only={"report_only_interval": 5})  # error: not a report-only option
CORS(app, resources={"/api/*": {"send_wildcards": True}})  # error: misspelled, in resources
CORS().init_app(app, allow_private_networks=True)  # error: misspelled option
CORS(app, csrf_protection="report_only")  # error: not True, False or 'report-only'
CORS(app, report_only={"csrf_protection": True})  # error: set beside report_only


@app.route("/widget")
@cross_origin(resources={"/x": {}})  # error: only CORS() takes resources
def widget() -> str:
    return "widget"


@app.route("/other")
@cross_origin(expose_header=["X-Total"])  # error: misspelled option
def other() -> str:
    return "other"
