"""SQL text helpers written once: quoting identifiers and string literals, and hiding the values an engine
error quotes. Pure functions; every module that builds SQL text uses these (tests/architecture/test_helpers_once.py)."""

from __future__ import annotations

import re

__all__ = [
    "MAX_NESTING",
    "hide_values",
    "ident",
    "nesting_depth",
    "qualified",
    "string_list",
    "string_literal",
]

#: The deepest bracket nesting a checked SQL text may have: parsers and tree walks recurse once per level.
MAX_NESTING = 100

_QUOTED_VALUE = re.compile(r"'(?:[^']|'')*'")


def ident(name: str) -> str:
    """One identifier, quoted: a column name may hold a dot or a quote; it is not split."""
    return '"' + name.replace('"', '""') + '"'


def qualified(name: str) -> str:
    """``sales.orders`` → ``"sales"."orders"``: every dotted part quoted."""
    return ".".join(ident(part) for part in name.split("."))


def string_literal(text: str) -> str:
    """A string as a SQL literal."""
    return "'" + text.replace("'", "''") + "'"


def string_list(texts: list[str] | tuple[str, ...]) -> str:
    """``['a', 'b']`` as a SQL list literal (DuckDB)."""
    return "[" + ", ".join(string_literal(t) for t in texts) + "]"


def hide_values(message: str) -> str:
    """An engine error's first line with its quoted values replaced by ``'…'``: an error raised while a row
    filter runs on raw rows may quote a value the reader must not see."""
    text = message.strip()
    return _QUOTED_VALUE.sub("'…'", text.splitlines()[0] if text else "")


def nesting_depth(sql: str) -> int:
    """The deepest nesting of ``(`` and ``[`` in ``sql`` outside string literals and quoted names."""
    depth = deepest = 0
    quote: str | None = None
    for char in sql:
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]":
            depth -= 1
    return deepest
