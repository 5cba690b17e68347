"""What mesh.yaml's ``slo:`` may say, read and checked in one place: the window SLOs are judged over and the
objective of each SLO where a contract gives a limit but no target percentage (docs/architecture.md, "SLOs
and error budgets"). Pure values; the mesh loader reports a bad value with its line."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from tessera.model.contract import UNIT_SECONDS

__all__ = [
    "DEFAULT_OBJECTIVES",
    "DEFAULT_WINDOW",
    "SLO_NAMES",
    "SloName",
    "SloSettings",
    "format_window",
    "parse_objective",
    "parse_window",
    "slo_problems",
]

SloName = Literal["freshness", "availability", "quality"]
SLO_NAMES: tuple[SloName, ...] = ("freshness", "availability", "quality")

DEFAULT_WINDOW = timedelta(days=28)
#: Objectives where the contract names a limit but no percentage. Quality is judged per publish attempt, and a
#: product publishes a few dozen times in a window: at 99% one refused publish in 28 would overspend the budget
#: three times over, so its default leaves room for one refusal in twenty.
DEFAULT_OBJECTIVES: Mapping[SloName, float] = {"freshness": 0.99, "availability": 0.99, "quality": 0.95}

_UNITS = {**UNIT_SECONDS, "w": 7 * 86400, "week": 7 * 86400, "weeks": 7 * 86400}
_WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$", re.I)
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
#: A window shorter than an hour has no room for the shortest alert window; longer than a year is not rolling.
_WINDOW_RANGE = (timedelta(hours=1), timedelta(days=366))


def parse_window(text: Any) -> timedelta:
    """``"28d"``, ``"4w"``, ``"36h"`` → a timedelta; ValueError for anything else."""
    match = _WINDOW.match(text) if isinstance(text, str) else None
    unit = (match[2].lower() if match else "").strip()
    if match is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a window (a number and a unit: 28d, 4w, 36h)")
    seconds = float(match[1]) * _UNITS[unit]
    low, high = _WINDOW_RANGE
    if not low.total_seconds() <= seconds <= high.total_seconds():  # before timedelta, which overflows
        raise ValueError(f"{text!r} is out of range (1h to 366d)")
    return timedelta(seconds=seconds)


def format_window(window: timedelta) -> str:
    """``28d``, ``36h``, ``90m``: the largest unit that divides the window."""
    seconds = int(window.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_objective(value: Any) -> float:
    """``"99.5%"``, ``99.5`` (a percentage) or ``0.995`` (a ratio) → 0.995. An objective must leave an error
    budget: 0 < objective < 1. ValueError otherwise."""
    number: float | None = None
    percent = False
    if isinstance(value, str):
        match = _PERCENT.match(value)
        if match:
            number, percent = float(match[1]), True
        else:
            try:
                number = float(value)
            except ValueError:
                number = None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    if number is None or not math.isfinite(number):
        raise ValueError(
            f"{value!r} is not an objective (a percentage such as 99.5% or a ratio such as 0.995)"
        )
    percent = percent or number > 1  # a bare number above 1 is a percentage
    ratio = round(number / 100 if percent else number, 12)  # 99.9% is 0.999, not 0.9990000000000001
    if ratio >= 1:
        raise ValueError(f"{value!r} leaves no error budget: an objective must be below 100% (e.g. 99.9%)")
    if ratio <= 0:
        raise ValueError(f"{value!r} is not an objective above 0%")
    return ratio


@dataclass(frozen=True, slots=True)
class SloSettings:
    """The rolling window and the mesh's objective per SLO (the defaults for what mesh.yaml leaves out)."""

    window: timedelta = DEFAULT_WINDOW
    objectives: Mapping[SloName, float] = field(default_factory=lambda: dict(DEFAULT_OBJECTIVES))
    #: Which objectives mesh.yaml set (the others are the defaults): said in each SLO's ``source``.
    configured: frozenset[str] = frozenset()

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any] | None) -> SloSettings:
        """From mesh.yaml's ``slo:`` (already checked by ``slo_problems``; a bad value keeps its default)."""
        doc = doc or {}
        window = DEFAULT_WINDOW
        if "window" in doc:
            with contextlib.suppress(ValueError):
                window = parse_window(doc["window"])
        objectives = dict(DEFAULT_OBJECTIVES)
        found = doc.get("objectives")
        given: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        configured = set()
        for name in SLO_NAMES:
            if name in given:
                try:
                    objectives[name] = parse_objective(given[name])
                    configured.add(name)
                except ValueError:
                    pass
        return cls(window, objectives, frozenset(configured))


def slo_problems(doc: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """Each key of ``slo:`` whose value cannot be used, with why (key path below ``slo``)."""
    problems: list[tuple[tuple[str, ...], str]] = []
    if "window" in doc:
        try:
            parse_window(doc["window"])
        except ValueError as exc:
            problems.append((("window",), str(exc)))
    objectives = doc.get("objectives")
    if isinstance(objectives, Mapping):
        for name, value in objectives.items():
            if name not in SLO_NAMES:
                continue  # the schema names the unknown key
            try:
                parse_objective(value)
            except ValueError as exc:
                problems.append((("objectives", str(name)), str(exc)))
    return problems
