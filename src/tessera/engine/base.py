"""The one compute interface. DuckDB is the embedded default; other engines register the same way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from tessera.errors import TesseraError
from tessera.model.sqltext import qualified

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as pds

__all__ = ["ENGINES", "Engine", "FileFormat", "create_engine", "quote_name", "register_engine"]

FileFormat = Literal["parquet", "csv", "json"]


def quote_name(name: str) -> str:
    """``sales.orders`` → ``"sales"."orders"``: every part quoted."""
    return qualified(name)


class Engine(Protocol):
    """Run SQL over registered relations. Names may be qualified (``sales.orders``,
    ``source.crm.customers``); registering creates the schemas and catalogs they need.

    Every engine takes SQL in the DuckDB dialect (``dialect`` says what it runs natively: an engine of another
    dialect translates). ``native_delta`` engines read Delta tables themselves (``register_delta``); the others
    are given the files or Arrow dataset of a version. ``result`` is a statement's result in the engine's own
    form: an Arrow table in process, a DataFrame that stays on a cluster."""

    name: str
    dialect: str
    native_delta: bool

    def register_arrow(self, name: str, data: pa.Table | pa.RecordBatchReader | pds.Dataset) -> None: ...

    def register_files(self, name: str, uris: Sequence[str], fmt: FileFormat) -> None: ...

    def register_sql(self, name: str, sql: str) -> None: ...

    def register_delta(self, name: str, uri: str, version: int | None = None) -> None: ...

    def result(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    def fetch_rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]: ...

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]: ...

    def fetch_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table: ...

    def fetch_reader(self, sql: str, batch_size: int = ...) -> pa.RecordBatchReader: ...

    def columns(self, name: str) -> list[tuple[str, str]]: ...

    def close(self) -> None: ...


ENGINES: dict[str, Callable[[], Engine]] = {}


def register_engine(kind: str, factory: Callable[[], Engine]) -> None:
    """Engines (built-in ones too) register a factory under the name ``mesh.yaml`` uses."""
    ENGINES[kind] = factory


def create_engine(kind: str = "duckdb") -> Engine:
    """``duckdb`` (in process), ``sc://host:port`` (Spark Connect; ``spark`` reads the URL from
    ``$SPARK_REMOTE``), or the name a third-party engine registered. Engines are imported when first asked
    for: importing Tessera never imports PySpark."""
    if kind not in ENGINES and kind == "duckdb":
        from tessera.engine import duckdb_engine  # noqa: F401 - registers itself
    if kind == "spark" or kind.startswith("sc://"):
        from tessera.engine.spark_engine import SparkEngine

        return SparkEngine(kind) if kind.startswith("sc://") else ENGINES["spark"]()
    try:
        factory = ENGINES[kind]
    except KeyError:
        raise TesseraError(
            f"unknown engine {kind!r} in mesh.yaml; known: {', '.join(sorted(ENGINES))}"
        ) from None
    return factory()
