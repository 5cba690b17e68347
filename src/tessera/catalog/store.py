"""The catalog: the record of everything registered and published. SQLite by default, PostgreSQL alike.

Opened with the mesh's storage root, it records table locations relative to that root and hands them back
whole (``tessera.catalog.paths``): a moved or copied mesh reads its own tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select

from tessera.catalog import paths
from tessera.catalog import tables as t
from tessera.catalog.migrate import connect

__all__ = ["Catalog", "utc"]

Row = dict[str, Any]


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they are UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _rows(conn: Connection, query: Any) -> list[Row]:
    out = []
    for row in conn.execute(query).mappings():
        item = dict(row)
        for key, value in item.items():
            if isinstance(value, datetime):
                item[key] = utc(value)
        out.append(item)
    return out


#: The columns that hold a table location.
_LOCATIONS = ("table_uri", "storage_uri", "uri")


def _table_description(document: Any) -> str | None:
    """The first schema object's ``description`` in an ODCS document, if it has one."""
    schema = document.get("schema") if isinstance(document, dict) else None
    first = schema[0] if isinstance(schema, list) and schema and isinstance(schema[0], dict) else {}
    text = first.get("description")
    return text if isinstance(text, str) else None


class Catalog:
    """``storage``: the mesh's storage root, against which table locations are recorded (None: as given)."""

    def __init__(self, engine: Engine, storage: str | None = None) -> None:
        self.engine = engine
        self.storage = storage

    @classmethod
    def open(cls, url: str, storage: str | None = None) -> Catalog:
        return cls(connect(url, storage=storage), storage)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction; the record writers find the storage root on it (``paths.root_of``)."""
        with self.engine.connect() as raw:
            conn = raw.execution_options(tessera_write=True, **{paths.STORAGE_OPTION: self.storage})
            with conn.begin():
                yield conn

    def usable(self, location: str) -> str:
        """A recorded table location as a usable URI (joined to the storage root when recorded relative)."""
        return paths.usable(location, self.storage)

    def _located(self, rows: list[Row]) -> list[Row]:
        for row in rows:
            for key in _LOCATIONS:
                if isinstance(row.get(key), str):
                    row[key] = paths.usable(row[key], self.storage)
        return rows

    def close(self) -> None:
        self.engine.dispose()

    # -- reads -------------------------------------------------------------------------------------------
    def domains(self) -> list[Row]:
        with self.engine.connect() as conn:
            return _rows(conn, select(t.domains).order_by(t.domains.c.name))

    def products(self, *, include_retired: bool = False) -> list[Row]:
        query = select(t.products).order_by(t.products.c.address)
        if not include_retired:
            query = query.where(t.products.c.retired.is_(False))
        with self.engine.connect() as conn:
            return self._located(_rows(conn, query))

    def product_row(self, address: str) -> Row | None:
        """The product's own row (one query; ``product`` adds roles, columns, majors and lineage)."""
        with self.engine.connect() as conn:
            rows = self._located(_rows(conn, select(t.products).where(t.products.c.address == address)))
            return rows[0] if rows else None

    def product(self, address: str) -> Row | None:
        with self.engine.connect() as conn:
            rows = self._located(_rows(conn, select(t.products).where(t.products.c.address == address)))
            if not rows:
                return None
            row = rows[0]
            row["roles"] = _rows(conn, select(t.product_roles).where(t.product_roles.c.address == address))
            row["columns"] = _rows(
                conn, select(t.columns).where(t.columns.c.address == address).order_by(t.columns.c.position)
            )
            row["majors"] = self._located(
                _rows(conn, select(t.majors).where(t.majors.c.address == address).order_by(t.majors.c.major))
            )
            row["upstream"] = sorted(
                {
                    r["source"]
                    for r in _rows(
                        conn, select(t.lineage_edges.c.source).where(t.lineage_edges.c.target == address)
                    )
                }
            )
            row["downstream"] = sorted(
                {
                    r["target"]
                    for r in _rows(
                        conn, select(t.lineage_edges.c.target).where(t.lineage_edges.c.source == address)
                    )
                }
            )
            return row

    def storage_locations(self) -> set[str]:
        with self.engine.connect() as conn:
            return {self.usable(r["uri"]) for r in _rows(conn, select(t.storage_locations.c.uri))}

    def versions(self, address: str, major: int | None = None) -> list[Row]:
        query = select(t.versions).where(t.versions.c.address == address)
        if major is not None:
            query = query.where(t.versions.c.major == major)
        with self.engine.connect() as conn:
            return self._located(_rows(conn, query.order_by(t.versions.c.published_at, t.versions.c.id)))

    def majors(self, address: str) -> list[Row]:
        with self.engine.connect() as conn:
            return self._located(
                _rows(conn, select(t.majors).where(t.majors.c.address == address).order_by(t.majors.c.major))
            )

    def last_contract(self, address: str) -> Row | None:
        """The contract of the newest published version (None before the first publish)."""
        with self.engine.connect() as conn:
            latest = conn.execute(
                select(t.versions.c.contract_hash)
                .where(t.versions.c.address == address)
                .order_by(t.versions.c.published_at.desc(), t.versions.c.id.desc())
                .limit(1)
            ).scalar()
            if latest is None:
                return None
            rows = _rows(
                conn,
                select(t.contracts).where(t.contracts.c.address == address, t.contracts.c.hash == latest),
            )
            return rows[0] if rows else None

    def quality_runs(self, address: str, limit: int = 20) -> list[Row]:
        with self.engine.connect() as conn:
            runs = _rows(
                conn,
                select(t.quality_runs)
                .where(t.quality_runs.c.address == address)
                .order_by(t.quality_runs.c.started_at.desc())
                .limit(limit),
            )
            for run in runs:
                run["checks"] = _rows(
                    conn, select(t.quality_checks).where(t.quality_checks.c.run_id == run["run_id"])
                )
            return runs

    def audit_events(self, limit: int = 100) -> list[Row]:
        with self.engine.connect() as conn:
            return _rows(conn, select(t.audit_events).order_by(t.audit_events.c.id.desc()).limit(limit))

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
                for name, table in (
                    ("domains", t.domains),
                    ("products", t.products),
                    ("versions", t.versions),
                    ("quality_runs", t.quality_runs),
                )
            }

    def search_documents(self) -> list[Row]:
        """Every live product with its column names and descriptions and its contract's table description
        (``table_description``: the schema object's own ``description``), for ranking."""
        with self.engine.connect() as conn:
            products = _rows(conn, select(t.products).where(t.products.c.retired.is_(False)))
            cols: dict[str, list[Row]] = {}
            for row in _rows(conn, select(t.columns)):
                cols.setdefault(row["address"], []).append(row)
            current = select(t.contracts.c.address, t.contracts.c.document).join(
                t.products,
                (t.products.c.address == t.contracts.c.address)
                & (t.products.c.contract_hash == t.contracts.c.hash),
            )
            tables = {row.address: _table_description(row.document) for row in conn.execute(current)}
        for product in self._located(products):
            product["columns"] = cols.get(product["address"], [])
            product["table_description"] = tables.get(product["address"])
        return products

    def incidents(self, *, open_only: bool = False, address: str | None = None) -> list[Row]:
        query = select(t.incidents).order_by(t.incidents.c.opened_at.desc(), t.incidents.c.id.desc())
        if open_only:
            query = query.where(t.incidents.c.resolved_at.is_(None))
        if address is not None:
            query = query.where(t.incidents.c.address == address)
        with self.engine.connect() as conn:
            return _rows(conn, query)

    def last_build(self, address: str) -> Row | None:
        with self.engine.connect() as conn:
            rows = _rows(conn, select(t.builds).where(t.builds.c.address == address))
            return rows[0] if rows else None

    def delete_versions(self, conn: Connection, address: str, majors: list[int] | None = None) -> None:
        """Forget the product's recorded versions: all of them, or those of ``majors``."""
        query = delete(t.versions).where(t.versions.c.address == address)
        if majors is not None:
            query = query.where(t.versions.c.major.in_(majors))
        conn.execute(query)

    # -- lookups the use cases need (platform never queries catalog.tables itself) -------------------------------
    def contract_document(self, address: str, contract_hash: str) -> Any:
        """The ODCS document the product was published under with ``contract_hash`` (None if not recorded)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(t.contracts.c.document).where(
                    t.contracts.c.address == address, t.contracts.c.hash == contract_hash
                )
            ).scalar()

    def has_principal(self, name: str) -> bool:
        return self.principal_kind(name) is not None

    def principal_kind(self, name: str) -> str | None:
        """``user``, ``group`` or ``service`` for a known principal; None for an unknown one."""
        with self.engine.connect() as conn:
            kind = conn.execute(select(t.principals.c.kind).where(t.principals.c.name == name)).scalar()
        return None if kind is None else str(kind)

    def deprecated_majors(self) -> list[Row]:
        """Every deprecated major with a retirement date, whatever its product."""
        m = t.majors.c
        with self.engine.connect() as conn:
            return self._located(
                _rows(conn, select(t.majors).where(m.status == "deprecated", m.retire_after.is_not(None)))
            )
