"""Column-level lineage of one SQL transform, read from the SQL with sqlglot.

The transform is parsed and qualified once against the input schemas, then sqlglot's scope tree (CTEs, derived
tables, subqueries, set operations) is walked in one pass: ``sqlglot.lineage`` would re-qualify the query for
every column. Edge kinds, the strongest winning when a column reaches an output along several paths:

* ``aggregation``: inside an aggregate (its ``FILTER`` too) or a window function, whose value depends on
  other rows; ``count(*)`` draws an edge from each input its rows come from, source column ``ROWS`` (``*``).
* ``transformation``: any other expression: functions, casts, arithmetic, ``CASE``, scalar subqueries.
* ``identity``: passed through, renamed or not; also ``coalesce(a.k, b.k) AS k``, a ``USING (k)`` join key.
* ``filter`` / ``join``, ``target_column`` None as they decide which rows exist: WHERE, HAVING, QUALIFY and
  the subqueries there / JOIN conditions and ``USING``.

ORDER BY and unselected GROUP BY keys give no edge. An input with unknown columns (an empty sequence, as for
an undescribed source) takes the unqualified columns of a SELECT where it is the only such input;
``SELECT *`` over it is reported as a problem.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final, Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope

__all__ = ["ROWS", "ColumnEdge", "EdgeKind", "LineageResult", "column_lineage"]

EdgeKind = Literal["identity", "transformation", "aggregation", "filter", "join"]
_Value = Literal["identity", "transformation", "aggregation"]
_Origins = dict[tuple[str, str], _Value]  # (input address, column) -> how the value derives from it

#: The source column of an edge that depends on an input's rows, not on one of its columns (``count(*)``).
ROWS: Final = "*"
_RANK: Final[dict[str, int]] = {"identity": 0, "transformation": 1, "aggregation": 2}
_AGGREGATING: Final = (exp.AggFunc, exp.Window, exp.Filter)
_PASSING: Final = (exp.Alias, exp.Paren)
# unplaceable columns are left as they are (the walk reports them); quoting would only cost time
_qualify: Final = partial(
    qualify, validate_qualify_columns=False, allow_partial_qualification=True, quote_identifiers=False
)


@dataclass(frozen=True, slots=True)
class ColumnEdge:
    """An input column feeding an output column, or the output's rows when ``target_column`` is None."""

    source: str
    source_column: str
    target_column: str | None
    kind: EdgeKind


@dataclass(frozen=True, slots=True)
class LineageResult:
    """The edges, the output columns in order, and what could not be traced (each with a hint)."""

    edges: tuple[ColumnEdge, ...]
    output_columns: tuple[str, ...]
    problems: tuple[str, ...]


def column_lineage(
    sql: str, inputs: Mapping[str, Sequence[str]], *, dialect: str = "duckdb"
) -> LineageResult:
    """Lineage of the query ``sql`` over ``inputs`` (address -> known column names, in order). Never raises
    for user SQL: SQL that does not parse gives no edges and a problem naming the line and column."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        return LineageResult((), (), (_parse_problem(sql, exc),))
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        return LineageResult((), (), ("the transform must be one query (a SELECT or a set operation)",))
    walker = _Walker(inputs)
    try:
        return walker.run(statements[0], dialect)
    except Exception as exc:  # sqlglot's optimizer raises assorted errors on odd SQL: report, never raise
        return LineageResult((), (), (*walker.problems, f"the SQL could not be analysed: {exc}"))


def _parse_problem(sql: str, exc: ParseError | TokenError) -> str:
    if isinstance(exc, ParseError):
        error = exc.errors[0] if exc.errors else {}
        what = str(error.get("description") or exc).split(" <Token")[0]
        what += f" {error['highlight']!r}" if error.get("highlight") else ""
        return f"the SQL does not parse at line {error.get('line')}, column {error.get('col')}: {what}"
    start, end = exc.start or 0, exc.end or len(sql)  # sqlglot quotes 50 characters either side of the error
    at = start + 50 if start else end - 50 if end < len(sql) - 1 else end
    line, column = sql.count("\n", 0, at) + 1, at - sql.rfind("\n", 0, at)
    return f"the SQL does not parse at line {line}, column {column}: it does not tokenize (unclosed quote?)"


def _stronger(a: _Value, b: _Value) -> _Value:
    return a if _RANK[a] >= _RANK[b] else b


def _add(found: _Origins, origins: _Origins, kind: _Value) -> None:
    for key, inner in origins.items():
        found[key] = _stronger(found.get(key, "identity"), _stronger(kind, inner))


def _key_coalesce(node: exp.Expr) -> bool:
    """``coalesce(a.k, b.k) AS k``: what qualifying a ``USING (k)`` join makes of the key ``k``."""
    if not isinstance(node, exp.Coalesce) or not isinstance(node.parent, exp.Alias):
        return False
    args = [node.this, *node.expressions]
    return all(isinstance(a, exp.Column) and a.name == node.parent.alias for a in args)


def _lambda_variable(column: exp.Column) -> bool:
    lambda_ = column.find_ancestor(exp.Lambda)
    return lambda_ is not None and column.name in {v.name for v in lambda_.expressions}


class _Walker:
    """One query's walk: resolves columns scope by scope, each scope's outputs computed once."""

    def __init__(self, inputs: Mapping[str, Sequence[str]]) -> None:
        self.addresses = {a.lower(): a for a in inputs}
        self.columns = {a: {c.lower(): c for c in cols} for a, cols in inputs.items()}
        self.synthetic = {f"_tessera_input_{i}": a for i, a in enumerate(inputs)}  # one-part name -> address
        self.scopes: dict[int, Scope] = {}
        self.outputs: dict[int, list[tuple[str, _Origins]]] = {}
        self.problems: list[str] = []

    def run(self, tree: exp.Query, dialect: str) -> LineageResult:
        # qualify lowercases names as DuckDB matches them; DuckDB outputs the alias or column as spelled
        spelled = {c.lower(): c for cols in self.columns.values() for c in cols.values()}
        spelled |= {a.alias.lower(): a.alias for a in tree.find_all(exp.Alias)}
        schema = self._rename_inputs(tree)
        tree = _qualify(tree, dialect=dialect, schema=schema)
        root = build_scope(tree)
        scopes = list(root.traverse()) if root else []
        self.scopes = {id(s.expression): s for s in scopes}
        outputs = self._outputs(root) if root else []
        outputs = [(spelled.get(name, name), found) for name, found in outputs]
        self.problems += [] if outputs else ["the query selects no columns"]
        merged: dict[str, _Origins] = {}  # a name selected twice: the strongest kind still wins
        for name, found in outputs:
            _add(merged.setdefault(name, {}), found, "identity")
        values = {(s, c, target): kind for target, found in merged.items() for (s, c), kind in found.items()}
        rows = dict.fromkeys(edge for scope in scopes for edge in self._row_edges(scope) if edge[1] != ROWS)
        edges = [ColumnEdge(s, c, t, k) for (s, c, t), k in values.items()]
        edges += [ColumnEdge(s, c, None, k) for s, c, k in rows]
        names = tuple(name for name, _ in outputs)
        return LineageResult(tuple(edges), names, tuple(dict.fromkeys(self.problems)))

    def _rename_inputs(self, tree: exp.Query) -> dict[str, object]:
        """Give each input table a one-part name (its alias stays): 2- and 3-part inputs share a schema."""
        schema: dict[str, object] = {}
        names = {a.lower(): name for name, a in self.synthetic.items()}
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in list(tree.find_all(exp.Table)):
            parts = [p for p in (table.catalog, table.db, table.name) if p]
            name = ".".join(parts).lower()
            if not parts or (len(parts) == 1 and name in ctes):
                continue
            if name not in names:
                known = ", ".join(sorted(self.addresses)) or "none"
                self.problems.append(f"the SQL reads {name!r}, which is not one of the inputs ({known})")
                continue
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            for key, value in (("this", exp.to_identifier(names[name])), ("db", None), ("catalog", None)):
                table.set(key, value)
            if columns := self.columns[self.addresses[name]]:
                schema[names[name]] = dict.fromkeys(columns.values(), "UNKNOWN")
        return schema

    def _outputs(self, scope: Scope) -> list[tuple[str, _Origins]]:
        """The scope's output columns in order, each with the input columns it derives from."""
        if id(scope) in self.outputs:
            return self.outputs[id(scope)]
        self.outputs[id(scope)] = result = []  # set before the walk: a recursive CTE ends here
        expression = scope.expression
        if isinstance(expression, exp.SetOperation) and scope.set_operation_scopes:
            left, right = (self._outputs(s) for s in scope.set_operation_scopes)
            for (name, a), (_, b) in zip(left, right, strict=False):
                result.append((name, found := dict(a)))
                _add(found, b, "identity")
        elif isinstance(expression, exp.Select):
            for projection in expression.selects:
                if isinstance(projection, exp.Star) or isinstance(projection.this, exp.Star):
                    unknown = sorted({a for _, a in self._inputs(scope) if a and not self.columns[a]})
                    self.problems.append(f"cannot expand {projection.sql()}: no known columns in {unknown}")
                    continue
                result.append((projection.alias_or_name, found := {}))
                self._visit(projection, scope, "identity", found)
        return result

    def _visit(self, node: exp.Expr, scope: Scope, kind: _Value, found: _Origins) -> None:
        """Collect into ``found`` the input columns under ``node``, reaching the output as ``kind``."""
        if isinstance(node, exp.Column):
            if not isinstance(node.this, exp.Star):
                _add(found, self._resolve(node, scope), kind)
        elif isinstance(node, exp.Star):
            if kind == "aggregation":  # count(*)
                _add(found, dict.fromkeys(self._rows(scope), "aggregation"), kind)
        elif isinstance(node, exp.Query) and id(node) in self.scopes:
            for _, origins in self._outputs(self.scopes[id(node)]):
                _add(found, origins, _stronger(kind, "transformation"))
        else:
            if kind == "identity" and not isinstance(node, _PASSING) and not _key_coalesce(node):
                kind = "transformation"
            kind = "aggregation" if isinstance(node, _AGGREGATING) else kind
            for child in node.iter_expressions():
                self._visit(child, scope, kind, found)

    def _resolve(self, column: exp.Column, scope: Scope) -> _Origins:
        if not column.table:
            return self._unqualified(column, scope)
        current: Scope | None = scope
        while current is not None and column.table not in current.sources:
            current = current.parent  # a correlated subquery reads its outer query's columns
        if current is None:
            self.problems.append(f"{column.sql()!r} names {column.table!r}, which is no table of its SELECT")
            return {}
        source = current.sources[column.table]
        if isinstance(source, exp.Table):
            return self._base(source, column.name)
        if isinstance(source, Scope) and isinstance(source.expression, (exp.Select, exp.SetOperation)):
            origins = next((o for name, o in self._outputs(source) if name == column.name), None)
            if origins is None:
                self.problems.append(f"{column.table!r} has no column {column.name!r}")
            return origins or {}
        return {}  # a table function, VALUES or an unknown alias: nothing to trace

    def _unqualified(self, column: exp.Column, scope: Scope) -> _Origins:
        """A column qualify could not place: no input with known columns has it."""
        inputs = self._inputs(scope)
        unknown = sorted({a for _, a in inputs if a and not self.columns[a]})
        if len(unknown) == 1:
            return self._base(next(t for t, a in inputs if a == unknown[0]), column.name)
        if (not unknown and any(a is None for _, a in inputs)) or _lambda_variable(column):
            return {}  # a table that is not an input (reported already), or a lambda's parameter
        having = [t.alias_or_name for t, a in inputs if a and column.name.lower() in self.columns[a]]
        if unknown or len(having) > 1:
            hint = f"it could come from any of {', '.join(unknown or having)}: qualify it with its alias"
        else:
            known = " or ".join(sorted({a for _, a in inputs if a})) or "any input"
            hint = f"it is not a column of {known}: check its spelling and the input's contract"
        self.problems.append(f"column {column.name!r} cannot be traced: {hint}")
        return {}

    def _base(self, table: exp.Table, name: str) -> _Origins:
        address = self.synthetic.get(table.name)
        if address is None:
            return {}  # not an input: reported when the tables were renamed
        known = self.columns[address]
        if known and name.lower() not in known:
            self.problems.append(f"{address} has no column {name!r} (it has {', '.join(known.values())})")
            return {}
        return {(address, known.get(name.lower(), name)): "identity"}

    def _inputs(self, scope: Scope) -> list[tuple[exp.Table, str | None]]:
        """The tables ``scope`` selects from, each with its input address (None: not an input)."""
        sources = scope.selected_sources.values()
        return [(s, self.synthetic.get(s.name)) for _, s in sources if isinstance(s, exp.Table)]

    def _rows(self, scope: Scope) -> list[tuple[str, str]]:
        """``(address, ROWS)`` for every input whose rows flow into ``scope``."""
        if scope.set_operation_scopes:
            return [row for branch in scope.set_operation_scopes for row in self._rows(branch)]
        rows = [(a, ROWS) for _, a in self._inputs(scope) if a]
        for _, source in scope.selected_sources.values():
            rows += self._rows(source) if isinstance(source, Scope) else []
        return rows

    def _row_edges(self, scope: Scope) -> Iterator[tuple[str, str, EdgeKind]]:
        """Filter and join-key columns of one SELECT: they shape the output's rows."""
        select = scope.expression
        if not isinstance(select, exp.Select):
            return
        clauses: list[tuple[exp.Expr | None, EdgeKind]] = [
            (select.args.get(key), "filter") for key in ("where", "having", "qualify")
        ]
        clauses += [(join.args.get("on"), "join") for join in select.args.get("joins") or ()]  # USING too
        for clause, kind in clauses:
            found: _Origins = {}
            if clause is not None:
                self._visit(clause, scope, "identity", found)
            yield from ((source, column, kind) for source, column in found)
