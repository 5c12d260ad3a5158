"""flask-crossorigin: the CORS protocol for Flask, secure by default.

>>> from flask import Flask
>>> from flask_crossorigin import CORS
>>> app = Flask(__name__)
>>> cors = CORS(app, origins=["https://app.example.com"])
"""

from __future__ import annotations

from .decorator import cross_origin
from .errors import ConfigurationError, ConfigurationWarning, Problem
from .extension import CORS, CrossOriginState
from .options import OPTIONS, CorsOptions, CrossOriginOptions, Option, ReportOnlyOptions
from .policy import Decision, Policy
from .signals import preflight_answered, report_only_mismatch, request_refused

__version__ = "0.1.0"

__all__ = [
    "CORS",
    "OPTIONS",
    "ConfigurationError",
    "ConfigurationWarning",
    "CorsOptions",
    "CrossOriginOptions",
    "CrossOriginState",
    "Decision",
    "Option",
    "Policy",
    "Problem",
    "ReportOnlyOptions",
    "cross_origin",
    "preflight_answered",
    "report_only_mismatch",
    "request_refused",
]
