"""Ranking products for a free-text search: name, then tags, description (the product's and its table's), column
names, column descriptions. A term found in no product at all is corrected for typos (``catalog.typos``): the
catalog's words a letter or two from it are searched instead, each hit at half the weight of an exact one."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Any

from tessera.catalog.typos import Pieces, near, pieces

__all__ = ["SearchIndex", "rank"]

#: A corrected term's hits weigh this much of an exact term's.
FUZZY = 0.5

_WEIGHTS = {
    "name": 10.0,
    "address": 6.0,
    "tags": 5.0,
    "description": 3.0,
    "column": 2.0,
    "column_description": 1.0,
}


def _fields(product: dict[str, Any]) -> dict[str, str]:
    return {
        "name": product["name"].lower(),
        "address": product["address"].lower(),
        "tags": " ".join(product.get("tags") or []).lower(),
        "description": " ".join(  # the product's, then its table's (the contract's schema object)
            product.get(key) or "" for key in ("description", "table_description")
        ).lower(),
        "column": " ".join(c["name"] for c in product.get("columns", [])).lower(),
        "column_description": " ".join(
            (c.get("description") or "") for c in product.get("columns", [])
        ).lower(),
    }


def _score(
    terms: list[str],
    product: dict[str, Any],
    fields: dict[str, str] | None = None,
    corrected: dict[str, list[str]] | None = None,
) -> tuple[float, list[str]]:
    score, why = 0.0, []
    fields = fields if fields is not None else _fields(product)
    for term in terms:
        matched = False
        instead = (corrected or {}).get(term)
        for field, text in fields.items():
            if instead is not None:
                if any(word in text for word in instead):
                    score += _WEIGHTS[field] * FUZZY
                    why.append(field)
                    matched = True
            elif term in text:
                exact = field == "name" and text == term
                score += _WEIGHTS[field] * (2.0 if exact else 1.0)
                why.append(field)
                matched = True
        if not matched:
            return 0.0, []
    return score, sorted(set(why))


def corrections(text: str, products: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each term of ``text`` found in no product → the products' words within its typo budget."""
    every = [_fields(p) for p in products]
    words = {piece for fields in every for value in fields.values() for piece in pieces(value)}
    return {
        term: near(term, words)
        for term in dict.fromkeys(t for t in text.lower().split() if t)
        if not any(term in value for fields in every for value in fields.values())
    }


def rank(text: str, products: list[dict[str, Any]], limit: int = 20) -> list[dict[str, Any]]:
    """Products matching every term (or, for a term found nowhere, one of its corrections), best first, each
    with ``score`` and ``matched`` (the fields that hit)."""
    terms = [t for t in text.lower().split() if t]
    corrected = corrections(text, products) if terms else {}
    hits = []
    for product in products:
        score, why = _score(terms, product, None, corrected) if terms else (1.0, [])
        if score > 0:
            hits.append({**product, "score": round(score, 2), "matched": why})
    hits.sort(key=lambda p: (-p["score"], p["address"]))
    return hits[:limit]


_FIELDS = tuple(_WEIGHTS)
_RECENT_TERMS = 1024
#: For each set of fields a term occurs in (a bit per field, in ``_WEIGHTS`` order): its weight and the names.
_MASK_WEIGHT = tuple(sum(w for n, w in enumerate(_WEIGHTS.values()) if m >> n & 1) for m in range(64))
_MASK_WHY = tuple(sorted(f for n, f in enumerate(_FIELDS) if m >> n & 1) for m in range(64))


class SearchIndex:
    """``rank`` over a fixed set of products, answered fast enough to serve: the same hits, scores and order.

    A search term has no whitespace, so it occurs in a field only inside one whitespace-separated word of it.
    The index keeps each distinct word once, with the (product, field) pairs holding it, and for each
    three-letter piece the words holding it; a term's words are the rarest of its pieces' words that hold the
    whole term (a term shorter than three letters is found in the joined vocabulary with ``str.find``), and
    products are scored from the fields their matching words sit in, without rereading any product's text."""

    def __init__(self, products: list[dict[str, Any]]) -> None:
        self.products = sorted(products, key=lambda p: p["address"])
        self._by_name: dict[str, list[int]] = {}
        for index, product in enumerate(self.products):
            self._by_name.setdefault(product["name"].lower(), []).append(index)
        postings: dict[str, set[int]] = {}
        for index, product in enumerate(self.products):
            for number, text in enumerate(_fields(product).values()):
                for word in set(text.split()):
                    postings.setdefault(word, set()).add(index * 8 + number)
        self._words = list(postings)
        self._postings = [array("i", sorted(postings[w])) for w in self._words]
        grams: dict[str, list[int]] = {}
        for number, word in enumerate(self._words):
            for gram in {word[at : at + 3] for at in range(len(word) - 2)}:
                grams.setdefault(gram, []).append(number)
        self._trigrams = {gram: array("i", numbers) for gram, numbers in grams.items()}
        self._starts: list[int] = []
        offset = 0
        for word in self._words:
            self._starts.append(offset)
            offset += len(word) + 1
        self._vocabulary = "\n".join(self._words)
        self._recent: dict[str, dict[int, int]] = {}
        self._fuzzy: dict[str, tuple[list[str], dict[int, int]]] = {}
        self._pieces: Pieces | None = None  # made by the first term that needs correcting

    def _fields_holding(self, term: str) -> dict[int, int]:
        """product index -> bit mask of the fields where ``term`` occurs (the terms used last are remembered)."""
        found = self._recent.pop(term, None)
        if found is None:
            found = self._find(term)
            if len(self._recent) >= _RECENT_TERMS:  # forget the least recent (another thread may just have)
                with suppress(KeyError, RuntimeError, StopIteration):
                    del self._recent[next(iter(self._recent))]
        self._recent[term] = found
        return found

    def _holding(self, term: str) -> Iterable[int]:
        """The numbers of the words ``term`` occurs in: from the rarest of its three-letter pieces, else (a
        shorter term) by a scan of the vocabulary."""
        if len(term) >= 3:
            pieces = [self._trigrams.get(term[at : at + 3]) for at in range(len(term) - 2)]
            if any(p is None for p in pieces):
                return ()
            rarest = min((p for p in pieces if p is not None), key=len)
            words = self._words
            return rarest if len(term) == 3 else [n for n in rarest if term in words[n]]
        found = []
        starts, vocabulary = self._starts, self._vocabulary
        at = vocabulary.find(term)
        while at != -1:
            word = bisect_right(starts, at) - 1
            found.append(word)
            nxt = starts[word + 1] if word + 1 < len(starts) else len(vocabulary)
            at = vocabulary.find(term, nxt)
        return found

    def _find(self, term: str) -> dict[int, int]:
        masks: dict[int, int] = {}
        for word in self._holding(term):
            for posting in self._postings[word]:
                index = posting >> 3
                masks[index] = masks.get(index, 0) | (1 << (posting & 7))
        return masks

    def corrections(self, text: str) -> dict[str, list[str]]:
        """Each term of ``text`` found in no product → the catalog's words within its typo budget."""
        return {
            term: self._corrected(term)[0]
            for term in dict.fromkeys(t for t in text.lower().split() if t)
            if not self._fields_holding(term)
        }

    def _corrected(self, term: str) -> tuple[list[str], dict[int, int]]:
        """The words a term found nowhere stands for, and the fields they occur in (remembered)."""
        found = self._fuzzy.get(term)
        if found is None:
            if self._pieces is None:
                self._pieces = Pieces(self._words)
            words = self._pieces.near(term)
            masks: dict[int, int] = {}
            for word in words:
                for index, mask in self._fields_holding(word).items():
                    masks[index] = masks.get(index, 0) | mask
            found = (words, masks)
            if len(self._fuzzy) >= _RECENT_TERMS:
                self._fuzzy.clear()
            self._fuzzy[term] = found
        return found

    def scores(self, text: str) -> tuple[dict[int, float], list[dict[int, int]]]:
        """Every product matching all terms of ``text`` (by its number in ``products``) → its score, and for
        each term the fields it hit in each product; every product scores 1.0 for an empty text."""
        terms = [t for t in text.lower().split() if t]
        if not terms:
            return dict.fromkeys(range(len(self.products)), 1.0), []
        per_term = []
        for term in terms:
            masks = self._fields_holding(term)
            per_term.append((term, masks, 1.0) if masks else (term, self._corrected(term)[1], FUZZY))
        scores: dict[int, float] = {}
        for number, (term, masks, weight) in enumerate(per_term):
            if number == 0:
                scores = {i: _MASK_WEIGHT[m] * weight for i, m in masks.items()}
            else:
                scores = {i: s + _MASK_WEIGHT[masks[i]] * weight for i, s in scores.items() if i in masks}
            if weight == 1.0:
                for index in self._by_name.get(term, ()):  # the whole name: its weight counts twice
                    if index in scores:
                        scores[index] += _WEIGHTS["name"]
        return scores, [masks for _, masks, _ in per_term]

    def rank(
        self,
        text: str,
        limit: int = 20,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        uses: dict[str, int] | None = None,
    ) -> list[dict[str, Any]]:
        """Like ``rank``; ``keep`` filters the products before they are ranked; ``uses`` (product → how often
        it was used) orders the matches most used first, then by score."""
        if not text.split() and uses is None:
            pool = [p for p in self.products if keep is None or keep(p)]
            return [{**p, "score": 1.0, "matched": []} for p in pool[: max(limit, 0)]]
        scores, per_term = self.scores(text)
        products = self.products
        order: Iterable[int]
        if uses is not None:
            order = sorted(scores, key=lambda i: (-uses.get(products[i]["address"], 0), -scores[i], i))
        else:
            by_score: dict[float, list[int]] = {}
            for index, score in scores.items():
                by_score.setdefault(score, []).append(index)
            # best first, then by address (the products' order), sorted only as far as the limit reads
            order = (i for score in sorted(by_score, reverse=True) for i in sorted(by_score[score]))
        out: list[dict[str, Any]] = []
        for index in order:
            product = products[index]
            if keep is not None and not keep(product):
                continue
            if len(out) >= limit:
                break
            fields = 0
            for masks in per_term:
                fields |= masks[index]
            out.append({**product, "score": round(scores[index], 2), "matched": list(_MASK_WHY[fields])})
        return out
