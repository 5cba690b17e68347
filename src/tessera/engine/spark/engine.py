"""Spark Connect: the engine at scale (a Spark 4 cluster with Delta, Databricks, LakeSail Sail).

``engine: sc://host:port`` in mesh.yaml (or ``engine: spark`` with the URL in ``$SPARK_REMOTE``). The PySpark
Connect client is imported only here, when such an engine is created (``pip install 'tessera[spark]'``).

SQL arrives in the DuckDB dialect, as for every engine, and is translated with sqlglot (``engine/spark/sql.py``);
relations are session temp views under names private to this engine, so engines sharing one session (a
process keeps one session per URL) never see each other's. Results that stay on the cluster are Spark
DataFrames (``result``); Delta tables are read by version and written by the cluster itself (``write_delta``),
the commit carrying Tessera's provenance as its ``userMetadata``."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from tessera.engine.base import FileFormat
from tessera.engine.spark.sql import show_position, to_spark
from tessera.engine.spark.types import spark_type
from tessera.errors import EngineError, QueryError, TransientError

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pds

    from tessera.engine.base import Engine
    from tessera.engine.spark.candidate import SparkCandidate
    from tessera.model.contract import Contract

__all__ = ["SparkEngine", "connect", "forget", "load_client", "redact"]

INSTALL_HINT = "the Spark Connect engine needs the PySpark Connect client: pip install 'tessera[spark]'"
_SESSIONS: dict[str, Any] = {}
_LOCK = threading.Lock()
_IDS = itertools.count()


def redact(url: str) -> str:
    """The URL without secrets: ``;token=…`` parameters are shown as ``;token=***``."""
    return re.sub(r"(;\s*token\s*=)[^;]*", r"\1***", url, flags=re.I)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _reason(exc: BaseException) -> str:
    """gRPC's own words (``details = "…"``) from anywhere in the chain, else the first line."""
    seen: BaseException | None = exc
    while seen is not None:
        found = re.search(r'details = "([^"]+)"', str(seen))
        if found:
            return found[1]
        seen = seen.__cause__ or seen.__context__
    return _first_line(exc)


def _unreachable(url: str, exc: BaseException) -> EngineError:
    return EngineError(
        f"the Spark Connect server at {redact(url)} (mesh.yaml engine:) cannot be reached: {_reason(exc)}; "
        "start the server, or set engine: duckdb"
    )


def load_client() -> None:
    """Import the PySpark Connect client, or raise an EngineError with the install hint.

    PySpark takes a process whose main module has neither a file nor a spec (``python -c``, pytest-xdist
    workers) for its own doctest run, and exits when it finds no Spark distribution: for the import, such a
    process is made to look interactive (``sys.ps1``), which is what PySpark checks."""
    import sys

    main = sys.modules.get("__main__")
    looks_like_doctest = (
        main is not None
        and getattr(main, "__spec__", None) is None
        and not hasattr(main, "__file__")
        and not hasattr(sys, "ps1")
    )
    if looks_like_doctest:
        sys.ps1 = ""
    try:
        import pyspark.sql.connect.session  # noqa: F401
    except ImportError:
        raise EngineError(INSTALL_HINT) from None
    except SystemExit:
        raise EngineError(f"the PySpark Connect client failed to load; {INSTALL_HINT}") from None
    finally:
        if looks_like_doctest:
            del sys.ps1


def _probe(url: str, timeout: float = 5.0) -> None:
    """Open (and close) a TCP connection to the server first: a host that drops packets fails in seconds here,
    where gRPC would wait without a deadline."""
    import socket
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.split(";", 1)[0].replace("sc://", "http://", 1))
        host, port = parts.hostname or "localhost", parts.port or 15002
    except ValueError as exc:
        raise EngineError(f"engine {redact(url)!r} in mesh.yaml is not a Spark Connect URL: {exc}") from None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise _unreachable(url, exc) from None


def connect(url: str, *, retries: int = 2) -> Any:
    """A session on the Spark Connect server at ``url``, kept for the process; an unreachable server is one
    EngineError within seconds (a short retry policy, not the client's default of minutes)."""
    with _LOCK:
        session = _SESSIONS.get(url)
        if session is not None:
            return session
        try:
            load_client()
        except EngineError as exc:
            raise EngineError(f"engine {redact(url)!r} in mesh.yaml: {exc}") from None
        from pyspark.sql.connect.client.retries import DefaultPolicy
        from pyspark.sql.connect.session import SparkSession

        _probe(url)
        try:
            warnings.filterwarnings("ignore", message=r"\[RETRIES_EXCEEDED\]", category=UserWarning)
            session = SparkSession.builder.remote(url).create()
            session._client.set_retry_policies(
                [DefaultPolicy(max_retries=retries, initial_backoff=100, max_backoff=1000)]
            )
            session.conf.set("spark.sql.session.timeZone", "UTC")  # the first call: reaches the server
        except Exception as exc:
            raise _unreachable(url, exc) from None
        _SESSIONS[url] = session
        return session


def forget(url: str) -> None:
    """Drop the kept session (tests stopping a server, a server that went away)."""
    with _LOCK:
        session = _SESSIONS.pop(url, None)
    if session is not None:
        with contextlib.suppress(Exception):  # a session to a server that is gone cannot say goodbye
            session.stop()


class SparkEngine:
    """Run DuckDB-dialect SQL on a Spark Connect session: ``SparkEngine(url)`` (the process's session for that
    URL) or ``SparkEngine(session=spark)`` (a caller's session, e.g. the one a published DataFrame lives in).
    ``close`` drops this engine's temp views and leaves the session open."""

    name = "spark"
    dialect = "spark"
    native_delta = True
    writes_delta = True
    runs_python_transforms = False
    rewrites_whole_table = True
    sealable = False

    @classmethod
    def from_setting(cls, setting: str, **options: Any) -> SparkEngine:
        """``sc://host:port``, or ``spark`` with the URL in ``$SPARK_REMOTE``."""
        if setting == "spark":
            import os

            url = os.environ.get("SPARK_REMOTE", "")
            if not url.startswith("sc://"):
                raise EngineError(
                    "engine: spark in mesh.yaml needs the Spark Connect URL in $SPARK_REMOTE (sc://host:port), "
                    "or write the URL itself: engine: sc://host:port"
                )
            return cls(url)
        return cls(setting)

    @classmethod
    def owns_frame(cls, data: Any) -> bool:
        """A PySpark DataFrame (it lives in a session): published on its cluster, never collected."""
        return type(data).__module__.split(".")[0] == "pyspark" and hasattr(data, "sparkSession")

    @classmethod
    def candidate(cls, frame: Any, contract: Contract, shared: Engine | None, name: str) -> SparkCandidate:
        """The frame conformed to ``contract`` on its own session, registered as ``name``: on ``shared`` when that
        is an engine over the frame's session (borrowed: the caller closes it), else on a new one."""
        from tessera.engine.spark.candidate import SparkCandidate

        if isinstance(shared, SparkEngine) and shared.spark is frame.sparkSession:
            return SparkCandidate.conform(frame, contract, shared, True, name)
        return SparkCandidate.conform(frame, contract, cls(session=frame.sparkSession), False, name)

    def __init__(self, url: str | None = None, *, session: Any = None) -> None:
        if session is None:
            if url is None:
                raise EngineError("SparkEngine needs a Spark Connect URL or a session")
            session = connect(url)
        self.url = url
        self.spark = session
        self._prefix = f"__tessera_{next(_IDS)}_{int(time.time() * 1000) % 100000}"
        self._views: dict[str, str] = {}

    # -- relations -------------------------------------------------------------------------------------

    def _view(self, name: str) -> str:
        key = name.lower()
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = f"{self._prefix}_{len(self._views)}_" + re.sub(r"\W", "_", key)[:60]
        return view

    def _bind(self, name: str, frame: Any) -> None:
        frame.createOrReplaceTempView(self._view(name))

    def translate(self, sql: str, params: Sequence[Any] | None = None) -> str:
        return to_spark(sql, self._views, params)

    def register_frame(self, name: str, frame: Any) -> None:
        """A Spark DataFrame of this session as the relation ``name`` (nothing leaves the cluster)."""
        self._bind(name, frame)

    def register_arrow(self, name: str, data: pa.Table | pa.RecordBatchReader | pds.Dataset) -> None:
        import pyarrow as pa

        table = (
            data
            if isinstance(data, pa.Table)
            else data.read_all()
            if isinstance(data, pa.RecordBatchReader)
            else data.to_table()
        )
        self._bind(name, self._guard(lambda: self.spark.createDataFrame(table), f"register {name}"))

    def register_files(self, name: str, uris: Sequence[str], fmt: FileFormat) -> None:
        reader = self.spark.read.format(fmt)
        if fmt == "csv":
            reader = reader.option("header", "true").option("inferSchema", "true")
        self._bind(name, self._guard(lambda: reader.load(list(uris)), f"read {fmt} files for {name}"))

    def register_delta(self, name: str, uri: str, version: int | None = None) -> None:
        """A Delta table (at ``version``) read by the cluster itself."""
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", int(version))
        self._bind(name, self._guard(lambda: reader.load(uri), f"read the Delta table {uri}"))

    def register_sql(self, name: str, sql: str) -> None:
        self._bind(name, self.result(sql))

    # -- running ---------------------------------------------------------------------------------------

    def _guard(self, run: Any, what: str) -> Any:
        """Run one client call; its failure becomes one QueryError (or EngineError when the server is gone)."""
        try:
            frame = run()
            if frame is not None and hasattr(frame, "schema"):
                _ = frame.schema  # Spark Connect analyses lazily: surface errors here, not at first use
            return frame
        except Exception as exc:
            raise self._error(exc, what) from None

    def _error(self, exc: BaseException, context: str) -> Exception:
        text = _first_line(exc)
        if "UNAVAILABLE" in str(exc) or "failed to connect" in str(exc).lower():
            if self.url is not None:
                forget(self.url)
            return _unreachable(self.url or "(a caller's session)", exc)
        return QueryError(f"{text}\n  {context}")

    def result(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The statement as a Spark DataFrame, analysed but not run: it stays on the cluster."""
        translated = self.translate(sql, params)
        try:
            frame = self.spark.sql(translated)
            _ = frame.schema
            return frame
        except Exception as exc:
            error = self._error(exc, "")
            if isinstance(error, EngineError):
                raise error from None
            raise QueryError(
                f"Spark refused the SQL: {_first_line(exc)}\n  translated to Spark SQL:\n"
                f"{show_position(translated, str(exc))}"
            ) from None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._collect(self.result(sql, params))

    def _collect(self, frame: Any) -> pa.Table:
        try:
            return frame.toArrow()
        except Exception as exc:
            error = self._error(exc, "")
            if isinstance(error, EngineError):
                raise error from None
            raise QueryError(f"Spark failed running the query: {_first_line(exc)}") from None

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        return self._collect(self.result(sql, params))

    def fetch_rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        table = self.fetch_arrow(sql, params)
        columns = [c.to_pylist() for c in table.columns]
        return list(zip(*columns, strict=True)) if columns else []

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.fetch_arrow(sql, params).to_pylist()
        return rows

    def fetch_reader(self, sql: str, batch_size: int = 1_000_000) -> pa.RecordBatchReader:
        import pyarrow as pa

        table = self.fetch_arrow(sql)
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=batch_size))

    def columns(self, name: str) -> list[tuple[str, str]]:
        view = self._views.get(name.lower())
        if view is None:
            raise QueryError(f"no relation {name!r} is registered on the Spark engine")
        schema = self._guard(lambda: self.spark.table(view), f"describe {name}").schema
        return [(f.name, spark_type(f.dataType.simpleString())) for f in schema.fields]

    # -- writing ---------------------------------------------------------------------------------------

    def write_delta(
        self,
        sql: str,
        uri: str,
        mode: Literal["overwrite", "append"],
        metadata: Mapping[str, str],
    ) -> None:
        """Write the result of ``sql`` to the Delta table at ``uri`` on the cluster, in one commit whose
        ``userMetadata`` is ``metadata`` as JSON. A conflicting concurrent commit is a TransientError."""
        frame = self.result(sql)
        writer = (
            frame.write.format("delta")
            .mode(mode)
            .option("userMetadata", json.dumps(dict(metadata), sort_keys=True))
        )
        writer = writer.option("overwriteSchema" if mode == "overwrite" else "mergeSchema", "true")
        try:
            writer.save(uri)
        except Exception as exc:
            text = str(exc)
            if re.search(r"conflict|concurrent|version .* already exists", text, re.I):
                raise TransientError(
                    f"{uri}: the commit conflicted with a concurrent writer; retry: {_first_line(exc)}"
                ) from None
            error = self._error(exc, "")
            if isinstance(error, EngineError):
                raise error from None
            raise QueryError(f"Spark could not write the Delta table {uri}: {_first_line(exc)}") from None

    def close(self) -> None:
        for view in self._views.values():
            with contextlib.suppress(Exception):  # a session that is gone has no views left to drop
                self.spark.catalog.dropTempView(view)
        self._views.clear()
