"""Write a version's Parquet files first and commit them later: files not in the Delta log are invisible to
readers, so the quality gate can run while they are written and a refusal only has to delete them.

Used for local tables in ``overwrite`` and ``append`` mode; other cases go through ``write_deltalake``."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.dataset as pds
from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

__all__ = ["StagedWrite", "is_local"]

TARGET_ROWS_PER_FILE = 4_000_000


def is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def _stats(metadata: Any) -> str:
    """Delta file statistics: the row count and null counts (min/max are optional and left out)."""
    nulls: dict[str, int] = {}
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            name = column.path_in_schema
            if "." in name:
                continue
            stats = column.statistics
            if stats is not None and stats.has_null_count:
                nulls[name] = nulls.get(name, 0) + int(stats.null_count)
    return json.dumps({"numRecords": int(metadata.num_rows), "nullCount": nulls})


class StagedWrite:
    """Parquet files written in a background thread into the table's folder, committed or aborted later."""

    def __init__(self, uri: str, make_stream: Callable[[], pa.RecordBatchReader]) -> None:
        self.uri = uri
        self.folder = Path(uri.removeprefix("file://"))
        self.schema: pa.Schema | None = None
        self.actions: list[AddAction] = []
        self._error: BaseException | None = None
        self.committed = False
        self._prefix = f"part-{uuid.uuid4().hex}"
        self._thread = threading.Thread(target=self._write, args=(make_stream,), daemon=True)
        self._thread.start()

    def _write(self, make_stream: Callable[[], pa.RecordBatchReader]) -> None:
        try:
            stream = make_stream()
            self.schema = stream.schema
            self.folder.mkdir(parents=True, exist_ok=True)

            def visit(written: Any) -> None:
                path = Path(written.path)
                self.actions.append(
                    AddAction(
                        path=path.name,
                        size=os.path.getsize(path),
                        partition_values={},
                        modification_time=int(time.time() * 1000),
                        data_change=True,
                        stats=_stats(written.metadata),
                    )
                )

            pds.write_dataset(
                stream,
                base_dir=str(self.folder),
                basename_template=self._prefix + "-{i}.snappy.parquet",
                format="parquet",
                file_options=pds.ParquetFileFormat().make_write_options(compression="snappy"),
                max_rows_per_file=TARGET_ROWS_PER_FILE,
                max_rows_per_group=1_000_000,
                existing_data_behavior="overwrite_or_ignore",
                file_visitor=visit,
            )
        except BaseException as exc:  # re-raised in the caller's thread by wait()
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            self.abort()
            raise self._error

    def abort(self) -> None:
        """Delete the staged files (never once they are committed: then they belong to the table)."""
        self._thread.join()
        if self.committed:
            return
        for path in self.folder.glob(self._prefix + "-*.parquet"):
            path.unlink(missing_ok=True)

    def commit(
        self,
        mode: Literal["overwrite", "append"],
        properties: CommitProperties,
        options: dict[str, str] | None,
    ) -> int:
        """One Delta commit adding the staged files (and, for overwrite, removing the current ones). Returns 0
        when it created the table, else -1: the caller finds the version by the commit's run id."""
        self.wait()
        assert self.schema is not None
        try:
            table = DeltaTable(self.uri, storage_options=options)
        except TableNotFoundError:
            from deltalake import Schema

            create_table_with_add_actions(
                self.uri,
                Schema.from_arrow(self.schema),
                self.actions,
                mode="overwrite",
                storage_options=options,
                commit_properties=properties,
            )
            self.committed = True
            return 0
        actions: list[AddAction | RemoveAction] = list(self.actions)
        table.create_write_transaction(actions, mode, self.schema, commit_properties=properties)
        self.committed = True
        return -1

    def same_schema(self, options: dict[str, str] | None) -> bool:
        """Whether the staged files fit the table's current schema (else the caller rewrites the schema)."""
        self.wait()
        try:
            current = DeltaTable(self.uri, storage_options=options).schema().to_arrow()
        except TableNotFoundError:
            return True
        assert self.schema is not None
        return pa.schema(current).equals(self.schema, check_metadata=False)  # type: ignore[no-any-return]
