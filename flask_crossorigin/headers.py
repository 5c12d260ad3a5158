"""HTTP syntax the CORS layer relies on: tokens, request-header lists and ``Vary``."""

from __future__ import annotations

import re
from collections.abc import Iterable

#: RFC 9110 ``token``: what header names and methods are made of. No CR, LF or space.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

#: Bounds on ``Access-Control-Request-Headers``. Browsers send a short, sorted,
#: lowercase list; anything past these limits is refused before it is parsed.
MAX_REQUEST_HEADERS_LENGTH = 4096
MAX_REQUEST_HEADERS_COUNT = 64

# A character that may not appear in a list of header names.
_NOT_IN_HEADER_LIST = re.compile(r"[^!#$%&'*+\-.^_`|~0-9A-Za-z, \t]")


class HeaderListError(Exception):
    """``Access-Control-Request-Headers`` could not be read; ``code`` names the reason."""

    def __init__(self, code: str, length: int = 0, count: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.length = length
        self.count = count


def is_token(value: object) -> bool:
    return isinstance(value, str) and TOKEN.fullmatch(value) is not None


def parse_request_headers(value: str, *, keep_case: bool = False) -> list[str]:
    """Split ``Access-Control-Request-Headers`` into lowercase names, in bounded time.

    ``keep_case=True`` keeps each name as the client spelt it (duplicates are
    still dropped case-insensitively), for echoing them back.

    The work is capped by :data:`MAX_REQUEST_HEADERS_LENGTH` and
    :data:`MAX_REQUEST_HEADERS_COUNT`, both checked in C before any Python loop.
    Raises :class:`HeaderListError` for a value that is too long or malformed.
    """
    if len(value) > MAX_REQUEST_HEADERS_LENGTH:  # first: costs nothing, whatever the size
        raise HeaderListError("headers-too-long", len(value), "not counted")
    commas = value.count(",")
    if commas >= MAX_REQUEST_HEADERS_COUNT:
        raise HeaderListError("headers-too-long", len(value), str(commas + 1))
    if _NOT_IN_HEADER_LIST.search(value) is not None:
        raise HeaderListError("headers-malformed")
    names: list[str] = []
    seen: list[str] = []
    for part in (value if keep_case else value.lower()).split(","):
        name = part.strip(" \t")
        if not name:
            continue  # tolerate empty list elements, as RFC 9110 asks of recipients
        if " " in name or "\t" in name:
            raise HeaderListError("headers-malformed")
        lowered = name.lower() if keep_case else name
        if lowered not in seen:
            seen.append(lowered)
            names.append(name)
    return names


def merged_vary(lines: list[str], names: Iterable[str]) -> str | None:
    """The ``Vary`` value that adds ``names`` to the response's ``Vary`` lines.

    ``None`` when nothing needs to change: every name is already there (compared
    case-insensitively) or the response already varies on ``*``.
    """
    items = [item.strip() for line in lines for item in line.split(",")]
    present = {item.lower() for item in items}
    if "*" in present:
        return None
    missing = [name for name in names if name.lower() not in present]
    if not missing and len(lines) == 1:
        return None
    # Empty lines and empty list elements ('Vary: ', 'Accept,') are dropped, never
    # joined into 'Vary: , Origin'.
    return ", ".join([*(item for item in items if item), *missing])
