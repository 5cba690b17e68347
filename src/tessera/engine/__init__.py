"""Compute behind one interface: run SQL, register relations, fetch Arrow."""

from tessera.engine.base import Engine, FileFormat, create_engine, quote_name, register_engine

__all__ = ["Engine", "FileFormat", "create_engine", "quote_name", "register_engine"]
