"""The connection layer of the guards (docs/architecture.md, "The publish path"): a DuckDB connection that may
open only the data files it was given, nothing else, its configuration locked.

Kept apart from the SQL guards (:mod:`tessera.access.transform_guard`, :mod:`tessera.access.secure_query`),
which parse SQL with sqlglot: sealing a connection needs DuckDB alone, so a bare ``tessera test`` seals its
connection without loading a SQL parser."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from tessera.engine import SealableEngine
from tessera.engine.duckdb import DuckDBEngine
from tessera.model.sqltext import string_literal

__all__ = ["lock_files", "sandbox", "seal"]


def lock_files(con: duckdb.DuckDBPyConnection, files: Sequence[str]) -> None:
    """Let ``con`` open ``files`` and no other file, and nothing outside (no ``ATTACH``/``COPY``/``INSTALL``,
    no network)."""
    if files:
        con.execute("SET allowed_paths = " + "[" + ", ".join(string_literal(f) for f in files) + "]")
    con.execute("SET enable_external_access = false")


def sandbox() -> DuckDBEngine:
    """A fresh DuckDB engine for one transform, with Python replacement scans off (it sees no variable of
    the build's process); register the inputs on it, then :func:`seal` it."""
    return DuckDBEngine(
        duckdb.connect(config={"arrow_large_buffer_size": False, "python_enable_replacements": False})
    )


def seal(engine: SealableEngine, files: Sequence[str]) -> None:
    """Allow ``engine`` to open only ``files`` (the inputs' local data files), nothing else, and lock its
    configuration: after this, no statement can widen what it reads."""
    lock_files(engine.con, files)
    engine.execute("SET lock_configuration = true")
