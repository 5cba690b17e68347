"""A SQL transform reads only what its product declares: every table it names must be one of its input ports
(``<domain>.<product>`` or ``source.<system>.<table>``). Declaring an input is what puts it in the DAG and the
lineage; a transform reading anything else is reported with the file, line and name."""

from __future__ import annotations

from collections.abc import Iterable

from tessera.errors import Problem
from tessera.model.product import Product

__all__ = ["transform_problems"]


def _line(code: str, name: str) -> int | None:
    for number, text in enumerate(code.splitlines(), start=1):
        if name in text.lower():
            return number
    return None


def transform_problems(products: Iterable[Product]) -> list[Problem]:
    """Problems with the SQL transforms of ``products``: SQL that does not parse, tables not declared."""
    import sqlglot
    from sqlglot import exp

    problems: list[Problem] = []
    for product in products:
        transform = product.transform
        if transform is None or transform.kind != "sql":
            continue
        file = transform.path
        try:
            tree = [s for s in sqlglot.parse(transform.code, read="duckdb") if s is not None]
        except sqlglot.errors.ParseError as exc:
            error = exc.errors[0] if exc.errors else {}
            problems.append(
                Problem(
                    file, error.get("line"), "", f"the SQL does not parse: {error.get('description', exc)}"
                )
            )
            continue
        declared = {p.address for p in product.input_ports}
        ctes = {c.alias_or_name.lower() for s in tree for c in s.find_all(exp.CTE)}
        for statement in tree:
            for table in statement.find_all(exp.Table):
                name = ".".join(p for p in (table.catalog, table.db, table.name) if p).lower()
                if not table.name or name in ctes or name in declared:
                    continue
                hint = ", ".join(sorted(declared)) or "none"
                problems.append(
                    Problem(
                        file,
                        _line(transform.code, name),
                        name,
                        f"the transform reads {name!r}, which is not an input port of {product.address} "
                        f"(inputs: {hint}); declare it in product.odps.yaml inputPorts",
                    )
                )
    return problems
