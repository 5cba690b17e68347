"""Bounds on every query the reader or a transform runs: memory, threads, time, cancellation, result size.

What each bound defends against (docs/governance.md, "Threat model"):

- ``memory`` is DuckDB's ``memory_limit`` on the query's own connection: joins, sorts and aggregates spill or
  fail with a clear error instead of taking the host's memory. DuckDB does not count every allocation against
  it (a vector of very long strings or lists is built before it is checked), so a watchdog also interrupts a
  query whose process grows past the limit, and the SQL guard refuses value generators with unbounded sizes
  (:mod:`tessera.access.secure_query`).
- ``threads`` caps the cores one query takes, so one caller cannot starve the others.
- ``timeout`` interrupts a query that runs longer (``QueryTimeoutError``, HTTP 408); ``cancel`` (an event the
  server sets when the client goes away, or on shutdown) interrupts it at once.
- ``max_rows`` / ``max_bytes`` refuse a result larger than a reader may take in one answer
  (``ResultTooLargeError``, HTTP 413) while it is being fetched, before it is all in memory. Trusted local use
  (the embedded single user reading their own tables) and transforms are not capped by size nor watched for
  process growth (a large result is what they asked for), only bounded by time and DuckDB's memory limit.

Values come from ``limits:`` in mesh.yaml (docs/mesh-format.md) with the defaults below."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import duckdb

from tessera.errors import QueryCancelledError, QueryTimeoutError, ResultTooLargeError
from tessera.model.bounds import limit_problems, parse_size

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DEFAULT_LIMITS", "QueryLimits", "bounded", "fetch_bounded", "parse_size"]


#: Threads a reader's query uses unless ``limits.threads`` says otherwise.
_READER_THREADS = 2


@dataclass(frozen=True, slots=True)
class QueryLimits:
    #: DuckDB ``memory_limit`` of the query's connection, in bytes.
    memory: int = 2 * 10**9
    #: Threads one query may use; None: 2 for a reader's query, every core for a transform or a gate.
    threads: int | None = None
    #: Seconds a read or query may run; a transform gets ``transform_timeout``.
    timeout: float = 120.0
    transform_timeout: float = 3600.0
    #: The most rows / Arrow bytes one result may hold for a principal or a network caller (None: no cap).
    max_rows: int | None = 1_000_000
    max_bytes: int | None = 512 * 2**20
    #: Interrupt a query whose process grows past ``memory`` (+256 MiB): on for principals' and network
    #: callers' queries, off where a large result is what was asked for (trusted local reads, transforms).
    watch_memory: bool = True
    #: The mesh.yaml key that sets ``timeout`` (named in the error).
    timeout_key: str = "timeout"

    @classmethod
    def from_settings(cls, doc: Mapping[str, Any]) -> QueryLimits:
        """From mesh.yaml's ``limits:``; ValueError naming the first value that cannot be used."""
        problems = limit_problems(doc)
        if problems:
            key, why = problems[0]
            raise ValueError(f"limits.{key}: {why}")
        base = cls()
        changes: dict[str, Any] = {}
        if "memory" in doc:
            changes["memory"] = parse_size(doc["memory"])
        if "threads" in doc:
            changes["threads"] = int(doc["threads"])
        if "timeout" in doc:
            changes["timeout"] = float(doc["timeout"])
        if "transformTimeout" in doc:
            changes["transform_timeout"] = float(doc["transformTimeout"])
        if "maxRows" in doc:
            changes["max_rows"] = int(doc["maxRows"]) or None
        if "maxBytes" in doc:
            changes["max_bytes"] = parse_size(doc["maxBytes"]) or None
        return replace(base, **changes)

    def uncapped(self) -> QueryLimits:
        """The same time and memory bounds without a result-size cap (trusted local use)."""
        return replace(self, max_rows=None, max_bytes=None, watch_memory=False)

    def for_transform(self) -> QueryLimits:
        """A transform or a publish gate: its own timeout, no result cap, every core unless ``threads`` is set
        (a build is the mesh owner's batch work, not one caller among many)."""
        return replace(
            self,
            timeout=self.transform_timeout,
            timeout_key="transformTimeout",
            threads=self.threads or os.cpu_count() or _READER_THREADS,
            max_rows=None,
            max_bytes=None,
            watch_memory=False,
        )

    def configure(self, con: duckdb.DuckDBPyConnection) -> None:
        """Set memory and thread limits on a connection (before it is locked)."""
        con.execute(f"SET memory_limit = '{self.memory}B'")
        con.execute(f"SET threads = {int(self.threads or _READER_THREADS)}")


DEFAULT_LIMITS = QueryLimits()


def _rss() -> int:
    """This process's resident memory in bytes (Linux ``/proc``; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * 4096
    except (OSError, ValueError, IndexError):
        return 0


class _Watchdog:
    """Interrupts ``con`` when the deadline passes, ``cancel`` is set, or the process grows past its budget."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, limits: QueryLimits, cancel: threading.Event | None
    ) -> None:
        self.con, self.limits, self.cancel = con, limits, cancel
        self.reason: str | None = None
        self._done = threading.Event()
        self._budget = (_rss() + limits.memory + 256 * 2**20) if limits.watch_memory else 0
        self._thread = threading.Thread(target=self._watch, name="tessera-query-watchdog", daemon=True)

    def _watch(self) -> None:
        deadline = time.monotonic() + self.limits.timeout
        while not self._done.wait(0.02):
            if self.cancel is not None and self.cancel.is_set():
                self.reason = "cancelled"
            elif time.monotonic() >= deadline:
                self.reason = "timeout"
            elif self.limits.watch_memory and _rss() > self._budget:
                self.reason = "memory"
            else:
                continue
            self.con.interrupt()
            return

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def error(self) -> Exception | None:
        if self.reason == "cancelled":
            return QueryCancelledError("the query was cancelled (the caller went away or the server stopped)")
        if self.reason == "timeout":
            return QueryTimeoutError(
                f"the query ran longer than {self.limits.timeout:g} s and was stopped; narrow it "
                f"(limits.{self.limits.timeout_key} in mesh.yaml sets the bound)"
            )
        if self.reason == "memory":
            return ResultTooLargeError(
                f"the query needed more than the memory limit ({self.limits.memory / 1e9:.2g} GB) and was "
                "stopped; narrow it (limits.memory in mesh.yaml sets the bound)"
            )
        return None


@contextmanager
def bounded(
    con: duckdb.DuckDBPyConnection, limits: QueryLimits, cancel: threading.Event | None = None
) -> Iterator[None]:
    """Run the block's queries on ``con`` under the time, cancellation and memory bounds: an interrupted
    query raises the bound's error (QueryTimeoutError, QueryCancelledError, ResultTooLargeError)."""
    with _Watchdog(con, limits, cancel) as dog:
        try:
            yield
        except (duckdb.Error, QueryCancelledError, QueryTimeoutError, ResultTooLargeError) as exc:
            raise (dog.error() or exc) from None
        except Exception as exc:  # the engine wrapper's QueryError after an interrupt
            found = dog.error()
            if found is None:
                raise
            raise found from exc


def _too_large(limits: QueryLimits, rows: int, size: int) -> ResultTooLargeError:
    what = (
        f"more than {limits.max_rows:,} rows"
        if limits.max_rows is not None and rows > limits.max_rows
        else f"more than {(limits.max_bytes or 0) / 2**20:,.0f} MiB"
    )
    return ResultTooLargeError(
        f"the result holds {what}, more than one answer may; add a LIMIT, fewer columns or a filter "
        "(limits.maxRows / limits.maxBytes in mesh.yaml set the bound)"
    )


def fetch_bounded(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    limits: QueryLimits,
    cancel: threading.Event | None = None,
) -> pa.Table:
    """``sql``'s result as Arrow, fetched batch by batch under every bound of ``limits``."""
    import pyarrow as pa

    with bounded(con, limits, cancel):
        relation = con.sql(sql)
        if relation is None:
            return pa.table({})
        if limits.max_rows is None and limits.max_bytes is None:
            return relation.to_arrow_table()
        reader = relation.to_arrow_reader(8192)
        batches: list[pa.RecordBatch] = []
        rows = size = 0
        for batch in reader:
            rows += batch.num_rows
            size += batch.nbytes
            if (limits.max_rows is not None and rows > limits.max_rows) or (
                limits.max_bytes is not None and size > limits.max_bytes
            ):
                raise _too_large(limits, rows, size)
            batches.append(batch)
        return pa.Table.from_batches(batches, schema=reader.schema)
