"""Row filters: the SQL predicate a read grant may carry, checked before it is stored.

A filter must parse (sqlglot, DuckDB dialect) as one boolean predicate built only from columns, literals,
comparisons, boolean logic, arithmetic and a short list of scalar functions: no subqueries, no table
functions, nothing that reads a file or a setting. When the grant is on a product, every column it names must
be a column of the product's contract. What is stored is sqlglot's rendering (comments dropped), so the secure
query path can put it in a ``WHERE`` as it is.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from tessera.errors import QueryError

__all__ = ["filter_columns", "validate_row_filter"]

#: Node types a filter may contain (subclasses are not implied: each is named).
_ALLOWED: tuple[type[exp.Expr], ...] = (
    # structure and values
    exp.Column, exp.Identifier, exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Var, exp.Interval,
    exp.DataType, exp.DataTypeParam, exp.Neg,
    # boolean logic and comparisons
    exp.And, exp.Or, exp.Not, exp.Xor, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.NullSafeEQ, exp.NullSafeNEQ, exp.Like, exp.ILike, exp.Glob, exp.SimilarTo, exp.RegexpLike,
    exp.RegexpILike, exp.In, exp.Between, exp.Is, exp.Case, exp.If,
    # arithmetic
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.DPipe,
    # scalar functions that read nothing but their arguments
    exp.Cast, exp.TryCast, exp.Lower, exp.Upper, exp.Trim, exp.Length, exp.Coalesce, exp.Nullif,
    exp.Substring, exp.Left, exp.Right, exp.StartsWith, exp.StrPosition, exp.Concat, exp.Abs, exp.Round,
    exp.Floor, exp.Ceil, exp.Extract, exp.Year, exp.Month, exp.Day, exp.Date, exp.DateTrunc,
    exp.TimestampTrunc, exp.TimeToStr, exp.DateAdd, exp.DateSub, exp.DateDiff, exp.CurrentDate,
    exp.CurrentTimestamp,
)  # fmt: skip
_BOOLEAN_ROOTS: tuple[type[exp.Expr], ...] = (exp.Predicate, exp.Connector, exp.Not, exp.Boolean)


def _refuse(text: str, why: str) -> QueryError:
    return QueryError(f"row filter {text!r} {why}")


def _parse(text: str) -> exp.Expr:
    if not text.strip():
        raise _refuse(text, "is empty: give a predicate such as country = 'DE'")
    try:
        statements = sqlglot.parse(text, dialect="duckdb")
    except ParseError as exc:
        first = str(exc).splitlines()[0]
        raise _refuse(text, f"is not valid SQL: {first}") from None
    found = [s for s in statements if s is not None]
    if len(found) != 1:
        raise _refuse(text, "must be one predicate, not several statements")
    return found[0]


def _named(node: exp.Expr) -> str:
    if isinstance(node, exp.Select | exp.Subquery | exp.Exists):
        return "a subquery"
    if isinstance(node, exp.Anonymous):
        return f"function {node.name}()"
    if isinstance(node, exp.Func):
        return f"function {node.sql_name()}()"
    return f"{type(node).__name__} ({node.sql(dialect='duckdb')})"


def filter_columns(text: str) -> set[str]:
    """The (lower-cased) column names a filter refers to."""
    return {c.name.lower() for c in _parse(text).find_all(exp.Column)}


def validate_row_filter(text: str, columns: Mapping[str, str] | None = None) -> str:
    """The filter as it will be stored, or a QueryError saying what is wrong. ``columns`` maps the product's
    column names to their logical types (None when the grant is on a domain or the mesh: not checked)."""
    tree = _parse(text)
    for node in tree.walk():
        if type(node) not in _ALLOWED:
            raise _refuse(
                text, f"may not use {_named(node)}: only columns, literals, comparisons and simple functions"
            )
    root = tree.unnest()
    known = {name.lower(): kind for name, kind in (columns or {}).items()}
    for column in tree.find_all(exp.Column):
        if column.table:
            raise _refuse(text, f"may not qualify a column ({column.sql(dialect='duckdb')}): name it alone")
        if columns is not None and column.name.lower() not in known:
            listed = ", ".join(columns) or "none"
            raise _refuse(
                text,
                f"names column {column.name!r}, which the product's contract does not have (columns: {listed})",
            )
    boolean_column = isinstance(root, exp.Column) and known.get(root.name.lower()) == "boolean"
    if not isinstance(root, _BOOLEAN_ROOTS) and not boolean_column:
        raise _refuse(text, "is not a boolean predicate: compare a column, e.g. country = 'DE'")
    return tree.sql(dialect="duckdb", comments=False)
