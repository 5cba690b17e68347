"""DuckDB SQL → Spark SQL, with sqlglot: every engine takes the DuckDB dialect (transforms, quality passes,
queries), and the Spark Connect engine runs this translation first.

Beyond sqlglot's own translation: qualified names (``sales.orders``, ``source.crm.customers``) become the temp
views they were registered as; ``?`` parameters are inlined as literals; ``regexp_full_match`` becomes an
anchored ``RLIKE``; ``GROUP BY ALL`` names its keys; ``epoch(ts)`` keeps its fractional seconds (``unix_micros``); a tuple in ``count(DISTINCT
(a, b))`` becomes a struct, which counts a tuple holding a null as DuckDB does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tessera.errors import QueryError

__all__ = ["show_position", "to_spark"]


def _rewrite(node: Any, views: Mapping[str, str], params: list[Any]) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Table) and node.name:
        name = ".".join(p for p in (node.catalog, node.db, node.name) if p).lower()
        view = views.get(name)
        if view is not None:
            alias = node.args.get("alias")
            table = exp.Table(this=exp.to_identifier(view, quoted=True))
            if alias is not None:
                table.set("alias", alias)
            return table
    if isinstance(node, exp.Placeholder) and params:
        return exp.convert(params.pop(0))
    if isinstance(node, exp.RegexpFullMatch):
        subject, pattern = node.this, node.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            anchored: Any = exp.Literal.string(f"^(?:{pattern.this})\\z")
        else:
            anchored = exp.func("concat", exp.Literal.string("^(?:"), pattern, exp.Literal.string(")\\z"))
        return exp.RegexpLike(this=subject, expression=anchored)
    if isinstance(node, exp.TimeToUnix):  # DuckDB epoch(): seconds with their fraction
        micros = exp.Anonymous(this="unix_micros", expressions=[node.this])
        return exp.Div(this=micros, expression=exp.Literal.number("1000000.0"))
    if isinstance(node, exp.Select):
        group = node.args.get("group")
        if group is not None and group.args.get("all"):  # Sail has no GROUP BY ALL: name the keys
            keys = [p.unalias().copy() for p in node.selects if not p.find(exp.AggFunc, exp.Window)]
            group.set("all", None)
            group.set("expressions", keys)
    if isinstance(node, exp.Distinct) and len(node.expressions) == 1:
        only = node.expressions[0]
        if isinstance(only, exp.Tuple):
            node.set("expressions", [exp.Struct(expressions=list(only.expressions))])
    return node


def to_spark(sql: str, views: Mapping[str, str], params: Sequence[Any] | None = None) -> str:
    """``sql`` (DuckDB dialect, one statement) as Spark SQL over the registered ``views`` (qualified name,
    lower case → temp view name). A statement sqlglot cannot parse is a QueryError naming where."""
    import sqlglot

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.ParseError as exc:
        first = str(exc).strip().splitlines()[0]
        raise QueryError(f"the SQL does not parse as DuckDB SQL: {first}") from None
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, got {len(statements)}")
    pending = list(params or ())
    tree = statements[0].transform(lambda node: _rewrite(node, views, pending), copy=True)
    return str(tree.sql(dialect="spark", pretty=True, normalize_functions=False))


def show_position(sql: str, message: str) -> str:
    """The translated SQL with line numbers and carets under where the engine's message points: its position
    (``at 3:17``, ``line 3, pos 16``), else the first use of the name it complains about."""
    import re

    lines = sql.splitlines()
    where = re.search(r"\bat (\d+):(\d+)\b", message) or re.search(
        r"line (\d+),? pos(?:ition)? (\d+)", message
    )
    line_no, column, width = (int(where[1]), int(where[2]), 1) if where else (None, None, 1)
    if where is None:
        for found in re.findall(r'Identifier\("([^"]+)"\)|`([^`]+)`', message):
            word = found[0] or found[1]
            pattern = re.compile(rf"(?<![\w`]){re.escape(word)}(?![\w`])")
            hits = [(i, m.start()) for i, text in enumerate(lines, 1) if (m := pattern.search(text))]
            if hits:
                (line_no, start), width = hits[0], len(word)
                column = start + 1
                break
    out = []
    for number, text in enumerate(lines, start=1):
        out.append(f"  {number:3d} | {text}")
        if number == line_no and column is not None:
            out.append("      | " + " " * max(column - 1, 0) + "^" * width)
    return "\n".join(out)
