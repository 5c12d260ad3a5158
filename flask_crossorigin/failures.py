"""Failures of the extension's own per-request work: logged once per cause, never raised.

Nothing the extension does for a request may turn the response into a 500: the
hooks, the writing of headers and the sending of signals catch what they did not
expect, log it here and let the response go out without a CORS grant (fail
closed). A cause (the exception's type and the line that raised it) is logged at
ERROR with its traceback the first time, then at DEBUG, so that a failure that
every request meets does not flood the log.

A :class:`~flask_crossorigin.ConfigurationError` is not such a failure: found on
a view's first request (a ``@cross_origin`` view registered after ``CORS(app)``),
it is the start-up check, deferred, and stays as loud as at start-up.
"""

from __future__ import annotations

import logging
from typing import Any

from .reasons import logger

#: Set in the WSGI environ when the extension failed on the request: its
#: after_request hook then only withholds every grant.
FAILED_KEY = "flask_crossorigin.failed"
#: Causes remembered; past this many, every further one is logged at ERROR.
MAX_CAUSES = 256
_seen: set[tuple[str, str, int, str]] = set()


def cause_of(error: BaseException, what: str) -> tuple[str, str, int, str]:
    """The exception's type, and the file and line that raised it (the innermost frame)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return type(error).__qualname__, "", 0, what
    return type(error).__qualname__, tb.tb_frame.f_code.co_filename, tb.tb_lineno, what


def log_failure(what: str, error: BaseException, outcome: str, *args: Any) -> None:
    """Log ``error``, raised while doing ``what``: at ERROR with the traceback once per
    cause, at DEBUG afterwards. ``outcome`` (a %-format of ``args``) says what the
    response got instead."""
    cause = cause_of(error, what)
    first = cause not in _seen
    if first and len(_seen) < MAX_CAUSES:
        _seen.add(cause)
    level = logging.ERROR if first else logging.DEBUG
    if logger.isEnabledFor(level):
        logger.log(
            level, "%s failed with %s; " + outcome, what, type(error).__name__, *args,
            exc_info=error if first else None,
        )


def forget_causes() -> None:
    """Log every cause at ERROR again (for tests)."""
    _seen.clear()
