"""Errors and warnings raised while a CORS configuration is validated."""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration: where, which option, which value, and the fix."""

    where: str
    option: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.option}={self.value!r}: {self.message}"


class ConfigurationError(ValueError):
    """A CORS configuration cannot be used as written.

    Raised when the configuration is compiled (``CORS(app)``, ``init_app``,
    ``@cross_origin(...)``), never while serving a request. It lists every
    problem found, not just the first; :attr:`problems` holds them one by one.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the CORS configuration:"
        super().__init__("\n  - ".join([head, *map(str, self.problems)]))


class ConfigurationWarning(UserWarning):
    """A configuration that works but is probably not what was meant."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _framework_dirs() -> tuple[str, ...]:
    """Our package and the frameworks between it and the user's code (a blueprint's
    registration, ``flask`` commands): a warning skips their frames."""
    import click
    import flask
    import werkzeug

    dirs = [_PACKAGE_DIR]
    for module in (flask, werkzeug, click):
        dirs.append(os.path.dirname(os.path.abspath(module.__file__ or "")) + os.sep)
    return tuple(dirs)


def warn_configuration(message: str) -> None:
    """Warn with :class:`ConfigurationWarning`, pointing at the user's line, not ours
    (nor Flask's, Werkzeug's or click's).

    Inside :func:`collected_warnings` (in this thread) the message is collected instead.
    """
    notes: list[str] | None = getattr(_collecting, "notes", None)
    if notes is not None:
        notes.append(message)
        return
    skipped = _framework_dirs()
    level = 2  # 1 is this function, 2 its caller
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(skipped):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, ConfigurationWarning, stacklevel=level)


_collecting = threading.local()


@contextmanager
def collected_warnings() -> Iterator[list[str]]:
    """Collect this thread's configuration warnings instead of emitting them.

    Origins loaded at run time (see :mod:`flask_crossorigin.cached_origins`) are
    compiled by the same code as static ones: what would be a warning at start-up
    skips the entry there. Thread-local, unlike :func:`warnings.catch_warnings`.
    """
    outer = getattr(_collecting, "notes", None)
    notes: list[str] = []
    _collecting.notes = notes
    try:
        yield notes
    finally:
        _collecting.notes = outer
