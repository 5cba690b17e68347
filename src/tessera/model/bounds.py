"""The values mesh.yaml's ``limits:`` may take, checked in one place: the mesh loader reports a bad one as a
problem with its line, and the query limits refuse it (``tessera.access.limits``)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["limit_problems", "parse_size"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$", re.I)
_FACTORS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_FACTORS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}

#: DuckDB takes a memory limit below 2^63 bytes; anything under 16 MB cannot run a query.
_MEMORY = (16 * 10**6, 2**50)
_THREADS = (1, 256)
_SECONDS = (0.001, 7 * 24 * 3600.0)


def parse_size(text: str | int) -> int:
    """``"2GB"``, ``"512MiB"``, ``1048576`` → bytes; ValueError for anything else."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ValueError(f"{text} is not a size")
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a size (e.g. 2GB, 512MiB, 1000000)")
    return int(float(match[1]) * _FACTORS[(match[2] or "b").lower()])


def limit_problems(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each key of ``limits:`` whose value cannot be used, with why."""
    problems: list[tuple[str, str]] = []

    def size(key: str, low: int, high: int, zero_ok: bool) -> None:
        try:
            value = parse_size(doc[key])
        except (ValueError, TypeError) as exc:
            problems.append((key, str(exc)))
            return
        if not (zero_ok and value == 0) and not low <= value <= high:
            problems.append((key, f"{doc[key]!r} is out of range ({low:,} to {high:,} bytes)"))

    def number(key: str, low: float, high: float) -> None:
        value = doc[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.append((key, f"{value!r} is not a finite number"))
        elif not low <= value <= high:
            problems.append((key, f"{value!r} is out of range ({low:g} to {high:g})"))

    if "memory" in doc:
        size("memory", *_MEMORY, zero_ok=False)
    if "maxBytes" in doc:
        size("maxBytes", 1, 2**50, zero_ok=True)
    if "threads" in doc:
        number("threads", *_THREADS)
    for key in ("timeout", "transformTimeout"):
        if key in doc:
            number(key, *_SECONDS)
    if "maxRows" in doc:
        value = doc["maxRows"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(("maxRows", f"{value!r} is not a row count (0 for no cap)"))
    return problems
