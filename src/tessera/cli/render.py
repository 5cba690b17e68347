"""Rendering: rich tables for people, JSON for programs.

Text is never markup: every cell, title and header is a plain ``rich.text.Text``, and ``plain`` makes control
characters visible (ESC → ``\\x1b``, bidi overrides → ``\\u202e``), so text that someone else wrote (a purpose, a
description, a policy message, a share comment) cannot style, hide or link anything in the reader's terminal.
Commands that print such text with ``print`` pass it through ``plain`` too.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

__all__ = [
    "console",
    "count",
    "figure",
    "moment",
    "plain",
    "print_json",
    "print_table",
    "shorten",
    "span",
    "to_jsonable",
]

#: C0 controls but tab and newline, DEL, C1 controls, and the bidi embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(value: Any) -> str:
    """``value`` as text with its control characters shown as escapes (``"\\x1b[2J"`` prints as ``\\x1b[2J``)."""
    return _CONTROL.sub(_visible, "" if value is None else str(value))


def to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, default=str) + "\n")


def console(stderr: bool = False) -> Any:
    import os

    from rich.console import Console
    from rich.console import Console as Probe

    wide = None if Probe(stderr=stderr).is_terminal or os.environ.get("COLUMNS") else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=wide)


def shorten(text: str, limit: int | None) -> str:
    """``text`` cut to ``limit`` characters, the last an ellipsis; one line (a newline shows as ``⏎``)."""
    if limit is None:
        return text
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_table(
    title: str | None, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, cell_limit: int | None = None
) -> None:
    """A table; ``cell_limit`` cuts longer cells to that many characters with an ellipsis (data in a terminal;
    ``--json`` and CSV carry every character)."""
    from rich.table import Table
    from rich.text import Text

    heading = Text(plain(title)) if title is not None else None
    table = Table(title=heading, title_justify="left", header_style="bold")
    for header in headers:
        table.add_column(Text(plain(header)), overflow="fold")
    for row in rows:
        table.add_row(*(Text(shorten(plain(v), cell_limit)) for v in row))
    console().print(table)


def count(value: Any) -> str:
    """A row count with thousands separators (``12,345``); anything else as it is, nothing for None."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else plain(value)


def figure(value: Any) -> str:
    """A measured number rounded for a reader: whole numbers with separators, others to three significant
    digits below 100 (``3.92``, ``0.983``) and whole above it; anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return plain(value)
    number = float(value)
    if number.is_integer():
        return f"{int(number):,}"
    if abs(number) >= 100:
        return f"{number:,.0f}"
    return f"{number:.3g}" if abs(number) >= 1e-3 else f"{number:.2e}"


def span(delta: timedelta | None) -> str:
    """An age or a limit in words a reader takes in at a glance: ``45 s``, ``12 min``, ``3 h 12 min``,
    ``2 d 5 h``."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 1440:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, rest = divmod(minutes, 1440)
    return f"{days} d {rest // 60} h" if rest // 60 else f"{days} d"


def moment(value: Any) -> str:
    """A point in time to the second, in UTC (``2026-12-07 08:32:03 UTC``); anything else as it is."""
    from datetime import UTC

    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return plain(value)
    if not isinstance(value, datetime):
        return plain(value)
    stamp = value.astimezone(UTC) if value.tzinfo else value
    return f"{stamp:%Y-%m-%d %H:%M:%S}" + (" UTC" if value.tzinfo else "")
