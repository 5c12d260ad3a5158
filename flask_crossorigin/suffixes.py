"""Public suffixes below a wildcard's parent: the boundaries a wildcard origin never crosses.

``https://*.amazonaws.com`` names Amazon's domain, but ``s3.amazonaws.com`` is on
the Public Suffix List: anyone can own ``attacker-bucket.s3.amazonaws.com``. So a
wildcard matches a host only when neither the host nor any of its ancestors
below the wildcard's parent is a public suffix. The suffixes below each parent
are collected once, at start-up, from publicsuffixlist's copy of the list, into
a tree of labels read from the right (:class:`LabelTree`); a request then reads
its host's labels from the parent leftwards, once each, and stops where the tree
does: its work is linear in the host's length, however many labels it has.
"""

from __future__ import annotations

from functools import lru_cache


class LabelTree:
    """Names as a tree of their labels read from the right: ``com`` -> ``example``.

    :meth:`SuffixesBelow.crossed` walks a host against it label by label from
    the right, slicing each label once, and stops where the tree has no child:
    the work is linear in the host's length, never a slice and a hash per
    ancestor (quadratic on a host of many short labels).
    """

    __slots__ = ("children", "end", "every_child", "exception")

    def __init__(self) -> None:
        self.children: dict[str, LabelTree] = {}
        #: A name put in the tree ends here.
        self.end = False
        #: Every child of this name counts (a public-suffix wildcard rule).
        self.every_child = False
        #: This name is an exception to its parent's wildcard rule.
        self.exception = False

    def __eq__(self, other: object) -> bool:  # the same names and rules: equal trees
        if not isinstance(other, LabelTree):
            return NotImplemented
        return (self.end, self.every_child, self.exception, self.children) == (
            other.end, other.every_child, other.exception, other.children)

    __hash__ = None  # type: ignore[assignment]  # mutable while built: never a key

    def add(self, name: str) -> LabelTree:
        """The node of ``name`` (created as needed)."""
        node = self
        for label in reversed(name.split(".")):
            child = node.children.get(label)
            if child is None:
                child = node.children[label] = LabelTree()
            node = child
        return node


class SuffixesBelow:
    """The public-suffix rules strictly below one domain (all names lowercase, ASCII)."""

    __slots__ = ("exact", "wildcard", "exceptions", "_tree", "_below_parent")

    def __init__(
        self,
        exact: frozenset[str],
        wildcard: frozenset[str],
        exceptions: frozenset[str],
        parent: str = "",
    ) -> None:
        #: Names listed as public suffixes (``s3.amazonaws.com``).
        self.exact = exact
        #: Names whose every child is a public suffix (``*.compute.amazonaws.com``);
        #: the name itself is one too, as the list's own rules say.
        self.wildcard = wildcard
        #: Children of a wildcard rule that are not public suffixes (``!city.kobe.jp``).
        self.exceptions = exceptions
        # Rooted at the parent when it is known (every name ends with it): a host's
        # walk then starts left of the parent instead of at its top-level domain.
        self._below_parent = bool(parent)
        cut = len(parent) + 1 if parent else 0
        tree = LabelTree()
        for name in exact:
            tree.add(name[:-cut] if cut else name).end = True
        for name in wildcard:
            node = tree.add(name[:-cut] if cut else name)
            node.end = node.every_child = True
        for name in exceptions:
            tree.add(name[:-cut] if cut else name).exception = True
        self._tree = tree

    def __bool__(self) -> bool:
        return bool(self.exact or self.wildcard)

    def is_public(self, name: str) -> bool:
        """Whether ``name`` is a public suffix by these rules (for one name; a host's
        ancestors are read in one pass by :meth:`crossed`)."""
        if name in self.exact or name in self.wildcard:
            return True
        parent = name.partition(".")[2]
        return parent in self.wildcard and name not in self.exceptions

    def crossed(self, host: str, parent_start: int) -> str | None:
        """The longest public suffix among ``host`` and its ancestors that start before
        ``parent_start``.

        ``parent_start`` is the index in ``host`` where the wildcard's parent
        begins; ``None`` when no name on the way is a public suffix. One pass
        over the labels from the right, stopping where the rules do.
        """
        node = self._tree
        end = parent_start - 1 if self._below_parent else len(host)
        found = -1
        while end > 0:
            dot = host.rfind(".", 0, end)
            child = node.children.get(host[dot + 1 : end])
            # host[dot + 1:], when below the parent, is public when listed, or when a
            # child of a wildcard rule that is not one of its exceptions.
            if dot + 1 < parent_start and (
                (child is not None and child.end)
                or (node.every_child and (child is None or not child.exception))
            ):
                found = dot + 1
            if child is None:
                break  # no rule below: no longer name is public
            node = child
            end = dot
        return host[found:] if found != -1 else None

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
    return SuffixesBelow(frozenset(exact), frozenset(wildcard), frozenset(exceptions), parent)


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
