"""Errors and warnings raised while a CORS configuration is validated."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from contextvars import ContextVar
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


#: While :func:`collected_warnings` runs: where configuration warnings go instead.
_COLLECTOR: ContextVar[list[str] | None] = ContextVar("crossorigin_warnings", default=None)


@contextlib.contextmanager
def collected_warnings() -> Iterator[list[str]]:
    """Collect the configuration warnings raised inside the block instead of showing
    them, for a caller that decides where (and whether) each is shown."""
    collected: list[str] = []
    token = _COLLECTOR.set(collected)
    try:
        yield collected
    finally:
        _COLLECTOR.reset(token)


def warn_configuration(message: str) -> None:
    """Warn with :class:`ConfigurationWarning`, pointing at the user's line, not ours
    (nor Flask's, Werkzeug's or click's)."""
    collector = _COLLECTOR.get()
    if collector is not None:
        collector.append(message)
        return
    skipped = _framework_dirs()
    level = 2  # 1 is this function, 2 its caller
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(skipped):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, ConfigurationWarning, stacklevel=level)
