"""CSV formula neutralisation: text cells a spreadsheet would run as a formula get a leading ``'``.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice and
Google Sheets as a formula (``=HYPERLINK(...)``, ``@SUM(...)``, DDE payloads), so data written by one person can
act in the spreadsheet of another who downloads it. Prefixing ``'`` makes the spreadsheet show the text as it
is. Only text columns change; numbers (a negative amount) and every other type stay as they are. The change
alters values, so it is asked for (``safe_csv=true`` over REST, ``--safe-csv`` in the CLI); which outputs do it
by default is in docs/governance.md, "CSV downloads".
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

__all__ = ["FORMULA_PREFIXES", "neutralise_table", "neutralise_value"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = "^[=+\\-@\t\r]"


def neutralise_value(value: Any) -> Any:
    """``'=1+1'`` → ``"'=1+1"``; anything that is not such a text is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _column(array: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type):
        array = array.cast(kind.value_type)
        kind = array.type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return array
    risky = pc.fill_null(pc.match_substring_regex(array, _PATTERN), False)
    if not pc.any(risky).as_py():
        return array
    quoted = pc.binary_join_element_wise(pa.scalar("'", kind), array, pa.scalar("", kind))
    return pc.if_else(risky, quoted, array)


def neutralise_table(table: pa.Table) -> pa.Table:
    """Every text column's formula-looking cells prefixed with ``'``; the same table when none is."""
    old = [table.column(i) for i in range(table.num_columns)]
    columns = [_column(array) for array in old]
    if all(new is array for new, array in zip(columns, old, strict=True)):
        return table
    return pa.Table.from_arrays(columns, names=table.schema.names)
