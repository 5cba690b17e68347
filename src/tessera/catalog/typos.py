"""Typo tolerance for catalog search: a search word that occurs nowhere is replaced by the words of the catalog
within a small edit distance of it (``ordrs`` → ``orders``), and those are searched instead, ranked below exact
matches (``catalog.search``).

The catalog's words here are its *pieces*: runs of letters and digits (``sales.orders`` and ``order_id`` give
``sales``, ``orders``, ``order``, ``id``). A term of 4–6 letters may be one edit away, a longer one two: a
letter missing, extra or wrong, or two neighbours swapped (optimal string alignment distance). Shorter terms
are never corrected.

``Pieces.near`` finds them without comparing the term with every piece: only pieces of a length within the
budget, whose sets of characters differ from the term's by at most two per edit (an edit changes at most two
characters of the set), are compared letter by letter."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["Pieces", "budget", "near", "pieces", "within"]

_PIECE = re.compile(r"[^\W_]+")


def pieces(text: str) -> list[str]:
    """The runs of letters and digits of lower-cased ``text``."""
    return _PIECE.findall(text)


def budget(term: str) -> int:
    """How many edits a term may be from a word: none under 4 letters, 1 up to 6, else 2."""
    return 0 if len(term) < 4 else 1 if len(term) <= 6 else 2


def within(a: str, b: str, k: int) -> bool:
    """Optimal string alignment distance of ``a`` and ``b`` is at most ``k`` (rows cut short past ``k``)."""
    if abs(len(a) - len(b)) > k:
        return False
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        if min(current) > k:
            return False
        before, row = row, current
    return row[-1] <= k


def _letters(word: str) -> int:
    mask = 0
    for char in word:
        mask |= 1 << (ord(char) % 62)
    return mask


def near(term: str, candidates: Iterable[str]) -> list[str]:
    """The candidates within ``budget(term)`` edits of ``term`` (the reference ``Pieces.near`` agrees with)."""
    k = budget(term)
    return sorted({c for c in candidates if k and within(term, c, k)})


class Pieces:
    """The distinct pieces of a vocabulary, by length, each with its set of characters as a bit mask."""

    def __init__(self, words: Iterable[str]) -> None:
        found: set[str] = set()
        for word in words:
            found.update(pieces(word))
        self._by_length: dict[int, list[tuple[int, str]]] = {}
        for piece in sorted(found):
            self._by_length.setdefault(len(piece), []).append((_letters(piece), piece))

    def near(self, term: str) -> list[str]:
        k = budget(term)
        if not k:
            return []
        mask, most, out = _letters(term), 2 * k, []
        for length in range(len(term) - k, len(term) + k + 1):
            for letters, piece in self._by_length.get(length, ()):
                if (letters ^ mask).bit_count() <= most and within(term, piece, k):
                    out.append(piece)
        return sorted(out)
