"""Which engine ``mesh.yaml``'s ``engine:`` names: a registry of engine classes by name, the built-in ones
registered exactly as a third party's are (docs/architecture.md, "Engine adapters").

A registration names the class as ``"module:Class"`` and is imported when first asked for, so importing
Tessera never imports PySpark. A setting that is a URL (``sc://host:port``) finds its engine by its scheme
(``sc://``). An installed package adds an engine with an entry point in the group ``tessera.engines``::

    [project.entry-points."tessera.engines"]
    myengine = "my_package.engine:MyEngine"
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import TYPE_CHECKING, Any, cast

from tessera.errors import EngineError, TesseraError

if TYPE_CHECKING:
    from tessera.engine.base import DeltaWriter, Engine

__all__ = ["ENTRY_POINTS", "create_engine", "engine_class", "frame_writer", "register_engine"]

ENTRY_POINTS = "tessera.engines"
_TARGETS: dict[str, str | type[Engine]] = {}
_LOADED: dict[str, type[Engine]] = {}
_LOCK = threading.Lock()


def register_engine(kind: str, target: str | type[Engine]) -> None:
    """Register the engine class ``target`` (or its ``"module:Class"``, imported when first used) under the
    name ``mesh.yaml`` uses; a kind ending in ``://`` serves every URL of that scheme."""
    if not isinstance(target, str) and not (isinstance(target, type) and hasattr(target, "from_setting")):
        raise EngineError(
            f"engine {kind!r}: register the engine class (with a from_setting classmethod) or its "
            f"'module:Class', not {target!r}"
        )
    with _LOCK:
        _TARGETS[kind] = target
        _LOADED.pop(kind, None)


@functools.cache
def _entry_points() -> tuple[tuple[str, str], ...]:
    """The installed packages' engines (entry points), read once per process."""
    from importlib.metadata import entry_points

    return tuple((point.name, point.value) for point in entry_points(group=ENTRY_POINTS))


def _discover() -> None:
    """Add the installed packages' engines; a registration by name wins."""
    with _LOCK:
        for name, value in _entry_points():
            _TARGETS.setdefault(name, value)


def _kind(setting: str) -> str | None:
    if setting in _TARGETS:
        return setting
    if "://" in setting and (scheme := setting.split("://", 1)[0] + "://") in _TARGETS:
        return scheme
    return None


def _load(kind: str) -> type[Engine]:
    loaded = _LOADED.get(kind)
    if loaded is not None:
        return loaded
    target = _TARGETS[kind]
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        try:
            found: Any = importlib.import_module(module)
            for part in attr.split(".") if attr else ():
                found = getattr(found, part)
        except TesseraError:
            raise
        except Exception as exc:  # a broken plugin: say which and why, not a traceback
            raise EngineError(
                f"engine {kind!r} ({target!r}, entry point group {ENTRY_POINTS!r}) cannot be loaded: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if not attr or not isinstance(found, type) or not hasattr(found, "from_setting"):
            raise EngineError(
                f"engine {kind!r} ({target!r}) is not an engine class: it needs the Engine interface "
                "(tessera.engine.Engine) and a from_setting classmethod"
            )
        target = found
    _LOADED[kind] = target
    return target


def engine_class(setting: str = "duckdb") -> type[Engine]:
    """The class of the engine ``setting`` names, not opened: its capabilities are class attributes."""
    kind = _kind(setting)
    if kind is None:
        _discover()
        kind = _kind(setting)
    if kind is None:
        known = sorted(k for k in _TARGETS if not k.endswith("://"))
        urls = sorted(k for k in _TARGETS if k.endswith("://"))
        raise TesseraError(
            f"unknown engine {setting!r} in mesh.yaml; known: {', '.join(known)}"
            + (f" (or a URL: {', '.join(u + '…' for u in urls)})" if urls else "")
        )
    return _load(kind)


def create_engine(setting: str = "duckdb", **options: Any) -> Engine:
    """``duckdb`` (in process), ``sc://host:port`` (Spark Connect; ``spark`` reads the URL from
    ``$SPARK_REMOTE``), or the name a third-party engine registered; ``options`` are the engine's own."""
    return engine_class(setting).from_setting(setting, **options)


def frame_writer(data: Any) -> type[DeltaWriter] | None:
    """The ``writes_delta`` engine whose own DataFrame ``data`` is (published where it lives), if any."""
    _discover()
    for kind in list(_TARGETS):
        cls = _load(kind)
        if cls.writes_delta:
            writer = cast("type[DeltaWriter]", cls)
            if writer.owns_frame(data):
                return writer
    return None


register_engine("duckdb", "tessera.engine.duckdb:DuckDBEngine")
register_engine("postgres", "tessera.engine.postgres:PostgresEngine")
register_engine("spark", "tessera.engine.spark:SparkEngine")
register_engine("sc://", "tessera.engine.spark:SparkEngine")
