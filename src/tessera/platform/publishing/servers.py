"""Where a bare contract's data lives: its ``servers`` entry (or ``--data FILE``) → one ``Source`` per schema
object, for ``tessera test`` (docs/mesh-format.md, "Testing a bare contract").

Types: ``local`` (a file, a glob — ``./data/*.parquet``, ``**`` — or a Delta table; ``{model}``/``{object}`` in
the path becomes the object's name), ``s3`` (the same over an object store, with the storage layer's options:
``endpointUrl`` from the entry, credentials from the environment), ``duckdb`` (``database:`` file, a table per
object) and ``postgres`` (``host``, ``port``, ``database``, ``schema``; credentials from the environment only,
never from the contract). Nothing here reads data: ``platform/publishing/testing.py`` opens the source."""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tessera.errors import InputError

__all__ = ["SERVER_TYPES", "Source", "choose_server", "file_source", "object_source"]

SERVER_TYPES = ("local", "s3", "duckdb", "postgres")
SourceKind = Literal["files", "delta", "duckdb", "postgres"]
_FORMATS = ("parquet", "csv", "json", "delta")


@dataclass(frozen=True, slots=True)
class Source:
    """One object's data: files (local paths or object-store URIs) of a format, a Delta table, a table in a
    DuckDB file, or a PostgreSQL table (``table`` is ``schema.table`` there, ``location`` the schema). The
    object-store options and the connection keywords may hold credentials: they are never shown."""

    kind: SourceKind
    location: str
    fmt: str = "parquet"
    delimiter: str | None = None
    table: str = ""
    options: Mapping[str, str] = field(default_factory=dict, repr=False)
    conninfo: Mapping[str, Any] = field(default_factory=dict, repr=False)


def server_type(server: Mapping[str, Any]) -> str:
    """The entry's type; ``postgresql`` is ODCS's other spelling of ``postgres``."""
    kind = str(server.get("type") or "").lower()
    return "postgres" if kind == "postgresql" else kind


def _name(server: Mapping[str, Any], index: int) -> str:
    name = server.get("server")
    return str(name) if name else f"#{index + 1}"


def _usable(server: Mapping[str, Any]) -> bool:
    kind = server_type(server)
    if kind in ("local", "s3"):
        return bool(server.get("path") or server.get("location"))
    if kind == "duckdb":
        return bool(server.get("database") or server.get("path"))
    return kind == "postgres" and bool(server.get("host") or server.get("database"))


def choose_server(servers: Sequence[Mapping[str, Any]], name: str | None) -> Mapping[str, Any]:
    """The entry named ``name``, or the first usable one; an InputError listing the names otherwise."""
    names = [_name(s, i) for i, s in enumerate(servers)]
    listed = ", ".join(names) if names else "none"
    if name is not None:
        for server, known in zip(servers, names, strict=True):
            if known == name:
                if server_type(server) not in SERVER_TYPES:
                    raise InputError(
                        f"server {name!r} is of type {server.get('type')!r}; tessera test reads "
                        f"{', '.join(SERVER_TYPES)} servers"
                    )
                return server
        raise InputError(f"no server {name!r} in the contract; its servers: {listed}")
    for server in servers:
        if server_type(server) in SERVER_TYPES and _usable(server):
            return server
    raise InputError(
        "the contract names no server tessera test can read (types "
        f"{', '.join(SERVER_TYPES)}; its servers: {listed}): add one or pass --data FILE"
    )


def _placeholders(text: str, obj: str) -> str:
    return text.replace("{model}", obj).replace("{object}", obj)


def _format(location: str, declared: Any) -> str:
    fmt = str(declared or "").lower() or Path(location.rstrip("/")).suffix.lstrip(".").lower()
    fmt = {"ndjson": "json", "jsonl": "json"}.get(fmt, fmt)
    if fmt not in _FORMATS:
        raise InputError(f"{location}: unknown data format {fmt or '(none)'!r}; use {', '.join(_FORMATS)}")
    return fmt


def _exists(path: Path) -> bool:
    text = str(path)
    return path.exists() or (any(c in text for c in "*?[") and bool(glob.glob(text, recursive=True)))


def _local(location: str, base: Path | None, declared: Any, delimiter: Any) -> Source:
    path = Path(location).expanduser()
    if base is not None and not path.is_absolute() and (_exists(base / path) or not _exists(path)):
        path = (
            base / path
        )  # relative to the contract; else to the working folder, as datacontract-cli reads it
    if (path / "_delta_log").is_dir() or str(declared or "").lower() == "delta":
        return Source("delta", str(path), "delta")
    return Source("files", str(path), _format(str(path), declared), str(delimiter) if delimiter else None)


def _s3_options(server: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """The object store's options as the storage layer takes them: AWS_* from the environment (or DCC's
    DATACONTRACT_S3_*), the endpoint from the entry."""
    options: dict[str, str] = {}
    for key, dcc in (
        ("AWS_ACCESS_KEY_ID", "DATACONTRACT_S3_ACCESS_KEY_ID"),
        ("AWS_SECRET_ACCESS_KEY", "DATACONTRACT_S3_SECRET_ACCESS_KEY"),
        ("AWS_SESSION_TOKEN", "DATACONTRACT_S3_SESSION_TOKEN"),
        ("AWS_REGION", "DATACONTRACT_S3_REGION"),
        ("AWS_ENDPOINT_URL", "DATACONTRACT_S3_ENDPOINT_URL"),
    ):
        value = environ.get(key) or environ.get(dcc)
        if value:
            options[key] = value
    endpoint = server.get("endpointUrl") or server.get("endpoint")
    if endpoint:
        options["AWS_ENDPOINT_URL"] = str(endpoint)
    if options.get("AWS_ENDPOINT_URL", "").startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    options.setdefault("AWS_REGION", str(server.get("region") or "us-east-1"))
    return options


def _postgres(server: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """libpq's keywords: where from the entry, who from the environment (PGUSER/PGPASSWORD, or DCC's
    DATACONTRACT_POSTGRES_USERNAME/_PASSWORD). A user or password in the contract is never used."""
    port = server.get("port")
    return {
        "host": str(server.get("host") or environ.get("PGHOST") or "localhost"),
        "port": int(port) if isinstance(port, int | str) and str(port).isdigit() else 5432,
        "dbname": str(server.get("database") or environ.get("PGDATABASE") or "postgres"),
        "user": environ.get("DATACONTRACT_POSTGRES_USERNAME") or environ.get("PGUSER"),
        "password": environ.get("DATACONTRACT_POSTGRES_PASSWORD") or environ.get("PGPASSWORD"),
    }


def object_source(
    server: Mapping[str, Any],
    obj: str,
    physical: str,
    *,
    base: Path | None,
    environ: Mapping[str, str] | None = None,
) -> Source:
    """The source of schema object ``obj`` (stored as ``physical``) on ``server``; ``base`` is the folder
    relative paths start from (the contract's)."""
    env = os.environ if environ is None else environ
    kind = server_type(server)
    if kind == "local":
        location = _placeholders(str(server.get("path") or server.get("location") or ""), obj)
        return _local(location, base, server.get("format"), server.get("delimiter"))
    if kind == "s3":
        location = _placeholders(str(server.get("location") or server.get("path") or ""), obj)
        if not location.startswith(("s3://", "s3a://")):
            raise InputError(f"s3 server location {location!r} is not an s3:// URI")
        options = _s3_options(server, env)
        declared = str(server.get("format") or "").lower()
        if declared == "delta" or (not declared and not Path(location).suffix):
            return Source("delta", location.rstrip("/"), "delta", options=options)
        delimiter = server.get("delimiter")
        fmt = _format(location, declared)
        return Source("files", location, fmt, str(delimiter) if delimiter else None, options=options)
    if kind == "duckdb":
        database = Path(str(server.get("database") or server.get("path"))).expanduser()
        if base is not None and not database.is_absolute():
            database = base / database
        schema = str(server.get("schema") or "main")
        return Source("duckdb", str(database), "duckdb", table=f"{schema}.{physical}")
    if kind == "postgres":
        schema = str(server.get("schema") or "public")
        return Source(
            "postgres", schema, "postgres", table=f"{schema}.{physical}", conninfo=_postgres(server, env)
        )
    raise InputError(f"server type {kind!r} is not one tessera test reads ({', '.join(SERVER_TYPES)})")


def file_source(path: str, fmt: str | None = None) -> Source:
    """``--data FILE``: a Parquet/CSV/JSON file (or glob) or a Delta table folder."""
    return _local(path, None, fmt, None)
