"""flask-crossorigin: the CORS protocol for Flask, secure by default.

>>> from flask import Flask
>>> from flask_crossorigin import CORS
>>> app = Flask(__name__)
>>> cors = CORS(app, origins=["https://app.example.com"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .decorator import cross_origin
from .errors import ConfigurationError, ConfigurationWarning, Problem
from .extension import CORS, CrossOriginState, CrossOriginWriteRefused
from .options import OPTIONS, CorsOptions, CrossOriginOptions, Option, ReportOnlyOptions
from .policy import Decision, Policy
from .signals import preflight_answered, report_only_mismatch, request_refused

if TYPE_CHECKING:
    from .cached_origins import CachedOrigins
    from .redis_origins import RedisOrigins

__version__ = "0.1.0"

# Imported on first use (PEP 562): an app that loads no origins at run time never
# imports their reloading machinery, and RedisOrigins imports redis.
_LAZY = {"CachedOrigins": ".cached_origins", "RedisOrigins": ".redis_origins"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
