"""Public suffixes below a wildcard's parent: the boundaries a wildcard origin never crosses.

``https://*.amazonaws.com`` names Amazon's domain, but ``s3.amazonaws.com`` is on
the Public Suffix List: anyone can own ``attacker-bucket.s3.amazonaws.com``. So a
wildcard matches a host only when neither the host nor any of its ancestors
below the wildcard's parent is a public suffix. The suffixes below each parent
are collected once, at start-up, from publicsuffixlist's copy of the list; a
request then costs one set lookup or two per label of its host.
"""

from __future__ import annotations

from functools import lru_cache


class SuffixesBelow:
    """The public-suffix rules strictly below one domain (all names lowercase, ASCII)."""

    __slots__ = ("exact", "wildcard", "exceptions")

    def __init__(
        self, exact: frozenset[str], wildcard: frozenset[str], exceptions: frozenset[str]
    ) -> None:
        #: Names listed as public suffixes (``s3.amazonaws.com``).
        self.exact = exact
        #: Names whose every child is a public suffix (``*.compute.amazonaws.com``);
        #: the name itself is one too, as the list's own rules say.
        self.wildcard = wildcard
        #: Children of a wildcard rule that are not public suffixes (``!city.kobe.jp``).
        self.exceptions = exceptions

    def __bool__(self) -> bool:
        return bool(self.exact or self.wildcard)

    def is_public(self, name: str) -> bool:
        if name in self.exact or name in self.wildcard:
            return True
        parent = name.partition(".")[2]
        return parent in self.wildcard and name not in self.exceptions

    def crossed(self, host: str, parent_start: int) -> str | None:
        """The public suffix among ``host`` and its ancestors that start before ``parent_start``.

        ``parent_start`` is the index in ``host`` where the wildcard's parent
        begins; ``None`` when no name on the way is a public suffix.
        """
        start = 0
        while start < parent_start:
            name = host[start:]
            if self.is_public(name):
                return name
            start = host.find(".", start) + 1
            if start == 0:
                break
        return None

    def examples(self, count: int = 3) -> list[str]:
        """A few of the suffixes, for messages."""
        names = sorted(self.exact | {f"*.{name}" for name in self.wildcard})
        return names[:count]

    def __len__(self) -> int:
        return len(self.exact) + len(self.wildcard)


NO_SUFFIXES = SuffixesBelow(frozenset(), frozenset(), frozenset())


@lru_cache(maxsize=256)
def suffixes_below(parent: str) -> SuffixesBelow:
    """The public suffixes strictly below ``parent`` (an ASCII, lowercase host)."""
    tail = "." + parent
    exact: set[str] = set()
    wildcard: set[str] = set()
    exceptions: set[str] = set()
    for rule in _rules():
        if not rule.endswith(tail):
            continue
        if rule.startswith("!"):
            exceptions.add(rule[1:])
        elif rule.startswith("*."):
            if rule[2:] == parent:
                continue  # the parent itself is a public suffix: refused at start-up
            wildcard.add(rule[2:])
        else:
            exact.add(rule)
    if not exact and not wildcard:
        return NO_SUFFIXES
    return SuffixesBelow(frozenset(exact), frozenset(wildcard), frozenset(exceptions))


@lru_cache(maxsize=1)
def _rules() -> tuple[str, ...]:
    # The rules of publicsuffixlist's bundled copy of the list (ICANN and private
    # sections), read in the list's documented format: one rule per line, the rule
    # ending at the first whitespace, '//' starting a comment.
    from publicsuffixlist import PSLFILE

    rules = []
    with open(PSLFILE, encoding="utf-8") as source:
        for line in source:
            text = line.strip()
            if not text or text.startswith("//"):
                continue
            rule = text.split()[0].lower()
            rules.append(rule if rule.isascii() else _punycode(rule))
    return tuple(rules)


def _punycode(rule: str) -> str:
    # Origins carry IDNs in punycode: file the rule the way a browser sends its names.
    prefix = rule[0] if rule[0] == "!" else ""
    labels = rule[len(prefix):].split(".")
    encoded = []
    for label in labels:
        try:
            encoded.append(label if label == "*" else label.encode("idna").decode("ascii"))
        except UnicodeError:
            encoded.append(label)
    return prefix + ".".join(encoded)
