"""Engine adapters (docs/architecture.md, "Engine adapters"): each engine is a package that owns its code,
registered like a third party's; callers read capabilities, and ``platform`` neither imports an engine
package nor names one."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from tessera.engine import create_engine, engine_class, frame_writer, is_sealable, register_engine, registry
from tessera.engine.duckdb import DuckDBEngine
from tessera.errors import EngineError, TesseraError

SRC = Path(__file__).resolve().parents[2] / "src" / "tessera"
IMPLEMENTATIONS = ("tessera.engine.duckdb", "tessera.engine.spark", "tessera.engine.postgres")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return names


def test_platform_imports_no_engine_package_and_names_no_cluster_engine() -> None:
    offenders = [
        f"{path.relative_to(SRC)}: {name}"
        for path in sorted((SRC / "platform").rglob("*.py"))
        for name in _imports(path)
        if name.startswith(IMPLEMENTATIONS)
    ]
    assert offenders == []
    named = [
        f"{path.relative_to(SRC)}:{n}"
        for path in sorted((SRC / "platform").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"spark|Spark", line)
    ]
    assert named == []


def test_built_in_engines_declare_their_capabilities_without_being_opened() -> None:
    duck, spark, postgres = engine_class("duckdb"), engine_class("sc://localhost:1"), engine_class("postgres")
    assert (duck.name, spark.name, postgres.name) == ("duckdb", "spark", "postgres")
    assert duck.sealable and duck.runs_python_transforms and not duck.writes_delta and not duck.native_delta
    assert spark.writes_delta and spark.native_delta and spark.rewrites_whole_table and not spark.sealable
    assert not postgres.sealable and not postgres.writes_delta
    assert engine_class("spark") is spark  # by name, or by the scheme of its URL


def test_capabilities_are_what_callers_see() -> None:
    engine = create_engine("duckdb")
    try:
        assert isinstance(engine, DuckDBEngine) and is_sealable(engine)
        assert engine.fetch_rows("SELECT 40 + 2") == [(42,)]
    finally:
        engine.close()
    assert frame_writer(pa.table({"a": [1]}).to_batches()[0]) is None  # Arrow publishes through the store


class TinyEngine(DuckDBEngine):
    """A third party's engine: DuckDB under another name, without Python transforms."""

    name = "tiny"
    runs_python_transforms = False


def test_a_registered_engine_is_opened_by_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_TARGETS", dict(registry._TARGETS))
    monkeypatch.setattr(registry, "_LOADED", {})
    register_engine("tiny", f"{__name__}:TinyEngine")
    engine = create_engine("tiny")
    try:
        assert type(engine) is TinyEngine and engine.fetch_rows("SELECT 1") == [(1,)]
    finally:
        engine.close()
    assert not engine_class("tiny").runs_python_transforms
    register_engine("tiny-url://", TinyEngine)
    assert engine_class("tiny-url://somewhere") is TinyEngine


def test_an_unknown_or_broken_engine_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_TARGETS", dict(registry._TARGETS))
    monkeypatch.setattr(registry, "_LOADED", {})
    with pytest.raises(TesseraError, match=r"unknown engine 'nope' in mesh.yaml; known: duckdb"):
        create_engine("nope")
    register_engine("missing", "no_such_package.engine:Engine")
    with pytest.raises(EngineError, match=r"engine 'missing' .* cannot be loaded: ModuleNotFoundError"):
        create_engine("missing")
    register_engine("notaclass", "tessera.engine.registry:ENTRY_POINTS")
    with pytest.raises(EngineError, match=r"is not an engine class"):
        engine_class("notaclass")
    with pytest.raises(EngineError, match="register the engine class"):
        register_engine("factory", lambda: TinyEngine())  # type: ignore[arg-type]
    with pytest.raises(EngineError, match="not a mesh engine"):
        create_engine("postgres")


def test_an_installed_package_adds_an_engine_through_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real distribution on sys.path (its dist-info with entry_points.txt), found by importlib.metadata."""
    (tmp_path / "tiny_engine_pkg.py").write_text(
        "from tessera.engine.duckdb import DuckDBEngine\n\n"
        "class Tiny(DuckDBEngine):\n    name = 'tiny-plugin'\n\n"
        "class Broken:\n    pass\n"
    )
    info = tmp_path / "tiny_engine_pkg-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-engine-pkg\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[tessera.engines]\ntiny-plugin = tiny_engine_pkg:Tiny\nbroken-plugin = tiny_engine_pkg:Broken\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_TARGETS", dict(registry._TARGETS))
    monkeypatch.setattr(registry, "_LOADED", {})
    registry._entry_points.cache_clear()
    try:
        engine = create_engine("tiny-plugin")
        try:
            assert engine.name == "tiny-plugin" and engine.fetch_rows("SELECT 2") == [(2,)]
        finally:
            engine.close()
        with pytest.raises(EngineError, match=r"'broken-plugin' .*is not an engine class"):
            create_engine("broken-plugin")
    finally:
        registry._entry_points.cache_clear()
        sys.modules.pop("tiny_engine_pkg", None)
