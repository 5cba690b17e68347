"""``tessera test``: the quality gate alone, on a product's data or on a bare ODCS contract where its data lives.

A bare contract is tested object by object (``spec/objects.py``), each on its own source
(``platform/publishing/servers.py``): presence and type checks from the source's column types first (no row read), then,
when the data has the declared schema, the quality pass (``quality.run_quality``) on the source's engine —
DuckDB over files, a Delta table or a DuckDB database file, or PostgreSQL itself, where the checks run as SQL
in the database. An object whose data lacks a declared column or has one of another type is not scanned: its
other checks come out as one ``<object>.checks`` error, so a file missing a column is refused from its
metadata however big it unpacks. Check names carry the object: ``orders.order_id.present``."""

from __future__ import annotations

import glob
import re
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tessera.engine import Engine, create_engine, is_sealable
from tessera.errors import DataError, InputError, Problem, TesseraError
from tessera.model.results import Check, QualityRun
from tessera.model.sqltext import qualified
from tessera.platform.publishing.servers import Source, choose_server, file_source, object_source
from tessera.quality.select import Selection
from tessera.spec.names import mesh_data_folders
from tessera.spec.objects import SchemaObject, load_objects

if TYPE_CHECKING:
    from tessera.platform.context import Context

__all__ = ["test_contract", "test_product"]


def test_product(ctx: Context, address: str, data: Any | None = None) -> QualityRun:
    # imported here: a bare contract on PostgreSQL never loads the catalog, Delta or Arrow conversions
    from tessera.platform.publishing.data import to_arrow
    from tessera.platform.publishing.publish import seal_gate
    from tessera.platform.reading.releases import register_release, resolve
    from tessera.quality import run_quality

    product = ctx.product(address.split("@", maxsplit=1)[0])
    if data is None:  # the gate reads every row of the published data: a producer's action, not a reader's
        ctx.authorize("publish", product.address)
    else:
        ctx.identify()
    engine = ctx.engine()
    try:
        if data is None:
            scan = register_release(ctx, engine, "__tessera__.subject", resolve(ctx, address))
            seal_gate(
                ctx, engine, scan.files or ()
            )  # the contract's SQL rules read the subject, nothing else
        else:
            engine.register_arrow("__tessera__.subject", to_arrow(data))
            seal_gate(ctx, engine, ())
        run = run_quality(
            product.contract, engine, "__tessera__.subject", subject=product.address, run_id=uuid.uuid4().hex
        )
        from tessera.platform.governing.consumer_gate import consumers_to_judge, judge

        if found := consumers_to_judge(ctx, product):  # the gate alone judges for the consumers too
            run = replace(run, checks=run.checks + judge(product, found, engine, "__tessera__.subject"))
        return run
    finally:
        engine.close()


SUBJECT = "__tessera__.subject"
ALIGNED = "__tessera__.declared"


def test_contract(
    path: str | Path,
    *,
    data: str | None = None,
    server: str | None = None,
    selection: Selection | None = None,
    mesh_root: Path | None = None,
    strict: bool = False,
    warn: Callable[[Problem], None] | None = None,
) -> QualityRun:
    """Test every schema object of the contract at ``path`` on the data its ``servers`` entry (``server``, or
    the first usable one) or ``data`` names. Raises SpecError when the contract is refused, InputError when
    its data cannot be used; failing data is a run with failed checks, never an exception. Inside a mesh
    (``mesh_root``), local data under the mesh's storage or ``.tessera/`` is refused: that is product data,
    read through the reader."""
    chosen = selection or Selection()
    objects = load_objects(path, strict=strict, warn=warn)
    first = objects[0].contract
    if data is not None:
        if len(objects) > 1:
            names = ", ".join(o.name for o in objects)
            raise InputError(
                f"--data names one file and the contract has {len(objects)} schema objects ({names}): "
                "test them through its servers (--server NAME)"
            )
        sources = [file_source(data)]
    else:
        entry = choose_server(first.servers, server)
        base = Path(path).parent
        sources = [object_source(entry, o.name, o.physical_name, base=base) for o in objects]
    forbidden = _mesh_data_roots(mesh_root or Path.cwd(), Path(path).parent)
    started = datetime.now(UTC)
    checks: list[Check] = _unknown_ids(chosen, objects)
    rows = 0
    for obj, source in zip(objects, sources, strict=True):
        found, count = _test_object(obj, source, chosen, forbidden)
        checks.extend(found)
        rows += count
    return QualityRun(
        run_id=uuid.uuid4().hex,
        subject=first.name or first.table or first.id,
        contract_version=first.version,
        started_at=started,
        finished_at=datetime.now(UTC),
        row_count=rows,
        checks=tuple(checks),
    )


def _unknown_ids(selection: Selection, objects: Sequence[SchemaObject]) -> list[Check]:
    unknown, known = selection.unknown_ids(o.contract for o in objects)
    if not unknown:
        return []
    listed = ", ".join(sorted(known)) or "none"
    message = (
        f"no quality rule has id {', '.join(map(repr, sorted(unknown)))}: a typo would test nothing and pass; "
        f"the contract's rule ids: {listed}"
    )
    return [Check("selection.checkId", "selection", None, "", None, "error", "error", message, unit="")]


def _test_object(
    obj: SchemaObject, source: Source, selection: Selection, forbidden: Sequence[Path]
) -> tuple[list[Check], int]:
    with tempfile.TemporaryDirectory(prefix="tessera-test-") as scratch:  # text files fetched from a store
        engine, relation = _open(source, forbidden, Path(scratch))
        try:
            checks, rows = _checks_of(obj, source, selection, engine, relation)
        finally:
            engine.close()
    return [replace(c, name=f"{obj.name}.{c.name}", object=obj.name) for c in checks], rows


def _checks_of(
    obj: SchemaObject, source: Source, selection: Selection, engine: Engine, relation: str
) -> tuple[list[Check], int]:
    from tessera.quality import run_quality
    from tessera.quality.schema_checks import schema_checks

    try:
        types = dict(engine.columns(relation))
    except InputError:
        raise
    except TesseraError as exc:
        raise InputError(f"{_where(source)}: {exc}") from None
    except Exception as exc:  # the engine's own error: a file that is not what it claims
        raise InputError(f"{_where(source)} is not readable as {source.fmt}: {_first_line(exc)}") from None
    checks = schema_checks(obj.contract, types, loose_text=source.fmt in ("csv", "json"))
    if any(c.blocking for c in checks):  # shown whatever the selection: they say why nothing ran
        checks = [c for c in checks if c.blocking or selection.keeps_check(c)]
        checks.append(
            Check(
                "checks",
                "checks",
                None,
                "",
                None,
                "error",
                "error",
                f"the other checks of {obj.name} were not run: its data does not have the declared "
                "schema (see the failed presence and type checks)",
                unit="",
            )
        )
        return checks, 0
    relation = _spelled_as_declared(engine, obj, relation, types)
    _name_physical_table(engine, obj, relation)
    run = run_quality(selection.rules_of(obj.contract), engine, relation, subject=obj.name)
    return [c for c in (*checks, *run.checks) if selection.keeps_check(c)], run.row_count


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _where(source: Source) -> str:
    if source.kind in ("duckdb", "postgres"):
        return f"table {source.table} ({source.location if source.kind == 'duckdb' else 'PostgreSQL'})"
    return source.location


def _open(source: Source, forbidden: Sequence[Path], scratch: Path) -> tuple[Engine, str]:
    """An engine with the source registered, and the relation to test (``scratch``: a folder for the text
    files of an object store, living as long as the engine)."""
    if source.kind == "postgres":
        try:
            engine = create_engine("postgres", conninfo=source.conninfo, search_path=source.location)
            return engine, source.table
        except DataError as exc:
            raise InputError(str(exc)) from None
    engine = create_engine("duckdb")
    try:
        _seal(engine, _register(engine, source, forbidden, scratch))
    except InputError:
        engine.close()
        raise
    except Exception as exc:  # the reader's own error: a file or store that is not what it claims
        engine.close()
        raise InputError(f"{_where(source)} is not readable as {source.fmt}: {_first_line(exc)}") from None
    relation = f"__tessera_source.{source.table}" if source.kind == "duckdb" else SUBJECT
    return engine, relation


def _name_physical_table(engine: Engine, obj: SchemaObject, relation: str) -> None:
    """SQL rules may name the object's table as it is stored (``physicalName``): a view of that name over the
    data (the object's own name is the quality runner's to alias)."""
    name = obj.physical_name
    if engine.dialect != "duckdb" or name == obj.name or not _PLAIN.match(name):
        return
    try:
        engine.register_sql(name, f"SELECT * FROM {qualified(relation)}")
    except TesseraError:  # the rules that need the name will fail and say so
        return


def _spelled_as_declared(engine: Engine, obj: SchemaObject, relation: str, types: dict[str, str]) -> str:
    """The relation with its columns renamed to the contract's spelling where they differ only in case
    (``FL_DATE`` declared ``fl_date``): DuckDB's names are case-insensitive, and the presence check accepted
    them, so the value checks find them too. PostgreSQL's quoted names are not: they stay as they are."""
    if engine.dialect != "duckdb":
        return relation
    by_lower = {name.lower(): name for name in types}
    renames = [
        (by_lower[c.name.lower()], c.name)
        for c in obj.contract.columns
        if c.name not in types and c.name.lower() in by_lower
    ]
    if not renames:
        return relation
    from tessera.quality.sql import quote_ident

    pairs = ", ".join(f"{quote_ident(old)} AS {quote_ident(new)}" for old, new in renames)
    engine.register_sql(ALIGNED, f"SELECT * RENAME ({pairs}) FROM {qualified(relation)}")
    return ALIGNED


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _seal(engine: Engine, files: Sequence[str]) -> None:
    """The contract's SQL rules run on this connection: once the source is registered it may open only the
    source's own files — no other file, no ``COPY``/``ATTACH``/``INSTALL``, no network — like the publish
    gate's connection (docs/architecture.md, "The publish path"). A contract from elsewhere cannot read the
    host's files nor write any."""
    from tessera.access.sealing import seal

    if is_sealable(engine):
        seal(engine, [f for f in files if "://" not in f])


def _register(engine: Engine, source: Source, forbidden: Sequence[Path], scratch: Path) -> list[str]:
    """Register the source as the relation to test; returns the local files its relation reads."""
    from tessera.model.sqltext import string_literal

    remote = "://" in source.location
    if not remote:
        _refuse_mesh_data(Path(source.location), forbidden)
    if source.kind == "delta":
        from tessera.platform.reading.releases import register_scan
        from tessera.storage import TableStore

        try:
            scan = TableStore(source.options).scan(source.location)
            register_scan(engine, SUBJECT, scan)
        except TesseraError as exc:
            raise InputError(f"{source.location}: {exc}") from None
        return list(scan.files or ())
    if source.kind == "duckdb":
        if not Path(source.location).is_file():
            raise InputError(f"no DuckDB database file at {source.location}")
        engine.execute(f"ATTACH {string_literal(source.location)} AS __tessera_source (READ_ONLY)")
        return []
    if remote and source.fmt == "parquet":
        engine.register_arrow(SUBJECT, _object_store_dataset(source))
        return []
    files = _fetched_files(source, scratch) if remote else _local_files(source)
    for file in () if remote else files:  # a glob or a symbolic link may reach past the prefix checked above
        _refuse_mesh_data(Path(file), forbidden)
    _register_text_or_files(engine, source, files)
    return files


def _register_text_or_files(engine: Engine, source: Source, files: list[str]) -> None:
    """The files read as one relation by DuckDB, by column name across files (a folder or glob may hold
    files of several schema versions), JSON as an array or one object per line alike."""
    from tessera.model.sqltext import string_list, string_literal

    if source.fmt == "csv" and source.delimiter:
        engine.register_sql(
            SUBJECT,
            f"SELECT * FROM read_csv({string_list(files)}, delim = {string_literal(source.delimiter)}, "
            "header = true, union_by_name = true)",
        )
    else:
        engine.register_files(SUBJECT, files, source.fmt)  # type: ignore[arg-type]


_GLOB = re.compile(r"[*?\[]")


def _local_files(source: Source) -> list[str]:
    location = source.location
    if _GLOB.search(location):
        files = sorted(f for f in glob.glob(location, recursive=True) if Path(f).is_file())
    elif Path(location).is_dir():
        files = sorted(str(f) for f in Path(location).rglob(f"*.{source.fmt}") if f.is_file())
    else:
        files = [location] if Path(location).is_file() else []
    if not files:
        raise InputError(f"no {source.fmt} data file at {location}")
    empty = [f for f in files if Path(f).stat().st_size == 0]
    if empty:
        raise InputError(f"{empty[0]} is empty: not a {source.fmt} file")
    return files


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "$")


def _object_store_files(source: Source) -> tuple[Any, list[str]]:
    """The object store of an ``s3://bucket/prefix/*.csv`` location (an Arrow filesystem over the storage
    layer) and the keys of the files it names."""
    import pyarrow.fs as pafs
    from deltalake.fs import DeltaStorageHandler

    scheme, rest = source.location.split("://", 1)
    bucket, _, key = rest.partition("/")
    try:
        fs = pafs.PyFileSystem(DeltaStorageHandler(f"{scheme}://{bucket}", dict(source.options)))
        if _GLOB.search(key):
            prefix = key[: _GLOB.search(key).start()].rsplit("/", 1)[0]  # type: ignore[union-attr]
            match = _glob_regex(key)
            infos = fs.get_file_info(pafs.FileSelector(prefix, recursive=True, allow_not_found=True))
            files = sorted(i.path for i in infos if i.type == pafs.FileType.File and match.match(i.path))
        else:
            info = fs.get_file_info([key])[0]
            if info.type == pafs.FileType.Directory:
                infos = fs.get_file_info(pafs.FileSelector(key, recursive=True))
                files = sorted(i.path for i in infos if i.path.endswith(f".{source.fmt}"))
            else:
                files = [key] if info.type == pafs.FileType.File else []
    except OSError as exc:
        raise _store_error(source, exc) from None
    if not files:
        raise InputError(f"no {source.fmt} data file at {source.location}")
    return fs, files


def _store_error(source: Source, exc: OSError) -> InputError:
    from tessera.storage.delta import store_error

    return InputError(str(store_error(source.location, exc, source.options)))


def _object_store_dataset(source: Source) -> Any:
    """The Parquet files of an object-store location as one Arrow dataset (read lazily, batch by batch, by
    the engine's scan), its schema the union of the files' schemas by column name."""
    import pyarrow as pa
    import pyarrow.dataset as pds

    fs, files = _object_store_files(source)
    dataset = pds.dataset(files, filesystem=fs, format="parquet")
    if len(files) > 1:
        schema = pa.unify_schemas([f.physical_schema for f in dataset.get_fragments()])
        dataset = pds.dataset(files, filesystem=fs, format="parquet", schema=schema)
    return dataset


def _fetched_files(source: Source, scratch: Path) -> list[str]:
    """The CSV or JSON files of an object-store location, copied into ``scratch`` through the storage layer
    so that DuckDB reads them exactly as it reads local files (a JSON array and newline-delimited JSON alike;
    Arrow's JSON reader knows only the latter)."""
    fs, keys = _object_store_files(source)
    files: list[str] = []
    for number, key in enumerate(keys):
        target = scratch / f"{number:06d}-{key.rsplit('/', 1)[-1]}"
        try:
            with fs.open_input_stream(key) as stream, target.open("wb") as out:
                while chunk := stream.read(1 << 20):
                    out.write(chunk)
        except OSError as exc:
            raise _store_error(source, exc) from None
        if target.stat().st_size == 0:
            raise InputError(f"{source.location}: {key} is empty: not a {source.fmt} file")
        files.append(str(target))
    return files


def _mesh_data_roots(*starts: Path | None) -> list[Path]:
    """The folders a bare contract may not name: the local storage and ``.tessera/`` of the mesh each of
    ``starts`` lies in (the working folder's mesh, the contract's), found upwards as the CLI's folders are —
    a team works in ``domains/<domain>/``, not at the mesh's root."""
    roots: list[Path] = []
    for start in starts:
        mesh = _enclosing_mesh(start)
        if mesh is not None:
            roots.extend(r for r in mesh_data_folders(mesh) if r not in roots)
    return roots


def _enclosing_mesh(start: Path | None) -> Path | None:
    if start is None:
        return None
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "mesh.yaml").is_file():
            return folder
    return None


def _refuse_mesh_data(location: Path, forbidden: Sequence[Path]) -> None:
    where = Path(_GLOB.split(str(location))[0]).resolve()
    mesh = _enclosing_mesh(where)  # a mesh's own files, wherever the command runs from
    for root in (*forbidden, *(mesh_data_folders(mesh) if mesh is not None else ())):
        if where == root or root in where.parents:
            raise InputError(
                f"{location} is inside the mesh's storage ({root}): published data is read through the "
                "mesh (tessera test ADDRESS, tessera read), not as a contract's server"
            )
