"""``tessera query`` by the trusted local user on the newest versions without opening the catalog: the reader's
fast path (``tessera.platform.reading.reader.fast_query`` is its only caller), under the mesh's time and memory limits.

The newest release of a product is the newest Delta version of its newest major's table, which the table's
own log says; the catalog adds nothing to that answer, so a plain query reads mesh.yaml, finds the tables and
hands DuckDB their Parquet files. Anything else (a mesh whose engine is not DuckDB, object stores, tables that
need the Arrow dataset, products never published, a mesh.yaml that does not load, a caller with a token or a
mesh that enforces access control) returns None and the full path answers, errors included."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tessera.engine import Engine
    from tessera.errors import QueryError
    from tessera.storage import TableStore

__all__ = ["quick_query"]


def _newest_table(store: TableStore, storage: str, domain: str, product: str) -> str | None:
    majors = store.majors_on_disk(f"{storage.rstrip('/')}/{domain}/{product}")
    return majors[max(majors)] if majors else None


def _storage(root: Path) -> tuple[str, dict[str, Any]] | None:
    """The storage root from mesh.yaml, resolved as the mesh loader does; None when the file does not read
    (the full path then reports why). Not validated here: that would cost more than the query."""
    from tessera.spec.names import DEFAULT_STORAGE, resolve_location
    from tessera.spec.yaml_lines import read_yaml

    doc, _, problems = read_yaml(root / "mesh.yaml", "mesh.yaml")  # bounded: size, nodes, aliases
    if problems:
        return None
    access = doc.get("access") if isinstance(doc, dict) else None
    if isinstance(access, dict) and access.get("enforce") is True:
        return None  # every read is a principal's: the full path checks its grants
    if isinstance(doc, dict) and doc.get("engine", "duckdb") != "duckdb":
        return None  # queries run on the mesh's engine (a cluster): the full path sends them there
    storage = doc.get("storage", DEFAULT_STORAGE) if isinstance(doc, dict) else None
    limits = doc.get("limits") if isinstance(doc, dict) else None
    if not isinstance(storage, str) or (limits is not None and not isinstance(limits, dict)):
        return None
    return resolve_location(storage, root), limits or {}


def _explained(root: Path, engine: Engine, exc: QueryError, sql: str) -> QueryError:
    """The trusted user may read every product: each one in the mesh folder is a name to suggest."""
    from tessera.engine.sql_errors import explained

    known = [
        f"{p.parent.parent.parent.name}.{p.parent.name}"
        for p in root.glob("domains/*/products/*/product.odps.yaml")
    ]
    registered = engine.fetch_rows("SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal")
    columns = {f"{s}.{v}": [n for n, _ in engine.columns(f"{s}.{v}")] for s, v in registered}
    return explained(exc, sql, products=known, columns=columns)


def quick_query(root: Path, sql: str) -> list[dict[str, Any]] | None:
    import os

    if os.environ.get("TESSERA_TOKEN"):
        return None  # a token's principal reads through its grants: the full path masks and filters
    found = _storage(root)
    if found is None or ("://" in found[0] and not found[0].startswith("file://")):
        return None
    storage, limits_doc = found
    import duckdb

    from tessera.access.limits import QueryLimits, bounded
    from tessera.engine import create_engine, is_sealable
    from tessera.engine.names import table_names
    from tessera.errors import QueryError
    from tessera.storage import TableStore

    store = TableStore()
    engine = create_engine("duckdb")
    if not is_sealable(engine):  # the fast path bounds the engine's own DuckDB connection
        engine.close()
        return None
    try:
        for name in table_names(sql):
            if name.count(".") != 1:
                continue
            domain, product = name.split(".")
            if not (root / "domains" / domain / "products" / product / "product.odps.yaml").is_file():
                continue
            table_dir = _newest_table(store, storage, domain, product)
            if table_dir is None:
                return None
            scan = store.scan(table_dir)
            if scan.files is None:  # the protocol needs the Arrow dataset: the full path handles it
                return None
            engine.register_files(f"{domain}.{product}", scan.files, "parquet")
        try:
            limits = QueryLimits.from_settings(limits_doc).uncapped()
        except (TypeError, ValueError):
            return None  # limits that do not validate: the full path reports them
        try:
            limits.configure(engine.con)
        except duckdb.Error:
            return None
        with bounded(engine.con, limits):
            try:
                return engine.fetch_dicts(sql)
            except QueryError as exc:  # say which name is unknown and the closest known one
                raise _explained(root, engine, exc, sql) from None
    finally:
        engine.close()
