"""A principal's SQL, checked, rewritten over masked views and run on a locked-down DuckDB connection.

Two layers, each enough for what it covers:

1. **The guard** (:func:`check_sql`). The query must be one SELECT (CTEs, joins, subqueries, set operations,
   window functions allowed), by DuckDB's own parser and by sqlglot's; every table it reads must be a product
   address (``domain.product``) or a CTE in scope; no table function other than ``unnest``/``range``/
   ``generate_series``; no function that reads files, settings or the environment; no name starting with
   ``__tessera``. What runs is the SQL sqlglot generates from the tree it checked, not the text it was given,
   so the two parsers cannot disagree about what was checked.
2. **The connection** (:func:`run_checked`). Each product the query reads becomes a view at its address that
   masks and filters (:mod:`tessera.access.masking`); the raw data has no name the query could use. The
   connection may open only the data files of the versions being read (``allowed_paths``), nothing else
   (``enable_external_access = false``: no other file, no ``ATTACH``/``COPY``/``INSTALL``/``LOAD``, no
   network), sees no Python variables, and its configuration is locked before the query runs. DuckDB's own
   list of the tables the query reads is checked against the products too, where it can give one.

Local tables whose Delta protocol allows it are read as Parquet files (DuckDB's own reader: masked queries cost
what unmasked ones do); other tables (object stores, reader features) go through the Arrow dataset."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp

from tessera.access.limits import DEFAULT_LIMITS, QueryLimits, fetch_bounded
from tessera.access.masking import masked_select, quote
from tessera.access.sealing import lock_files
from tessera.engine.duckdb import DuckDBEngine
from tessera.errors import AccessDeniedError, QueryError
from tessera.model.sqltext import MAX_NESTING, hide_values, nesting_depth, string_literal

if TYPE_CHECKING:
    import pyarrow as pa

    from tessera.access.model import ReadAccess
    from tessera.model.contract import Column
    from tessera.storage import ScanSource

__all__ = [
    "CheckedQuery",
    "SecureSource",
    "blocked_function",
    "check_sql",
    "filter_rows",
    "function_name",
    "run_checked",
    "secure_query",
    "select_sql",
]

INTERNAL_PREFIX = "__tessera"

#: Table functions a query may use in FROM: they make rows out of values, they read nothing.
_TABLE_FUNCTIONS = frozenset({"unnest", "range", "generate_series"})

#: Functions that read files, settings, secrets or the host, or run SQL of their own.
_BLOCKED = frozenset(
    {
        "getenv",
        "current_setting",
        "getvariable",
        "glob",
        "query",
        "query_table",
        "sniff_csv",
        "which_secret",
        "checkpoint",
        "force_checkpoint",
        "summary",
        "sql_auto_complete",
        "stats",
        "current_query",
        "version",
        "user_agent",
        "platform",
        "database_size",
        "current_database",
        "current_catalog",
        "current_schema",
        "current_schemas",
    }
)
_BLOCKED_PREFIXES = (
    "read_",
    "parquet_",
    "delta_",
    "iceberg_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "duckdb_",
    "pragma_",
    "pg_",
    "json_execute",
    "arrow_",
    "python_",
    "enable_",
    "disable_",
    "load_",
    "install_",
)

#: Statements and clauses that are never part of a read.
_FORBIDDEN: tuple[type[exp.Expr], ...] = (
    exp.Create, exp.Insert, exp.Update, exp.Delete, exp.Drop, exp.Alter, exp.Merge, exp.TruncateTable,
    exp.Copy, exp.Attach, exp.Detach, exp.Set, exp.SetItem, exp.Pragma, exp.Use, exp.Install, exp.Command,
    exp.Describe, exp.Summarize, exp.Show, exp.Into, exp.Transaction, exp.Commit, exp.Rollback, exp.LoadData,
    exp.Export, exp.Cache, exp.Uncache, exp.Refresh, exp.Kill, exp.Analyze, exp.Grant, exp.Revoke,
    exp.Comment, exp.Lock,
)  # fmt: skip

_NAME = re.compile(
    r'^((?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*)(?:\.(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*)){0,2})(?:\s+AS\s+.*)?$',
    re.I,
)


def function_name(node: exp.Func) -> str:
    """The name DuckDB will see for a function node (as generated), lower case."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    generated = node.sql(dialect="duckdb")
    return generated.split("(", 1)[0].strip().lower() if "(" in generated else node.sql_name().lower()


def blocked_function(node: exp.Func) -> str | None:
    """Why a function may not run in a principal's query or a row filter; None when it may."""
    names = {function_name(node)}
    if isinstance(node, exp.Anonymous):
        names.add(str(node.name).lower())
    else:
        names.add(node.sql_name().lower())
    for name in names:
        if name in _BLOCKED or name.startswith(_BLOCKED_PREFIXES):
            return f"{name}() reads files, settings or the host and is not allowed: read products by address"
    return None


#: The most values one call may generate in a row (a string's characters, a list's items): DuckDB builds a
#: whole vector of such values before its memory limit is checked, so their size is bounded here.
MAX_GENERATED = 10_000


def _constant(node: exp.Expr | None) -> float | None:
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        return -float(node.this.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return float(node.this)
        except ValueError:
            return None
    return None


#: Functions whose result grows with an argument, and that argument's place (-1: the last; in DuckDB's method
#: syntax ``x.repeat(n)`` the receiver is the first argument, which sqlglot leaves out).
_SIZE_ARGUMENT = {
    "repeat": -1,
    "lpad": 1,
    "rpad": 1,
    "list_resize": 1,
    "array_resize": 1,
    "bar": 3,
    "space": 0,
}
_FORMATTERS = frozenset({"printf", "format", "sprintf"})


def _repeated(what: exp.Expr | None, times: exp.Expr | None) -> float | None:
    """The size of ``repeat(what, times)``: a constant only when both are (a column's values could be of any
    length, and DuckDB builds a whole vector of the results before it counts their memory)."""
    count = _constant(times)
    if count is None or not isinstance(what, exp.Literal | exp.Array):
        return None
    width = len(str(what.this)) if isinstance(what, exp.Literal) else len(what.expressions)
    return count * max(width, 1)


def _generator_size(node: exp.Func, name: str) -> tuple[bool, float | None]:
    """(whether ``node`` generates values of a size it is given, that size when it is a constant)."""
    if isinstance(node, exp.Repeat):
        return True, _repeated(node.this, node.args.get("times"))
    if isinstance(node, exp.Pad):
        return True, _constant(node.args.get("expression"))
    if isinstance(node, exp.Space):
        return True, _constant(node.this)
    if isinstance(node, exp.GenerateSeries):
        if isinstance(node.parent, exp.Table):
            return False, None  # a table function: rows, counted by the timeout, not values
        start, end = _constant(node.args.get("start")), _constant(node.args.get("end"))
        step = _constant(node.args.get("step")) or 1.0
        return True, abs((end - start) / step) if start is not None and end is not None else None
    if name in _FORMATTERS or isinstance(node, exp.Format):
        pattern = node.expressions[0] if isinstance(node, exp.Anonymous) and node.expressions else node.this
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            return True, None
        widths = [int(w) for w in re.findall(r"\d+", str(pattern.this))]
        return True, float(max(widths, default=0))
    if isinstance(node, exp.Anonymous) and name in _SIZE_ARGUMENT:
        args = list(node.expressions)
        if isinstance(node.parent, exp.Dot) and node.parent.expression is node:
            args = [node.parent.this, *args]  # x.repeat(n): the receiver is the first argument
        index = _SIZE_ARGUMENT[name]
        if name == "repeat":
            return True, _repeated(args[0], args[-1]) if len(args) == 2 else None
        if name == "bar" and len(args) <= index:
            return True, 80.0  # bar's default width
        return True, _constant(args[index]) if -len(args) <= index < len(args) else None
    return False, None


def generated_size_problem(node: exp.Func) -> str | None:
    """Why a value generator (``repeat``, ``lpad``/``rpad``, ``space``, ``bar``, ``list_resize``, ``printf``/
    ``format`` widths, ``range``/``generate_series`` used as a value) may not run: its size is not a constant
    of at most ``MAX_GENERATED``, or another generator feeds it (sizes would multiply)."""
    name = function_name(node)
    generates, size = _generator_size(node, name)
    if not generates:
        return None
    nested = any(
        isinstance(inner, exp.Func) and _generator_size(inner, function_name(inner))[0]
        for inner in node.walk()
        if inner is not node
    )
    if nested:
        return f"{name}() may not take another value generator's result (the query's memory is bounded)"
    if size is not None and size <= MAX_GENERATED:
        return None
    return (
        f"{name}() must generate a constant size of at most {MAX_GENERATED:,} values a row "
        "(the query's memory is bounded)"
    )


@dataclass(frozen=True, slots=True)
class CheckedQuery:
    """A query the guard let through: the SQL to run (generated from the checked tree, products named by
    their view) and the product addresses it reads, in order."""

    sql: str
    products: tuple[str, ...]
    #: The SQL as its author wrote it, for messages (what runs is ``sql``).
    text: str = ""


def _refused(problem: str) -> AccessDeniedError:
    return AccessDeniedError(f"query refused: {problem}")


def _duckdb_statement(sql: str) -> None:
    """DuckDB's own parser must see exactly one SELECT."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        from tessera.engine.sql_errors import explain

        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        plain = explain(str(exc), sql, products=(), columns={})  # a syntax error: nothing of the mesh named
        raise QueryError(plain or f"{first}\n  in: {' '.join(sql.split())[:300]}") from None
    if len(statements) != 1:
        kinds = ", ".join(s.type.name for s in statements) or "none"
        raise _refused(f"run one SELECT statement at a time (found {len(statements)}: {kinds})")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise _refused(f"only SELECT may run as a principal, not {statements[0].type.name}")


def _with_of(node: exp.Expr) -> exp.With | None:
    found = node.args.get("with_", node.args.get("with"))
    return found if isinstance(found, exp.With) else None


def _cte_bound(table: exp.Table) -> bool:
    """Whether an unqualified table name is a CTE in scope where it is used. Conservative: a CTE's body sees
    only the CTEs declared before it (and itself under RECURSIVE); anything else counts as a table."""
    if table.db or table.catalog:
        return False
    name = table.name.lower()
    child: exp.Expr = table
    node = table.parent
    while node is not None:
        if isinstance(node, exp.With):
            ctes = list(node.expressions)
            index = next((i for i, c in enumerate(ctes) if c is child), len(ctes))
            visible = ctes[: index + 1] if node.args.get("recursive") else ctes[:index]
            if any(c.alias_or_name.lower() == name for c in visible):
                return True
            owner = node.parent
            if owner is None:
                return False
            child, node = owner, owner.parent
            continue
        with_ = _with_of(node)
        if (
            with_ is not None
            and with_ is not child
            and any(c.alias_or_name.lower() == name for c in with_.expressions)
        ):
            return True
        child, node = node, node.parent
    return False


def _table_problem(table: exp.Table, *, catalogs: bool = False) -> str | None:
    """Why a table may not be read (a table function, a file-like name; a catalog part unless ``catalogs``:
    a transform's ``source.<system>.<table>``); None when its name may be checked against what is allowed."""
    source = table.this
    if not isinstance(source, exp.Identifier):
        name = function_name(source) if isinstance(source, exp.Func) else source.sql(dialect="duckdb")
        if name in _TABLE_FUNCTIONS:
            return None
        return f"table function {name}() is not allowed: read products by address (domain.product)"
    if table.catalog and not catalogs:
        return f"{table.sql(dialect='duckdb')}: name products as domain.product, without a catalog"
    parts = [p for p in (table.catalog, table.db, table.name) if p]
    if any(ch in part for part in parts for ch in "./\\:'*?"):
        return f"{'.'.join(parts)!r} looks like a file: files cannot be read, only products by address"
    return None


def check_sql(sql: str) -> CheckedQuery:
    """Check a principal's SQL (see the module docstring); raises ``AccessDeniedError`` for what it may not
    do and ``QueryError`` for SQL that does not parse."""
    if nesting_depth(sql) > MAX_NESTING:
        raise _refused(f"the SQL nests deeper than {MAX_NESTING} levels of brackets")
    try:
        return _check_sql(sql)
    except RecursionError:
        raise _refused("the SQL nests too deeply to be checked") from None


def _check_sql(sql: str) -> CheckedQuery:
    _duckdb_statement(sql)
    try:
        parsed = [p for p in sqlglot.parse(sql, read="duckdb") if p is not None]
    except sqlglot.errors.SqlglotError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QueryError(f"the query cannot be checked for access: {first}") from None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Query):
        raise _refused("only a single SELECT may run as a principal")
    tree = parsed[0]
    products: list[str] = []
    for node in list(tree.walk()):
        if isinstance(node, exp.With) and node.args.get("recursive"):
            raise _refused("WITH RECURSIVE is not allowed: a recursive query's rows and values are unbounded")
        if isinstance(node, _FORBIDDEN):
            raise _refused(f"{type(node).__name__.upper()} is not allowed in a query, only SELECT")
        if isinstance(node, exp.Identifier) and str(node.name).lower().startswith(INTERNAL_PREFIX):
            raise _refused(f"the name {node.name!r} is reserved")
        if isinstance(node, exp.Func) and (why := blocked_function(node) or generated_size_problem(node)):
            raise _refused(why)
        if isinstance(node, exp.Table):
            if problem := _table_problem(node):
                raise _refused(problem)
            if not isinstance(node.this, exp.Identifier) or _cte_bound(node):
                continue
            if not node.db:
                raise _refused(
                    f"{node.name!r} is not a product address: a query run as a principal reads products "
                    "as domain.product"
                )
            address = f"{node.db}.{node.name}".lower()
            domain, product = address.split(".")
            node.set("db", exp.to_identifier(domain, quoted=True))
            node.set("this", exp.to_identifier(product, quoted=True))
            if address not in products:
                products.append(address)
    out = tree.sql(dialect="duckdb")
    _duckdb_statement(out)
    return CheckedQuery(out, tuple(products), sql)


@dataclass(frozen=True, slots=True)
class SecureSource:
    """One product a principal's query may read: the version to scan, its contract's columns, the access."""

    scan: ScanSource
    columns: Sequence[Column]
    access: ReadAccess


def _local_files(scan: ScanSource) -> tuple[str, ...] | None:
    if not scan.files or any("://" in f for f in scan.files):  # none (an empty version), or remote
        return None
    return scan.files


_literal = string_literal


def _tables_seen_by_duckdb(con: duckdb.DuckDBPyConnection, sql: str) -> set[str] | None:
    """The tables DuckDB's parser says ``sql`` reads (it leaves out ``pg_catalog`` and system views, and
    cannot answer for ``JOIN … USING``): a second opinion on the guard's, not a replacement."""
    try:
        found = con.get_table_names(sql, qualified=True)
    except duckdb.Error:  # JOIN … USING needs binding: the guard's answer stands alone
        return None
    return {
        ".".join(p.strip('"') for p in m[1].split(".")).lower()
        for n in found
        if (m := _NAME.match(n.strip()))
    }


def _scrubbed(message: str) -> str:
    """An engine error with its quoted values hidden: a row filter runs on raw rows, so a value it fails on
    (``Could not convert string 'x' to INT32``) may be one the reader must not see."""
    return f"{hide_values(message)} (values hidden: the reader's row filters run on unmasked rows)"


def run_checked(
    checked: CheckedQuery,
    sources: Mapping[str, SecureSource],
    *,
    limits: QueryLimits = DEFAULT_LIMITS,
    cancel: threading.Event | None = None,
    readable: Callable[[], Collection[str]] = tuple,
) -> pa.Table:
    """Run a checked query over masked, filtered views of ``sources`` (address → what the principal may see
    of it), on a connection that can reach nothing else, under ``limits`` (memory, threads, timeout, result
    size; ``cancel`` interrupts it). Returns Arrow. ``readable()``: the products the principal may read, the
    only ones an error may suggest (asked only on an error)."""
    missing = [a for a in checked.products if a not in sources]
    if missing:
        raise AccessDeniedError(f"query refused: no read access to {', '.join(missing)}")
    con = duckdb.connect(config={"arrow_large_buffer_size": False, "python_enable_replacements": False})
    engine = DuckDBEngine(con)
    keep: list[Any] = []
    try:
        used = {a: sources[a] for a in checked.products}
        direct = {a: _local_files(s.scan) for a, s in used.items()}
        limits.configure(con)
        lock_files(con, [f for files in direct.values() if files for f in files])
        seen = _tables_seen_by_duckdb(con, checked.sql)  # before the views exist: DuckDB expands views
        if seen is not None and not seen <= set(used):
            raise AccessDeniedError(f"query refused: it reads {', '.join(sorted(seen - set(used)))}")
        for index, (address, source) in enumerate(used.items()):
            files = direct[address]
            if files is not None:
                relation = f"read_parquet([{', '.join(_literal(f) for f in files)}], union_by_name = true)"
            else:
                relation = f"{INTERNAL_PREFIX}_raw_{index}_{secrets.token_hex(8)}"  # reserved and unguessable
                dataset = source.scan.dataset()
                keep.append(dataset)
                con.register(relation, dataset)
            view = masked_select(source.columns, source.access, relation)
            try:
                engine.register_sql(address, view)
            except QueryError as exc:
                first = str(exc).splitlines()[0]
                raise QueryError(
                    f"{address}: the reader's view does not bind ({first}); check the row filters of the "
                    "grants on it"
                ) from None
        con.execute("SET lock_configuration = true")
        try:
            return fetch_bounded(con, checked.sql, limits, cancel)
        except duckdb.Error as exc:
            if plain := _unknown_name(engine, checked, used, readable, str(exc)):
                raise QueryError(plain) from None  # names from the query and the views only, never values
            if not any(s.access.row_filters for s in used.values()):
                raise QueryError(str(exc).strip().splitlines()[0]) from None
            raise QueryError(_scrubbed(str(exc))) from None
        except QueryError as exc:
            if not any(s.access.row_filters for s in used.values()):
                raise
            raise QueryError(_scrubbed(str(exc))) from None
    finally:
        engine.close()
        keep.clear()


def _unknown_name(
    engine: DuckDBEngine,
    checked: CheckedQuery,
    used: Mapping[str, SecureSource],
    readable: Callable[[], Collection[str]],
    message: str,
) -> str | None:
    """DuckDB's unknown table, column, alias or function as a plain message, suggesting only what the
    principal may see: the products it may read and the columns of the masked views it queried."""
    from tessera.engine.sql_errors import explain

    try:
        columns = {a: [n for n, _ in engine.columns(a)] for a in used}
    except QueryError:
        columns = {}
    sql = checked.text or checked.sql
    return explain(message, sql, products=readable(), columns=columns, tables=checked.products)


def secure_query(sql: str, sources: Mapping[str, SecureSource]) -> pa.Table:
    """Check ``sql`` and run it over the masked views of ``sources``; a product it reads that is not in
    ``sources`` is refused."""
    return run_checked(check_sql(sql), sources)


def select_sql(address: str, columns: Sequence[str] | None, limit: int | None) -> str:
    """``read``'s query: the listed columns (all by default) of one product, at most ``limit`` rows."""
    cols = ", ".join(quote(c) for c in columns) if columns else "*"
    domain, product = address.split(".", 1)
    return f"SELECT {cols} FROM {quote(domain)}.{quote(product)}" + (
        f" LIMIT {int(limit)}" if limit is not None else ""
    )


def filter_rows(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], access: ReadAccess
) -> list[dict[str, Any]]:
    """The rows (dicts, such as a quality run's failing samples) that ``access``'s row filters let through, on a
    connection that can reach nothing else. ``QueryError`` when a filter cannot be applied to them (it names a
    column they lack, or a value does not convert)."""
    import pyarrow as pa

    from tessera.access.model import ReadAccess

    present = {k for row in rows for k in row}
    kept = [c for c in columns if c.name in present]
    sql = masked_select(kept, ReadAccess(access.address, True, access.row_filters), "__tessera_rows")
    con = duckdb.connect(config={"python_enable_replacements": False})
    try:
        con.register(
            "__tessera_rows", pa.Table.from_pylist([{c.name: r.get(c.name) for c in kept} for r in rows])
        )
        lock_files(con, [])
        con.execute("SET lock_configuration = true")
        return list(con.sql(sql).to_arrow_table().to_pylist())
    except (duckdb.Error, pa.ArrowException) as exc:
        raise QueryError(_scrubbed(str(exc))) from None
    finally:
        con.close()
