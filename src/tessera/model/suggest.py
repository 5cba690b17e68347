""" "Did you mean": the closest known name to a misspelt one, for every message that names something unknown
(a product address, a command, a column). Pure: the caller passes only the names its reader may know of, so a
suggestion never reveals a product the reader cannot see."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean", "unknown_product"]


def closest(word: str, known: Iterable[str], *, n: int = 1, cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` names of ``known`` closest to ``word`` (case-insensitive), best first; [] when none is
    close enough."""
    names = sorted(set(known))
    by_lower: dict[str, str] = {}
    for name in names:
        by_lower.setdefault(name.lower(), name)
    lowered = word.lower()
    if lowered in by_lower and by_lower[lowered] != word:
        return [by_lower[lowered]]  # only the case differs
    hits = difflib.get_close_matches(lowered, list(by_lower), n=n, cutoff=cutoff)
    return [by_lower[h] for h in hits]


def did_you_mean(word: str, known: Iterable[str], *, what: str = "") -> str:
    """``"; did you mean sales.orders?"`` (``what`` goes before the name: ``"column "``), or ``""``."""
    hits = closest(word, known)
    return f"; did you mean {what}{hits[0]}?" if hits else ""


def unknown_product(address: str, known: Iterable[str], *, where: str = "in this mesh") -> str:
    """``no product 'sales.order' in this mesh; did you mean sales.orders?`` — else the known products (the
    first 20), so the reader always learns what to type."""
    names = sorted(set(known))
    hint = did_you_mean(address, names)
    if not hint:
        listed = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
        hint = f" (known: {listed or 'none'})"
    return f"no product {address!r} {where}{hint}"
