"""Calls that mypy --strict accepts, and that run: every option, with each type it takes."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Blueprint, Flask

from flask_crossorigin import CORS, CachedOrigins, CorsOptions, CrossOriginOptions, cross_origin

app = Flask(__name__)
api = Blueprint("api", __name__)


def trusted(origin: str) -> bool:
    return origin.endswith(".example.com")


CORS(
    app,
    origins=["https://app.example.com", re.compile(r"https://[a-z]+\.example\.org"), trusted],
    methods=["GET", "POST"],
    allow_headers=["Content-Type", re.compile(r"X-Company-.*")],
    expose_headers="X-Total-Count, Link",
    supports_credentials=True,
    max_age=timedelta(minutes=10),
    send_wildcard=False,
    vary_header=True,
    automatic_options=True,
    always_send=True,
    intercept_exceptions=True,
    allow_private_network=False,
    report_only={"origins": ["https://app.example.com"], "methods": ("GET",)},
    report_only_interval=0.5,
    csrf_protection="report-only",
    resources={
        r"/api/*": {"origins": "https://app.example.com", "max_age": 600},
        "/hooks/*": {"csrf_protection": False},
        re.compile(r"/v[0-9]+/.*"): None,
        "/public/*": {"origins": "*", "supports_credentials": False, "report_only": None},
    },
)
CORS(api, origins="*", resources=["/items/*", "/users/*"], expose_headers=None)
CORS().init_app(Flask(__name__), max_age="600", methods={"GET", "PUT"})

options: CorsOptions = {"origins": ["https://app.example.com"], "max_age": None}
CORS(Flask(__name__), **options)
view_options: CrossOriginOptions = {"supports_credentials": False}


@app.route("/widget")
@cross_origin(origins="https://app.example.com", report_only_interval=timedelta(seconds=30),
              csrf_protection=True)
def widget() -> str:
    return "widget"


@app.route("/gadget")
@cross_origin(**view_options)
async def gadget() -> str:
    return "gadget"


tenants = CachedOrigins(lambda: ["https://tenant.example"], ttl=60, max_stale=600)
loaded = Flask("loaded")
CORS(loaded, resources={"/api/*": {"origins": tenants, "report_only": {"origins": tenants}}})


@loaded.route("/tenant")
@cross_origin(origins=tenants, supports_credentials=True)
def tenant() -> str:
    return "tenant"
