"""Delta Lake tables through delta-rs: commit a version with provenance, read a version, history.

One table per product major version, at ``<storage>/<domain>/<product>/v<major>``: the previous major stays
readable through its deprecation window while the new one is written."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from tessera.errors import DataError, NotFoundError, StorageError, TransientError
from tessera.model.sqltext import ident
from tessera.storage.failures import is_panic, local_failure

if TYPE_CHECKING:
    from collections.abc import Callable

    import pyarrow as pa

__all__ = ["Provenance", "ScanSource", "TableStore", "table_uri"]

PROVENANCE_PREFIX = "tessera."
_MICROSECOND = timedelta(microseconds=1)


def _is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def _log_versions(uri: str) -> tuple[Path, list[int]] | None:
    """A local table's log folder and its commit versions, newest first; None when there is no log."""
    log = Path(uri.removeprefix("file://")) / "_delta_log"
    if not log.is_dir():
        return None
    return log, sorted((int(p.stem) for p in log.glob("*.json") if p.stem.isdigit()), reverse=True)


def _commit_info(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return _parse_commit_info(text)


def _parse_commit_info(text: str) -> dict[str, Any] | None:
    import json

    for line in text.splitlines():
        if '"commitInfo"' in line:
            info = json.loads(line).get("commitInfo")
            return _with_user_metadata(dict(info)) if isinstance(info, dict) else None
    return None


def _with_user_metadata(info: dict[str, Any]) -> dict[str, Any]:
    """A commit written by Spark carries Tessera's provenance as JSON in ``userMetadata`` (Spark has no other
    commit metadata): its ``tessera.*`` keys are lifted beside delta-rs's own, so readers see one shape."""
    import json

    text = info.get("userMetadata")
    if not isinstance(text, str) or PROVENANCE_PREFIX not in text:
        return info
    try:
        extra = json.loads(text)
    except ValueError:
        return info
    if isinstance(extra, dict):
        info.update({k: v for k, v in extra.items() if k.startswith(PROVENANCE_PREFIX) and k not in info})
    return info


def table_uri(storage_root: str, domain: str, product: str, major: int) -> str:
    return f"{storage_root.rstrip('/')}/{domain}/{product}/v{major}"


@dataclass(frozen=True, slots=True)
class Provenance:
    """What a commit carries: the seed's row columns and Tessera's commit metadata."""

    product: str
    domain: str
    product_version: str
    contract_version: str
    contract_hash: str
    run_id: str
    quality: Mapping[str, Any]
    published_at: datetime
    write_mode: str = "overwrite"

    def commit_metadata(self) -> dict[str, str]:
        import json

        return {
            "tessera.product": f"{self.domain}.{self.product}",
            "tessera.productVersion": self.product_version,
            "tessera.contractVersion": self.contract_version,
            "tessera.contractHash": self.contract_hash,
            "tessera.runId": self.run_id,
            "tessera.publishedAt": self.published_at.isoformat(),
            "tessera.writeMode": self.write_mode,
            "tessera.quality": json.dumps(dict(self.quality), sort_keys=True),
        }


_BUCKET = re.compile(r"<BucketName>([^<]+)</BucketName>")


def store_error(uri: str, exc: BaseException, options: Mapping[str, str]) -> StorageError:
    """An object store's failure as one message naming what to check (mesh.yaml ``storage`` or
    ``storageOptions``, or the credentials in the environment) instead of the client's error chain."""
    text = str(exc)
    endpoint = options.get("AWS_ENDPOINT_URL") or options.get("aws_endpoint_url") or options.get("endpoint")
    where = f" at {endpoint}" if endpoint else ""
    if "NoSuchBucket" in text:
        found = _BUCKET.search(text)
        bucket = found[1] if found else uri.split("/")[2]
        return StorageError(f"storage {uri}: bucket {bucket!r} does not exist{where} (mesh.yaml storage)")
    if any(
        s in text for s in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403 Forbidden")
    ):
        return StorageError(
            f"storage {uri}: the object store{where} refused the credentials; check AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (environment or mesh.yaml storageOptions)"
        )
    if any(s in text for s in ("error sending request", "Connect", "dns error", "timed out")):
        return StorageError(
            f"storage {uri}: cannot reach the object store{where}; check mesh.yaml storageOptions "
            "(AWS_ENDPOINT_URL, AWS_REGION) and the network"
        )
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return StorageError(f"storage {uri}: {first}")


@dataclass(frozen=True, slots=True)
class ScanSource:
    """How to read one version: its Parquet files directly when the protocol allows, else an Arrow dataset."""

    version: int
    files: tuple[str, ...] | None
    table: DeltaTable

    def dataset(self) -> Any:
        return self.table.to_pyarrow_dataset()


def _with_provenance(data: pa.Table, provenance: Provenance) -> pa.RecordBatchReader:
    """The rows with the four provenance columns appended, batch by batch (never a second copy of the table).

    The constant columns are built once, at the longest batch's length, and each batch takes a zero-copy
    slice of them. They stay ordinary columns written in every file (docs/architecture.md, "The provenance
    columns": partition values or other encodings were measured and cost as much or more)."""
    import pyarrow as pa  # only writers need Arrow: reading a table's file list does not

    from tessera.storage.schema import METADATA_COLUMNS

    values: list[str | datetime] = [
        f"{provenance.domain}.{provenance.product}".split(".", 1)[1],
        provenance.product_version,
        provenance.domain,
        provenance.published_at,
    ]
    schema = data.schema
    for name, typ in METADATA_COLUMNS:
        schema = schema.append(pa.field(name, typ))
    chunks = data.to_batches(max_chunksize=1_000_000)
    longest = max((len(batch) for batch in chunks), default=0)
    constants = [
        pa.repeat(_constant(v, t), longest) for v, (_, t) in zip(values, METADATA_COLUMNS, strict=True)
    ]

    def batches() -> Any:
        for batch in chunks:
            extra = [column.slice(0, len(batch)) for column in constants]
            yield pa.RecordBatch.from_arrays([*batch.columns, *extra], schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _constant(value: str | datetime, typ: pa.DataType) -> pa.Scalar[Any]:
    """``value`` as an Arrow scalar of ``typ`` (a string or a UTC timestamp), built from its bytes: converting
    a Python value (``pa.scalar``, ``pa.array``) makes pyarrow import pandas, ~0.3 s of every build's start,
    only to rule out a pandas object."""
    import struct

    import pyarrow as pa

    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // _MICROSECOND
        buffers = [None, pa.py_buffer(struct.pack("<q", micros))]
    else:
        text = value.encode()
        buffers = [None, pa.py_buffer(struct.pack("<ii", 0, len(text))), pa.py_buffer(text)]
    array = pa.Array.from_buffers(typ, 1, buffers)
    array.validate(full=True)
    return array[0]


class TableStore:
    """Delta tables under one storage root (local folder or object store URI)."""

    def __init__(
        self,
        storage_options: Mapping[str, str] | None = None,
        retries: int = 5,
        *,
        whole_rewrites: bool = False,
    ) -> None:
        """``whole_rewrites``: deletes rewrite the table from Arrow instead of through delta-rs's DataFusion,
        whose files type strings as ``string_view`` in their schema, which Spark engines cannot read back."""
        self.options = dict(storage_options or {})
        self.retries = retries
        self.whole_rewrites = whole_rewrites

    @contextmanager
    def _remote(self, uri: str) -> Iterator[None]:
        """Object store failures (not a missing table, not a commit conflict) become one StorageError; so do a
        local table's full disk and damaged log (``storage.failures``)."""
        try:
            yield
        except (TableNotFoundError, CommitFailedError):
            raise
        except (DeltaError, OSError) as exc:
            if _is_local(uri):
                failure = local_failure(uri, exc)  # a full disk, a damaged log: one clear message
                if failure is None:
                    raise
                raise failure from None
            raise store_error(uri, exc, self.options) from None
        except BaseException as exc:  # a Rust panic is a BaseException
            if not is_panic(exc):
                raise
            raise (local_failure(uri, exc) if _is_local(uri) else None) or store_error(
                uri, exc, self.options
            ) from None

    def open(self, uri: str, version: int | None = None) -> DeltaTable:
        try:
            with self._remote(uri):
                return DeltaTable(uri, version=version, storage_options=self.options or None)
        except TableNotFoundError:
            raise NotFoundError(f"no Delta table at {uri}") from None
        except (DeltaError, OSError) as exc:
            if version is not None and "version" in str(exc).lower():
                raise NotFoundError(f"{uri} has no version {version}: {exc}") from None
            raise

    def latest_version(self, uri: str) -> int | None:
        """The newest committed version, or None when there is no table. A local table's log folder says it
        without loading the table (which grows with the log)."""
        if _is_local(uri):
            found = _log_versions(uri)
            if found is None:
                return None
            if found[1]:
                return found[1][0]
        try:
            with self._remote(uri):
                return int(DeltaTable(uri, storage_options=self.options or None).version())
        except TableNotFoundError:
            return None

    def commit(
        self,
        uri: str,
        data: pa.Table,
        provenance: Provenance,
        mode: Literal["overwrite", "append", "merge"] = "overwrite",
        merge_keys: Sequence[str] = (),
    ) -> int:
        """One Delta commit carrying the provenance; returns the new version. Conflicts are retried, then
        surface as a TransientError (retry later) — a version is never lost or half-written."""
        properties = CommitProperties(custom_metadata=provenance.commit_metadata(), max_commit_retries=10)
        attempt = 0
        while True:
            try:
                with self._remote(uri):
                    self._commit_once(uri, data, provenance, mode, merge_keys, properties)
                return self.version_of(uri, provenance.run_id)
            except CommitFailedError as exc:
                attempt += 1
                if attempt > self.retries:
                    raise TransientError(
                        f"{uri}: the commit conflicted with concurrent writers {attempt} times; retry: {exc}"
                    ) from None
                time.sleep(0.05 * attempt)

    def _commit_once(
        self,
        uri: str,
        data: pa.Table,
        provenance: Provenance,
        mode: str,
        merge_keys: Sequence[str],
        properties: CommitProperties,
    ) -> None:
        stream = _with_provenance(data, provenance)
        exists = self.latest_version(uri) is not None
        if mode == "merge" and exists:
            table = self.open(uri)
            predicate = " AND ".join(f's."{k}" = t."{k}"' for k in merge_keys)
            (
                table.merge(
                    stream, predicate, source_alias="s", target_alias="t", commit_properties=properties
                )
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute()
            )
            return
        if not exists:
            # Creating the table: exactly one of several concurrent first publishers may; the others start
            # again on the table it made. (delta-rs would otherwise retry a losing create as a later version
            # that keeps the winner's files beside its own.)
            create = CommitProperties(custom_metadata=provenance.commit_metadata(), max_commit_retries=0)
            try:
                write_deltalake(
                    uri, stream, mode="error", storage_options=self.options or None, commit_properties=create
                )
            except DeltaError as exc:
                if "already exists" not in str(exc):
                    raise
                raise CommitFailedError(f"{uri} was created by a concurrent publisher") from None
            return
        write_mode: Literal["append", "overwrite"] = "append" if mode == "append" else "overwrite"
        write_deltalake(
            uri,
            stream,
            mode=write_mode,
            schema_mode="merge" if write_mode == "append" else "overwrite",
            storage_options=self.options or None,
            commit_properties=properties,
        )

    def commits(self, uri: str, *, newest: int | None = None) -> list[dict[str, Any]]:
        """Commit infos, newest first, each with its ``version``. Local tables are read commit file by commit
        file: delta-rs's ``history()`` numbers entries by position, which shifts when a commit lands meanwhile."""
        if not _is_local(uri):
            return list(self._remote_commits(uri, newest))
        return list(self._local_commits(uri, newest))

    def _remote_commits(self, uri: str, newest: int | None) -> Iterator[dict[str, Any]]:
        """An object store's commit infos, newest first, read commit file by commit file like a local table's
        (stopping where log cleanup removed the older ones)."""
        from deltalake.fs import DeltaStorageHandler
        from pyarrow.fs import PyFileSystem

        latest = self.latest_version(uri)
        if latest is None:
            return
        files = PyFileSystem(DeltaStorageHandler(uri, self.options or None))
        oldest = max(0, latest - newest + 1) if newest else 0
        for version in range(latest, oldest - 1, -1):
            try:
                with files.open_input_stream(f"_delta_log/{version:020d}.json") as stream:
                    info = _parse_commit_info(stream.read().decode())
            except FileNotFoundError:
                return
            if info is not None:
                yield {**info, "version": version}

    def _local_commits(self, uri: str, newest: int | None) -> Iterator[dict[str, Any]]:
        """Commit infos read file by file, newest first, lazily (a caller may stop at the first it wants)."""
        log, versions = _log_versions(uri) or (Path(), [])
        for version in versions[:newest] if newest else versions:
            info = _commit_info(log / f"{version:020d}.json")
            if info is not None:
                yield {**info, "version": version}

    def version_of(self, uri: str, run_id: str) -> int:
        """The version a run committed, found by the run id in the commit metadata (concurrent writers may
        have committed after it, so "the latest version" would not do). Newest first: usually the first."""
        entries = self._local_commits(uri, 200) if _is_local(uri) else self._remote_commits(uri, 200)
        for entry in entries:
            if entry.get("tessera.runId") == run_id:
                return int(entry["version"])
        raise TransientError(
            f"{uri}: the commit of run {run_id} is not in the table's recent history; run repair"
        )

    def majors_on_disk(self, product_root: str) -> dict[int, str]:
        """The major tables (``v1``, ``v2``…) a product folder holds. An object store has no folders to list
        through delta-rs: its majors are probed in order until three in a row are missing."""
        if not _is_local(product_root):
            found, major, misses = {}, 1, 0
            while misses < 3:
                uri = f"{product_root.rstrip('/')}/v{major}"
                if self.latest_version(uri) is None:
                    misses += 1
                else:
                    found[major], misses = uri, 0
                major += 1
            return found
        folder = Path(product_root.removeprefix("file://"))
        if not folder.is_dir():
            return {}
        found = {}
        for child in folder.iterdir():
            if child.name[:1] == "v" and child.name[1:].isdigit() and (child / "_delta_log").is_dir():
                found[int(child.name[1:])] = f"{product_root.rstrip('/')}/{child.name}"
        return found

    def scan(self, uri: str, version: int | None = None) -> ScanSource:
        """Local tables are read from their Parquet files; an object store's through the Arrow dataset, since
        the embedded engine does not reach object stores itself (its extensions are not downloaded)."""
        table = self.open(uri, version)
        protocol = table.protocol()
        direct = _is_local(uri) and protocol.min_reader_version == 1 and not protocol.reader_features
        files = tuple(table.file_uris()) if direct else None
        return ScanSource(int(table.version()), files, table)

    def history(self, uri: str) -> list[dict[str, Any]]:
        self.open(uri)  # raises NotFoundError for a missing table
        return self.commits(uri)

    def commit_time(self, entry: Mapping[str, Any]) -> datetime:
        return datetime.fromtimestamp(int(entry.get("timestamp", 0)) / 1000, tz=UTC)

    # Remediation: deleting rows for good (retention, erasure). A delete commits a new version; only a vacuum
    # removes the old files that still hold the rows, and only a scrub the log's statistics of those files.

    def delete_rows(self, uri: str, predicate_sql: str, provenance: Provenance) -> tuple[int | None, int]:
        """Delete the rows ``predicate_sql`` (DataFusion SQL) matches in one commit carrying the provenance;
        returns the new version (None when no row matched: nothing is committed) and the rows deleted.

        delta-rs rewrites every file holding a matching row (it writes no deletion vectors). The predicate is
        kept verbatim in the commit's ``operationParameters``: never put a value that must be forgotten into
        it; ``delete_matching`` keeps the values out of the log."""
        if self.whole_rewrites:
            return self._delete(
                uri,
                provenance,
                "rows_deleted",
                lambda table, props: self._rewrite_without(uri, table, props, predicate_sql),
            )
        return self._delete(
            uri,
            provenance,
            "num_deleted_rows",
            lambda table, props: table.delete(predicate_sql, commit_properties=props),
        )

    def delete_matching(
        self, uri: str, column: str, values: pa.Array, provenance: Provenance
    ) -> tuple[int | None, int]:
        """Delete the rows whose ``column`` equals one of ``values`` (typed as the column): a merge against a
        one-column table, so the values are not written to the Delta log as a delete predicate would be."""
        import pyarrow as pa

        source = pa.table({"__tessera_match": values})
        target = ident(column)
        if self.whole_rewrites:
            return self._delete(
                uri,
                provenance,
                "rows_deleted",
                lambda table, props: self._rewrite_without(
                    uri, table, props, f"{target} IN (SELECT __tessera_match FROM __tessera_values)", source
                ),
            )
        return self._delete(
            uri,
            provenance,
            "num_target_rows_deleted",
            lambda table, props: (
                table.merge(
                    source,
                    f't.{target} = s."__tessera_match"',
                    source_alias="s",
                    target_alias="t",
                    commit_properties=props,
                )
                .when_matched_delete()
                .execute()
            ),
        )

    def _delete(
        self,
        uri: str,
        provenance: Provenance,
        metric: str,
        run: Callable[[DeltaTable, CommitProperties], Mapping[str, Any]],
    ) -> tuple[int | None, int]:
        properties = CommitProperties(custom_metadata=provenance.commit_metadata(), max_commit_retries=10)
        attempt = 0
        while True:
            table = self.open(uri)
            features = table.protocol().reader_features or []
            if "deletionVectors" in features:
                raise DataError(
                    f"{uri} uses deletion vectors: a delete would only mark rows as deleted and leave them in "
                    "their files; rewrite the table without deletion vectors first"
                )
            before = table.version()
            try:
                metrics = run(table, properties)
            except CommitFailedError as exc:
                attempt += 1
                if attempt > self.retries:
                    raise TransientError(
                        f"{uri}: the delete conflicted with concurrent writers {attempt} times; retry: {exc}"
                    ) from None
                time.sleep(0.05 * attempt)
                continue
            deleted = metrics.get(metric)
            if deleted is not None and int(deleted) == 0:
                return None, 0
            try:
                version = self.version_of(uri, provenance.run_id)
            except TransientError:
                return None, 0
            if deleted is None:  # delta-rs leaves the count out when it did not scan: count from the stats
                old, new = self.row_count(uri, before), self.row_count(uri, version)
                deleted = old - new if old is not None and new is not None else 0
            return version, int(deleted)

    def _rewrite_without(
        self,
        uri: str,
        table: DeltaTable,
        properties: CommitProperties,
        doomed: str,
        values: pa.Table | None = None,
    ) -> dict[str, int]:
        """Overwrite the table with its rows for which ``doomed`` (DuckDB SQL over the table ``t``; the table
        ``__tessera_values`` holds ``values``) is not true, in one commit; nothing is written when no row
        matches. The commit records no predicate, so no value reaches the log."""
        import duckdb
        import pyarrow as pa

        dataset = table.to_pyarrow_dataset()
        con = duckdb.connect()
        try:
            con.register("t", dataset)
            if values is not None:
                con.register("__tessera_values", values)
            [(total,)] = con.execute("SELECT count(*) FROM t").fetchall()
            kept = con.sql(f"SELECT * FROM t WHERE ({doomed}) IS NOT TRUE").to_arrow_table()
        finally:
            con.close()
        deleted = int(total) - kept.num_rows
        if deleted:
            schema = pa.schema(
                [f.with_type(pa.string()) if pa.types.is_string_view(f.type) else f for f in dataset.schema]
            )
            write_deltalake(
                uri,
                kept.cast(schema),
                mode="overwrite",
                storage_options=self.options or None,
                commit_properties=properties,
            )
        return {"rows_deleted": deleted}

    def row_count(self, uri: str, version: int | None = None) -> int | None:
        """A version's rows from its files' statistics (None when a file has none); reads no data."""
        import pyarrow as pa
        import pyarrow.compute as pc

        actions = pa.table(self.open(uri, version).get_add_actions(flatten=True))
        if "num_records" not in actions.column_names:
            return 0 if actions.num_rows == 0 else None
        counts = actions.column("num_records")
        return None if counts.null_count else int(pc.sum(counts).as_py() or 0)

    def vacuum(self, uri: str, *, dry_run: bool = False) -> list[str]:
        """Remove every file the latest version does not reference — older versions' files and files no commit
        names — with no retention window, so rows deleted by earlier commits are gone from storage and the
        older versions can no longer be read. Returns the files (relative to the table). A writer committing
        to the same table meanwhile could lose the files it has written but not yet committed."""
        table = self.open(uri)

        def run(dry: bool) -> list[str]:
            try:
                return list(
                    table.vacuum(retention_hours=0, dry_run=dry, enforce_retention_duration=False, full=True)
                )
            except CommitFailedError as exc:
                raise TransientError(
                    f"{uri}: the vacuum conflicted with a concurrent writer; retry: {exc}"
                ) from None

        if not _is_local(uri):
            return sorted(run(dry_run))
        # delta-rs lists every file the log ever removed, long gone or not: count only those still there
        folder = Path(uri.removeprefix("file://"))
        present = sorted(f for f in run(True) if (folder / unquote(f)).exists())
        if present and not dry_run:
            run(False)
        return present

    def scrub_log(self, uri: str) -> int | None:
        """Drop the statistics of files that no longer exist from the table's log (local tables; None for an
        object store, whose log is left as it is): a file's min/max values can hold a deleted row's values."""
        if not _is_local(uri):
            return None
        from tessera.storage.scrub import scrub_stats

        return scrub_stats(Path(uri.removeprefix("file://")))

    def missing_files(self, scan: ScanSource) -> list[str]:
        """The files of a scanned version that are gone from the store (removed by a vacuum)."""
        files = scan.files if scan.files is not None else tuple(scan.table.file_uris())
        remote = [f for f in files if not _is_local(f)]
        gone = [f for f in files if _is_local(f) and not Path(f.removeprefix("file://")).exists()]
        if remote:
            from pyarrow.fs import FileType

            dataset = scan.dataset()
            infos = dataset.filesystem.get_file_info(list(dataset.files))
            gone += [info.path for info in infos if info.type == FileType.NotFound]
        return gone
