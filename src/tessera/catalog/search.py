"""Ranking products for a free-text search: name, then tags, description, column names, column descriptions."""

from __future__ import annotations

from typing import Any

__all__ = ["rank"]

_WEIGHTS = {
    "name": 10.0,
    "address": 6.0,
    "tags": 5.0,
    "description": 3.0,
    "column": 2.0,
    "column_description": 1.0,
}


def _score(terms: list[str], product: dict[str, Any]) -> tuple[float, list[str]]:
    score, why = 0.0, []
    fields = {
        "name": product["name"].lower(),
        "address": product["address"].lower(),
        "tags": " ".join(product.get("tags") or []).lower(),
        "description": (product.get("description") or "").lower(),
        "column": " ".join(c["name"] for c in product.get("columns", [])).lower(),
        "column_description": " ".join(
            (c.get("description") or "") for c in product.get("columns", [])
        ).lower(),
    }
    for term in terms:
        matched = False
        for field, text in fields.items():
            if term in text:
                exact = field == "name" and text == term
                score += _WEIGHTS[field] * (2.0 if exact else 1.0)
                why.append(field)
                matched = True
        if not matched:
            return 0.0, []
    return score, sorted(set(why))


def rank(text: str, products: list[dict[str, Any]], limit: int = 20) -> list[dict[str, Any]]:
    """Products matching every term, best first, each with ``score`` and ``matched`` (the fields that hit)."""
    terms = [t for t in text.lower().split() if t]
    hits = []
    for product in products:
        score, why = _score(terms, product) if terms else (1.0, [])
        if score > 0:
            hits.append({**product, "score": round(score, 2), "matched": why})
    hits.sort(key=lambda p: (-p["score"], p["address"]))
    return hits[:limit]
