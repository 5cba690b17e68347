"""PostgreSQL as a read-only engine for testing a contract where its data lives (``tessera test`` on a
``type: postgres`` server): every statement the quality pass writes in DuckDB SQL is translated to
PostgreSQL's dialect with sqlglot and runs in the database, so only aggregates and a few sample rows come back.

The connection is read-only (every transaction ``READ ONLY``) and every statement runs as the inside of
``SELECT * FROM (...)``: one query, never a second statement after a ``COMMIT`` nor a ``COPY ... TO`` a
server file, both of which a read-only transaction alone lets through. Registering relations is refused,
since nothing is created in the database. SQL PostgreSQL takes as written runs as written (a rule written for
this server, ``COUNT(*) FILTER (WHERE ...)``); other SQL is translated. Beyond sqlglot's own translation:
``regexp_full_match`` becomes an anchored ``~``, and a subquery in ``FROM`` gets the alias PostgreSQL
requires. Column types are reported in DuckDB's names so that typed literals and type checks read the same
on every engine."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tessera.engine.base import FileFormat, quote_name
from tessera.errors import DataError, EngineError, QueryError
from tessera.model.sqltext import ident

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pds

__all__ = ["PostgresEngine", "duckdb_type", "to_postgres"]

_TYPES = {
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "real": "FLOAT",
    "double precision": "DOUBLE",
    "numeric": "DECIMAL",
    "text": "VARCHAR",
    "character varying": "VARCHAR",
    "character": "VARCHAR",
    '"char"': "VARCHAR",
    "name": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
    "time without time zone": "TIME",
    "time with time zone": "TIME WITH TIME ZONE",
    "json": "JSON",
    "jsonb": "JSON",
    "uuid": "UUID",
    "bytea": "BLOB",
    "interval": "INTERVAL",
}
_MODIFIER = re.compile(r"^(.*?)\s*(\([^)]*\))?\s*((?:with|without) time zone)?$")


def duckdb_type(pg_type: str) -> str:
    """``format_type`` text → DuckDB's name: ``numeric(10,2)`` → ``DECIMAL(10,2)``, ``text[]`` →
    ``VARCHAR[]``; an unknown type keeps its own name, upper-cased."""
    text = pg_type.strip().lower()
    if text.endswith("[]"):
        return duckdb_type(text[:-2]) + "[]"
    match = _MODIFIER.match(text)
    base, modifier, zone = (match[1], match[2], match[3]) if match else (text, None, None)
    if zone:
        base = f"{base} {zone}"
    name = _TYPES.get(base, base.upper())
    return f"{name}{modifier.replace(' ', '')}" if name == "DECIMAL" and modifier else name


def _rewrite(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.RegexpFullMatch):
        subject, pattern = node.this, node.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string:
            anchored: Any = exp.Literal.string(f"^(?:{pattern.this})$")
        else:
            anchored = exp.func("concat", exp.Literal.string("^(?:"), pattern, exp.Literal.string(")$"))
        return exp.RegexpLike(this=subject, expression=anchored)
    if isinstance(node, exp.Subquery) and not node.alias and isinstance(node.parent, exp.From | exp.Join):
        node.set("alias", exp.TableAlias(this=exp.to_identifier("__tessera_sub")))
    return node


def to_postgres(sql: str) -> str:
    """``sql`` (DuckDB dialect) as PostgreSQL; SQL sqlglot cannot read as DuckDB is returned unchanged."""
    import sqlglot

    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError:
        return sql
    if len(statements) != 1:
        return sql
    tree = statements[0].transform(_rewrite, copy=True)
    return str(tree.sql(dialect="postgres"))


def _option_value(schema: str) -> str:
    """``schema`` as the value of a libpq ``-c`` option, read by PostgreSQL as the server entry wrote it (an
    unquoted name folds to lower case), with backslashes and whitespace escaped as libpq reads ``options``: a
    contract's ``schema: "x -c session_preload_libraries=..."`` stays one value, never a second setting."""
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", schema)
    value = schema if plain else ident(schema)
    return re.sub(r"([\\\s])", r"\\\1", value)


def _one_query(sql: str) -> str:
    """``sql`` as a subquery: PostgreSQL refuses anything in it but one query (a contract's rule written as
    ``SELECT 0; COMMIT; DROP TABLE t`` or ``COPY (...) TO '/file'`` is a syntax error, not run)."""
    body = sql.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    return f"SELECT * FROM (\n{body}\n) AS __tessera_query"


class PostgresEngine:
    """One read-only connection to a PostgreSQL database (see the module's docstring)."""

    name = "postgres"
    dialect = "postgres"
    native_delta = False
    writes_delta = False
    runs_python_transforms = False
    rewrites_whole_table = True
    sealable = False

    @classmethod
    def from_setting(cls, setting: str = "postgres", **options: Any) -> PostgresEngine:
        """``options``: ``conninfo`` (libpq keywords) and ``search_path``."""
        if "conninfo" not in options:
            raise EngineError(
                "the PostgreSQL engine tests a contract where its data lives (a type: postgres server); "
                "it is not a mesh engine: set engine: duckdb or a Spark Connect URL in mesh.yaml"
            )
        return cls(options["conninfo"], search_path=options.get("search_path"))

    def __init__(self, conninfo: Mapping[str, Any], *, search_path: str | None = None) -> None:
        import psycopg

        self.where = f"{conninfo.get('host', 'localhost')}:{conninfo.get('port', 5432)}"
        options = f"-c search_path={_option_value(search_path)}" if search_path else None
        try:
            self.con = psycopg.connect(
                **{k: v for k, v in conninfo.items() if v is not None},
                options=options,
                autocommit=False,
                connect_timeout=10,
            )
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"cannot connect to PostgreSQL at {self.where}: {first}") from None
        self.con.read_only = True

    def _refuse(self, what: str) -> DataError:
        return DataError(f"the PostgreSQL test engine reads the database in place: it cannot {what}")

    def register_arrow(self, name: str, data: pa.Table | pa.RecordBatchReader | pds.Dataset) -> None:
        raise self._refuse("register Arrow data")

    def register_files(self, name: str, uris: Sequence[str], fmt: FileFormat) -> None:
        raise self._refuse("register files")

    def register_sql(self, name: str, sql: str) -> None:
        raise self._refuse("create views")

    def register_delta(self, name: str, uri: str, version: int | None = None) -> None:
        raise self._refuse("register Delta tables")

    def _run(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Run ``sql`` as written when PostgreSQL takes it (a rule written for this server), else its
        translation from DuckDB SQL (what the quality planner writes: ``count_if``, ``regexp_full_match``)."""
        import psycopg

        try:
            return self.con.execute(_one_query(sql), params)
        except psycopg.Error as exc:
            self.con.rollback()
            failure, shown = exc, sql
        translated = to_postgres(sql)
        if translated != sql:
            try:
                return self.con.execute(_one_query(translated), params)
            except psycopg.Error as exc:
                self.con.rollback()
                failure, shown = exc, translated
        text = str(failure).strip()
        first = text.splitlines()[0] if text else type(failure).__name__
        shown = " ".join(shown.split())
        raise QueryError(f"{first}\n  in: {shown[:300]}{'…' if len(shown) > 300 else ''}")

    def result(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.fetch_rows(sql, params)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._run(sql, params)

    def fetch_rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._run(sql, params).fetchall()
        return rows

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self._run(sql, params)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        import pyarrow as pa

        return pa.Table.from_pylist(self.fetch_dicts(sql, params))

    def fetch_reader(self, sql: str, batch_size: int = 10_000) -> pa.RecordBatchReader:
        import pyarrow as pa

        table = self.fetch_arrow(sql)
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(batch_size))

    def columns(self, name: str) -> list[tuple[str, str]]:
        """The relation's columns and types (DuckDB's names); a DataError when there is no such relation."""
        import psycopg

        try:
            found = self.con.execute("SELECT to_regclass(%s)::oid", [quote_name(name)]).fetchone()
            if found is None or found[0] is None:
                raise DataError(f"no table {name} in the PostgreSQL database at {self.where}")
            rows = self.con.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                [found[0]],
            ).fetchall()
        except psycopg.Error as exc:
            self.con.rollback()
            raise DataError(f"PostgreSQL at {self.where}: {str(exc).strip().splitlines()[0]}") from None
        return [(str(n), duckdb_type(str(t))) for n, t in rows]

    def close(self) -> None:
        self.con.close()
