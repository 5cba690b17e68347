"""Small helpers are written once: SQL quoting and the hiding of quoted values in engine errors live in
``tessera.model.sqltext``; a second copy anywhere else in ``src/`` fails here (docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "tessera"
HOME = SRC / "model" / "sqltext.py"

#: Text that only the helpers' own module may hold: identifier and literal quoting, value hiding.
COPIES = {
    """replace('"', '""')""": "quote identifiers with tessera.model.sqltext.ident / qualified",
    """replace("'", "''")""": "quote strings with tessera.model.sqltext.string_literal",
    """'(?:[^']|'')*'""": "hide quoted values with tessera.model.sqltext.hide_values",
    "chr(34)": "quote identifiers with tessera.model.sqltext.ident (not a disguised copy)",
    "chr(39)": "quote strings with tessera.model.sqltext.string_literal (not a disguised copy)",
    """f'"{""": "quote identifiers with tessera.model.sqltext.ident: a name may hold a double quote",
}


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_second_copy_of_the_sql_text_helpers(path: Path) -> None:
    if path == HOME:
        return
    text = path.read_text()
    found = [why for needle, why in COPIES.items() if needle in text]
    assert not found, f"{path.relative_to(SRC)}: {'; '.join(found)}"


def test_the_helpers_quote_and_hide() -> None:
    from tessera.model.sqltext import hide_values, ident, qualified, string_list, string_literal

    assert ident('a"b.c') == '"a""b.c"' and qualified("sales.orders") == '"sales"."orders"'
    assert string_literal("it's") == "'it''s'" and string_list(["a", "b'c"]) == "['a', 'b''c']"
    assert (
        hide_values("Could not convert string 'secret' to INT32\nmore")
        == "Could not convert string '…' to INT32"
    )
