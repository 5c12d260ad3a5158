"""The three contestants and the small differences in how they are configured.

flask-cors matches resource strings as regular expressions with ``re.match``
and has no wildcard-subdomain syntax, so each contestant spells an equivalent
pattern its own way; the routes a pattern selects are the same for all.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask

BARE = "bare"
FLASK_CORS = "flask_cors"
CROSSORIGIN = "crossorigin"
ALL_KEYS = (BARE, FLASK_CORS, CROSSORIGIN)


@dataclass(frozen=True)
class Contestant:
    key: str
    label: str
    version: str
    # CORS(app, **options); None for bare Flask.
    extension: Callable[..., Any] | None
    # cross_origin(**options); None for bare Flask.
    decorator: Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]] | None
    # "/api/v3" -> a resource pattern selecting /api/v3 and everything below it.
    resource_prefix: Callable[[str], Any]
    # "example.com" -> an origin pattern for any https subdomain of it.
    subdomain_origin: Callable[[str], Any]
    # Where the library was imported from (to tell a checkout from an install).
    location: str = ""

    @property
    def is_bare(self) -> bool:
        return self.extension is None

    def install(self, app: Flask, options: dict[str, Any]) -> Any:
        """Install the extension on ``app`` (nothing for bare Flask)."""
        if self.extension is None:
            return None
        return self.extension(app, **options)

    def decorate(self, view: Callable[..., Any], options: dict[str, Any]) -> Callable[..., Any]:
        """Wrap ``view`` with the contestant's decorator (identity for bare Flask)."""
        if self.decorator is None:
            return view
        return self.decorator(**options)(view)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _bare() -> Contestant:
    return Contestant(
        key=BARE,
        label="bare Flask",
        version=_version("flask"),
        extension=None,
        decorator=None,
        resource_prefix=lambda prefix: prefix,
        subdomain_origin=lambda domain: domain,
    )


def _flask_cors() -> Contestant:
    module = importlib.import_module("flask_cors")
    return Contestant(
        key=FLASK_CORS,
        label="flask-cors",
        version=_version("flask-cors"),
        extension=module.CORS,
        decorator=module.cross_origin,
        # A string with regex characters is compiled and matched with re.match;
        # "/api/v3/.*" selects the routes below /api/v3 and not /api/v30.
        resource_prefix=lambda prefix: prefix + "/.*",
        # No wildcard syntax: a whole-origin regex is the equivalent.
        subdomain_origin=lambda domain: r"https://([a-z0-9-]+\.)+" + re.escape(domain) + r"\Z",
        location=os.path.dirname(module.__file__ or ""),
    )


def _crossorigin() -> Contestant:
    module = importlib.import_module("flask_crossorigin")
    return Contestant(
        key=CROSSORIGIN,
        label="flask_crossorigin",
        version=_version("flask-crossorigin"),
        extension=module.CORS,
        decorator=module.cross_origin,
        resource_prefix=lambda prefix: prefix + "/*",
        subdomain_origin=lambda domain: "https://*." + domain,
        location=os.path.dirname(module.__file__ or ""),
    )


_FACTORIES = {BARE: _bare, FLASK_CORS: _flask_cors, CROSSORIGIN: _crossorigin}


def load(keys: tuple[str, ...] = ALL_KEYS) -> tuple[list[Contestant], dict[str, str]]:
    """Return the contestants that import, and why the others were skipped."""
    loaded: list[Contestant] = []
    skipped: dict[str, str] = {}
    for key in keys:
        try:
            loaded.append(_FACTORIES[key]())
        except Exception as exc:  # an unavailable library is reported, not fatal
            skipped[key] = f"{type(exc).__name__}: {exc}"
    return loaded, skipped
