"""Adapters that put a mesh into other tools' hands — orchestrators first (``tessera.integrations.dagster``,
``tessera.integrations.airflow``; docs/orchestrators.md).

Like the CLI and the server they sit over ``platform`` (docs/architecture.md, "Layers"): they translate the
``Mesh`` facade's values into the tool's, and hold no rule of their own. Each imports its tool lazily, so
Tessera installs without it; a missing tool is a ``TesseraError`` naming the extra to install."""

from __future__ import annotations

__all__: list[str] = []
