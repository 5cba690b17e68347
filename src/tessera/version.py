"""Tessera's version, written once: the package root re-exports it, packaging reads it (``pyproject.toml``),
and every layer may import it (docs/architecture.md, "Layers")."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
