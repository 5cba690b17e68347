"""Compute behind one interface: run SQL, register relations, fetch Arrow. Each engine is a package here
(``duckdb``, ``spark``, ``postgres``) registered by name; callers use this interface and the registry only."""

from tessera.engine.base import (
    DeltaWriter,
    Engine,
    FileFormat,
    NativeCandidate,
    SealableEngine,
    is_sealable,
    quote_name,
)
from tessera.engine.registry import ENTRY_POINTS, create_engine, engine_class, frame_writer, register_engine

__all__ = [
    "ENTRY_POINTS",
    "DeltaWriter",
    "Engine",
    "FileFormat",
    "NativeCandidate",
    "SealableEngine",
    "create_engine",
    "engine_class",
    "frame_writer",
    "is_sealable",
    "quote_name",
    "register_engine",
]
