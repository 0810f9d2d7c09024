"""HXL 1.1 hashtag rows: find them, parse tag specs, and compare them attribute-order-free.

A hashtag row is recognised the way libhxl does it: within the first 25 rows, the first row in
which at least half of the non-empty cells are valid tag specs (``#tag +attr +attr``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_HEADER_ROWS = 25
_TAGSPEC = re.compile(r"^\s*#([a-z][a-z0-9_]*)((\s*\+\s*[a-z][a-z0-9_]*)*)\s*$", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class TagSpec:
    tag: str
    attributes: frozenset[str]

    @property
    def text(self) -> str:
        return "#" + self.tag + "".join(f"+{a}" for a in sorted(self.attributes))

    def has(self, *attrs: str) -> bool:
        return all(a in self.attributes for a in attrs)

    def matches(self, pattern: TagSpec) -> bool:
        """HXL tag pattern semantics: same tag, and every attribute of the pattern present."""
        return self.tag == pattern.tag and pattern.attributes <= self.attributes


def parse_tagspec(text: str | None) -> TagSpec | None:
    if not text:
        return None
    m = _TAGSPEC.match(text)
    if not m:
        return None
    attrs = frozenset(a.strip().lower() for a in m.group(2).split("+") if a.strip())
    return TagSpec(m.group(1).lower(), attrs)


def is_hashtag_row(cells: Sequence[str | None]) -> bool:
    filled = [c for c in cells if c is not None and str(c).strip()]
    if not filled:
        return False
    tags = sum(1 for c in filled if parse_tagspec(str(c)))
    return tags > 0 and tags * 2 >= len(filled)


def find_hashtag_row(rows: Sequence[Sequence[str | None]]) -> int | None:
    """Index (0-based) of the hashtag row among the first 25 rows, or None."""
    for i, row in enumerate(rows[:MAX_HEADER_ROWS]):
        if is_hashtag_row(row):
            return i
    return None
