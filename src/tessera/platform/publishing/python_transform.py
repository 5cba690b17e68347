"""Run a product's ``transform.py``: load it fresh from the product folder, call ``transform`` with the inputs,
and take what it returns as the candidate data.

The module is loaded by path on every build (compiled from the source, no ``__pycache__`` left in the mesh
folder) in the build's own process; parallel builds already run in separate worker processes. Each input
is passed by its parameter name (``sales.orders`` → ``sales_orders``, ``source.pos.orders`` →
``source_pos_orders``) or, when the function takes one ``inputs`` parameter, as a mapping of address →
frame. Inputs are DuckDB relations on the engine's connection unless the module sets ``INPUT_FORMAT`` to
``"arrow"`` (pyarrow Tables) or ``"polars"`` (Polars DataFrames). The result may be a DuckDB relation, a
pyarrow Table, or a pandas or Polars DataFrame; it is materialised as Arrow before the engine closes.

Every failure is a ``DataError`` naming the product and ``transform.py:line``: a syntax error, no
``transform``, parameters that are not inputs, an exception inside the function (its type, message and the
line in ``transform.py``, not a traceback), a result that is not a frame. The column lineage a Python
transform declares (``tessera.lineage``) becomes ``ColumnEdge`` values here.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import inspect
import os
import sys
import types
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa

from tessera.errors import DataError
from tessera.model.product import Product
from tessera.spec.custom import DeclaredLineage, split_column
from tessera.spec.transforms import (
    INPUT_FORMATS,
    INPUTS_PARAMETER,
    InputFormat,
    ParameterKind,
    parameter_name,
    signature_problems,
)

if TYPE_CHECKING:
    import duckdb

    from tessera.lineage.columns import ColumnEdge

__all__ = ["check_declared_lineage", "declared_edges", "run_python_transform"]

_SHOWN = 500  # characters of an exception message shown


class _FreshLoader(importlib.machinery.SourceFileLoader):
    """Compiles from the source on every load: no stale bytecode, no ``__pycache__`` in the product folder."""

    def get_code(self, fullname: str) -> types.CodeType:
        return compile(self.get_data(self.path), self.path, "exec", dont_inherit=True)


class _Where:
    """Names the product and places messages in its transform.py (shown relative to the mesh root)."""

    def __init__(self, product: Product, file: Path) -> None:
        assert product.transform is not None
        self.address = product.address
        self.shown = product.transform.path
        self.file = str(file)

    def error(self, line: int | None, message: str) -> DataError:
        where = f"{self.shown}:{line}" if line else self.shown
        return DataError(f"{self.address}: {where}: {message}")

    def raised(self, exc: BaseException, what: str, fallback: int | None) -> DataError:
        """``what`` (``... {}``) filled with ``exc``'s type and message, placed at the innermost line of
        transform.py that was running (else ``fallback``), whose code is shown."""
        line, code = fallback, ""
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.file:
                line = tb.tb_lineno
            tb = tb.tb_next
        if line is not None:
            code = _source_line(self.file, line)
        text = str(exc).strip()
        text = text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
        message = what.format(type(exc).__name__ + (f": {text}" if text else ""))
        return self.error(line, message + (f"\n    {code}" if code else ""))


def _source_line(file: str, line: int) -> str:
    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


@contextmanager
def _loaded(where: _Where) -> Iterator[types.ModuleType]:
    """The module, freshly executed, registered in ``sys.modules`` only while it runs (dataclasses and
    pickling look it up there)."""
    if not Path(where.file).is_file():
        raise where.error(None, "is missing: it was removed after the mesh was loaded")
    name = f"_tessera_transform_{where.address.replace('.', '_')}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, where.file, loader=_FreshLoader(name, where.file))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            raise where.error(exc.lineno, f"the Python does not compile: {exc.msg}") from None
        except (Exception, SystemExit) as exc:
            raise where.raised(exc, "loading the module raised {}", None) from None
        yield module
    finally:
        sys.modules.pop(name, None)


def _function(where: _Where, module: types.ModuleType, inputs: Sequence[str]) -> Callable[..., Any]:
    function = getattr(module, "transform", None)
    if function is None:
        raise where.error(None, "defines no function transform(...): the build calls it with the inputs")
    if not inspect.isfunction(function):
        raise where.error(None, f"transform is a {type(function).__name__}, not a function")
    line = function.__code__.co_firstlineno
    if inspect.iscoroutinefunction(function):
        raise where.error(line, "transform must be a plain function, not async def")
    parameters = [
        (p.name, cast(ParameterKind, p.kind.name.lower()))
        for p in inspect.signature(function).parameters.values()
    ]
    problems = signature_problems(parameters, inputs)
    if problems:
        raise where.error(line, "; ".join(problems))
    return cast(Callable[..., Any], function)


def _input_format(where: _Where, module: types.ModuleType) -> InputFormat:
    value = getattr(module, "INPUT_FORMAT", "duckdb")
    if value not in INPUT_FORMATS:
        allowed = ", ".join(repr(f) for f in INPUT_FORMATS)
        raise where.error(None, f"INPUT_FORMAT {value!r} is not one of {allowed}")
    return cast(InputFormat, value)


def _frames(
    where: _Where, con: duckdb.DuckDBPyConnection, inputs: Sequence[str], fmt: InputFormat
) -> dict[str, Any]:
    """Address → the input as the transform asked for it."""
    frames: dict[str, Any] = {}
    for address in inputs:
        relation = con.table(address)
        if fmt == "duckdb":
            frames[address] = relation
        elif fmt == "arrow":
            frames[address] = relation.to_arrow_table()
        else:
            try:
                frames[address] = relation.pl()
            except ModuleNotFoundError:
                hint = "pip install 'tessera[polars]'"
                raise where.error(None, f"INPUT_FORMAT 'polars' needs Polars: {hint}") from None
    return frames


def _is_frame(value: Any) -> bool:
    if value is None or isinstance(value, str | bytes | os.PathLike):
        return False
    if isinstance(value, pa.Table | pa.RecordBatch | pa.RecordBatchReader):
        return True
    module, name = type(value).__module__.split(".")[0], type(value).__name__
    if module == "pandas":
        return name == "DataFrame"
    if module == "polars":
        return name in ("DataFrame", "LazyFrame")
    if module in ("duckdb", "_duckdb"):
        return hasattr(value, "to_arrow_table")
    return hasattr(value, "__arrow_c_stream__")


def _result(where: _Where, value: Any, line: int) -> pa.Table:
    from tessera.platform.publishing.data import to_arrow

    if not _is_frame(value):
        what = "None (a missing return?)" if value is None else f"a {type(value).__name__}"
        kinds = "a DuckDB relation, a pyarrow Table, or a pandas or Polars DataFrame"
        raise where.error(line, f"transform() returned {what}, not a frame: return {kinds}")
    try:
        if type(value).__name__ == "LazyFrame":
            value = value.collect()
        return to_arrow(value)
    except Exception as exc:  # a lazy relation runs only now; pandas objects Arrow cannot hold
        raise where.raised(exc, "the frame transform() returned failed to compute: {}", line) from None


def run_python_transform(product: Product, file: Path, con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Run ``transform.py`` at ``file`` over the inputs registered on ``con`` under their addresses."""
    where = _Where(product, file)
    inputs = [p.address for p in product.input_ports]
    with _loaded(where) as module:
        function = _function(where, module, inputs)
        frames = _frames(where, con, inputs, _input_format(where, module))
        if list(inspect.signature(function).parameters) == [INPUTS_PARAMETER]:
            arguments: dict[str, Any] = {INPUTS_PARAMETER: frames}
        else:
            arguments = {parameter_name(a): frame for a, frame in frames.items()}
        line = function.__code__.co_firstlineno
        try:
            value = function(**arguments)
        except (Exception, SystemExit) as exc:
            raise where.raised(exc, "transform() raised {}", line) from None
        return _result(where, value, line)


def _lineage(product: Product) -> Sequence[DeclaredLineage]:
    entries: Sequence[DeclaredLineage] = product.custom.get("tessera.lineage", ())
    return entries


def check_declared_lineage(product: Product, columns: Mapping[str, Sequence[str]]) -> None:
    """Raise when ``tessera.lineage`` names an input column the input does not have (``columns``: each
    input's columns as registered; the spec checked product inputs against their contracts already)."""
    for entry in _lineage(product):
        for number, source in enumerate(entry.sources):
            split = split_column(source)
            assert split is not None
            address, column = split
            known = columns.get(address)
            if known is None or column == "*" or column in known:
                continue
            line = entry.source_lines[number]
            where = f"{product.path}/product.odps.yaml" + (f":{line}" if line else "")
            raise DataError(
                f"{product.address}: {where}: {entry.key}.from[{number}]: {address} has no column "
                f"{column!r} (columns: {', '.join(known)})"
            )


def declared_edges(product: Product) -> tuple[ColumnEdge, ...]:
    """The column lineage ``tessera.lineage`` declares, as edges (none when it declares nothing)."""
    from tessera.lineage.columns import ColumnEdge

    edges: dict[ColumnEdge, None] = {}
    for entry in _lineage(product):
        for source in entry.sources:
            split = split_column(source)
            assert split is not None
            edges[ColumnEdge(split[0], split[1], entry.column, entry.kind)] = None
    return tuple(edges)
