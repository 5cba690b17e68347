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
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["console", "plain", "print_json", "print_table", "to_jsonable"]

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


def print_table(title: str | None, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table
    from rich.text import Text

    heading = Text(plain(title)) if title is not None else None
    table = Table(title=heading, title_justify="left", header_style="bold")
    for header in headers:
        table.add_column(Text(plain(header)), overflow="fold")
    for row in rows:
        table.add_row(*(Text(plain(v)) for v in row))
    console().print(table)
