"""Errors and warnings raised while a CORS configuration is validated."""

from __future__ import annotations

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
