"""The one compute interface. Each engine is a package (``engine/duckdb``, ``engine/spark``,
``engine/postgres``) that owns its dialect, type maps and frames; callers ask its capabilities, never its type
(docs/architecture.md, "Engine adapters")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeGuard

from tessera.model.sqltext import qualified

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    import pyarrow.dataset as pds

    from tessera.model.contract import Contract
    from tessera.storage import Provenance, TableStore

__all__ = [
    "DeltaWriter",
    "Engine",
    "FileFormat",
    "NativeCandidate",
    "SealableEngine",
    "is_sealable",
    "quote_name",
]

FileFormat = Literal["parquet", "csv", "json"]


def quote_name(name: str) -> str:
    """``sales.orders`` → ``"sales"."orders"``: every part quoted."""
    return qualified(name)


class Engine(Protocol):
    """Run SQL over registered relations. Names may be qualified (``sales.orders``,
    ``source.crm.customers``); registering creates the schemas and catalogs they need.

    Every engine takes SQL in the DuckDB dialect (``dialect`` says what it runs natively: an engine of another
    dialect translates). ``result`` is a statement's result in the engine's own form: an Arrow table in
    process, a DataFrame that stays on a cluster.

    Capabilities are class attributes, read before an engine is opened (:func:`tessera.engine.engine_class`):

    - ``native_delta``: reads a Delta version itself (``register_delta``); the others are given the
      version's files or Arrow dataset.
    - ``writes_delta``: publishes DataFrames of its own where they live (``owns_frame``, ``candidate``):
      conformed, judged and committed to Delta on the engine, never collected.
    - ``runs_python_transforms``: a ``transform.py`` runs on it (it is given the engine's connection).
    - ``rewrites_whole_table``: the table store rewrites a table from Arrow for a delete, so that the engine
      can read the files back (delta-rs's own rewrite types strings as ``string_view``).
    - ``sealable``: an in-process DuckDB connection (``con``) the guards seal to the files a statement may
      open and bound by ``limits:`` (:class:`SealableEngine`).
    """

    name: str
    dialect: str
    native_delta: bool
    writes_delta: bool
    runs_python_transforms: bool
    rewrites_whole_table: bool
    sealable: bool

    @classmethod
    def from_setting(cls, setting: str, **options: Any) -> Engine:
        """The engine ``mesh.yaml``'s ``engine:`` names (``setting``), with engine-specific ``options``."""
        ...

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


class SealableEngine(Engine, Protocol):
    """An engine whose statements run on an in-process DuckDB connection (``sealable``)."""

    con: duckdb.DuckDBPyConnection


def is_sealable(engine: Engine) -> TypeGuard[SealableEngine]:
    """Whether ``engine`` is ``sealable``: its connection can be sealed and bounded."""
    return bool(getattr(engine, "sealable", False))


class NativeCandidate(Protocol):
    """A frame of a ``writes_delta`` engine, conformed to the contract and registered on ``engine`` as the
    relation the gate judges; ``commit`` writes it to Delta on the engine."""

    engine: Engine
    names: list[str]

    def commit(
        self,
        store: TableStore,
        uri: str,
        relation: str,
        provenance: Provenance,
        mode: str,
        keys: tuple[str, ...],
    ) -> int: ...

    def close(self) -> None: ...


class DeltaWriter(Protocol):
    """The class of a ``writes_delta`` engine: which frames are its own, and their candidate."""

    @classmethod
    def owns_frame(cls, data: Any) -> bool: ...

    @classmethod
    def candidate(
        cls, frame: Any, contract: Contract, shared: Engine | None, name: str
    ) -> NativeCandidate: ...
