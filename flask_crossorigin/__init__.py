"""flask-crossorigin: the CORS protocol for Flask, secure by default.

>>> from flask import Flask
>>> from flask_crossorigin import CORS
>>> app = Flask(__name__)
>>> cors = CORS(app, origins=["https://app.example.com"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .cached_origins import CachedOrigins
from .decorator import cross_origin
from .errors import ConfigurationError, ConfigurationWarning, Problem
from .extension import CORS, CrossOriginState, CrossOriginWriteRefused
from .options import OPTIONS, CorsOptions, CrossOriginOptions, Option, ReportOnlyOptions
from .policy import Decision, Policy
from .signals import preflight_answered, report_only_mismatch, request_refused

if TYPE_CHECKING:
    from .redis_origins import RedisOrigins

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # RedisOrigins imports redis: only when somebody asks for it.
    if name == "RedisOrigins":
        from .redis_origins import RedisOrigins

        return RedisOrigins
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CORS",
    "OPTIONS",
    "CachedOrigins",
    "ConfigurationError",
    "ConfigurationWarning",
    "CorsOptions",
    "CrossOriginOptions",
    "CrossOriginState",
    "CrossOriginWriteRefused",
    "Decision",
    "Option",
    "Policy",
    "Problem",
    "RedisOrigins",
    "ReportOnlyOptions",
    "cross_origin",
    "preflight_answered",
    "report_only_mismatch",
    "request_refused",
]
