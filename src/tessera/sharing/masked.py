"""Masked, row-filtered copies of a shared table's files, for recipients who must not see raw values.

A recipient without clearance never receives a file holding a sensitive column's raw values: each of the
version's Parquet files is rewritten by DuckDB through the reader's view (``tessera.access.masking``:
sensitive columns masked, rows limited by the grants' row filters) into a Parquet file of its own under
``.tessera/sharing/masked/<address>/v<major>/<view>/``. Delta data files never change once written, so a
copy is keyed by its source file and the view's fingerprint (the masking SQL with the filters), and made once:
written to a temporary name, then renamed into place.

A copy lives no longer than its source: ``purge`` deletes every copy whose source file is gone, and erasure
and retention call it right after their vacuum (``tessera.platform.remediation.remediate``), so rows they delete do not
live on in what recipients are served."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tessera.access.masking import masked_select
from tessera.errors import QueryError
from tessera.model.sqltext import hide_values, string_literal
from tessera.sharing.model import SharingError

if TYPE_CHECKING:
    import pyarrow as pa

    from tessera.access.limits import QueryLimits
    from tessera.access.model import ReadAccess
    from tessera.model.contract import Column

__all__ = ["MaskedView", "cache_folder", "purge", "view_for"]

_SOURCE = "__tessera_source__"


def cache_folder(root: Path, address: str, major: int) -> Path:
    """Where the masked copies of one major of a product live (one folder per view inside)."""
    return root / ".tessera" / "sharing" / "masked" / address / f"v{major}"


def purge(folder: Path, table_root: str, exists: Callable[[str], bool]) -> int:
    """Delete the masked copies under ``folder`` (``cache_folder``) whose source file in the table at
    ``table_root`` is gone (``exists`` tells, for a local path or an object store URI): how many."""
    removed = 0
    for copy in folder.glob("*/*.parquet"):
        if not exists(f"{table_root.rstrip('/')}/{copy.name}"):
            copy.unlink(missing_ok=True)
            removed += 1
    return removed


_literal = string_literal


class MaskedView:
    """What one reader may see of one product's table, as SQL over one Parquet file at a time."""

    def __init__(self, columns: Sequence[Column], access: ReadAccess, folder: Path) -> None:
        self.template = masked_select(columns, access, _SOURCE)  # checks the row filters
        self.fingerprint = hashlib.sha256(self.template.encode()).hexdigest()[:16]
        self.folder = folder / self.fingerprint
        self.masked = tuple(c.name for c in columns if c.sensitive and not access.clearance)
        self.filtered = bool(access.row_filters)

    def schema_json(self, delta_schema: str, arrow_schema: pa.Schema) -> str:
        """The Delta schema JSON of the view's rows, from the table's: a masked column may hold nulls, and
        ``hash`` turns a column of any type into text."""
        import json

        import pyarrow as pa

        out_types = self._types(arrow_schema)
        doc = json.loads(delta_schema)
        for column in doc.get("fields", []):
            if column.get("name") in self.masked:
                column["nullable"] = True
                if pa.types.is_string(out_types[column["name"]]) or pa.types.is_large_string(
                    out_types[column["name"]]
                ):
                    column["type"] = "string"
        return json.dumps(doc, separators=(",", ":"))

    def _types(self, table: pa.Schema) -> dict[str, pa.DataType]:
        """The Arrow type of each of the view's columns over a table of schema ``table``."""
        import duckdb
        import pyarrow as pa

        con = duckdb.connect()
        try:
            con.register("__tessera_empty__", pa.Table.from_batches([], table))
            sql = self.template.replace(_SOURCE, "__tessera_empty__", 1)
            schema = con.sql(sql + " LIMIT 0").to_arrow_table().schema
            return {f.name: f.type for f in schema}
        except duckdb.Error as exc:
            raise QueryError(_scrubbed(str(exc))) from None
        finally:
            con.close()

    def copy_of(
        self,
        source: str,
        load: Callable[[], pa.Table] | None = None,
        exists: Callable[[str], bool] | None = None,
        limits: QueryLimits | None = None,
    ) -> Path:
        """The masked copy of one source file (a local path; or any file ``load`` reads as Arrow), written on
        first use under the source file's own name, under ``limits`` (memory, threads, time). With ``exists``, a
        copy whose source is gone once it is in place (a vacuum ran meanwhile, its purge perhaps before the copy
        landed) is deleted again: 404."""
        import duckdb

        from tessera.access.limits import DEFAULT_LIMITS, bounded

        bounds = limits or DEFAULT_LIMITS.for_transform()

        target = self.folder / source.rstrip("/").rsplit("/", 1)[-1]
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.stem}.{secrets.token_hex(6)}.tmp")
        con = duckdb.connect()
        try:
            bounds.configure(con)
            if load is None:
                relation = f"read_parquet({_literal(source)})"
            else:
                relation = "__tessera_source_rows__"
                con.register(relation, load())
            sql = self.template.replace(_SOURCE, relation, 1)
            with bounded(con, bounds):
                con.execute(f"COPY ({sql}) TO {_literal(str(partial))} (FORMAT parquet)")
            os.replace(partial, target)
            if exists is not None and not exists(source):
                target.unlink(missing_ok=True)
                raise SharingError(
                    "RESOURCE_DOES_NOT_EXIST",
                    "a file of this version was removed (retention or erasure) while it was read; query again",
                )
        except duckdb.Error as exc:
            raise QueryError(_scrubbed(str(exc))) from None
        finally:
            con.close()
            partial.unlink(missing_ok=True)
        return target


def _scrubbed(message: str) -> str:
    """An engine error with quoted values hidden (row filters run on raw rows)."""
    return f"the shared table's masked view cannot be computed: {hide_values(message)} (values hidden)"


def view_for(columns: Sequence[Column], access: ReadAccess, folder: Path) -> MaskedView | None:
    """The view a reader needs, or None when it may receive the raw files (clearance or nothing sensitive,
    and no row filter)."""
    sensitive = any(c.sensitive for c in columns)
    if not access.row_filters and (access.clearance or not sensitive):
        return None
    return MaskedView(columns, access, folder)
