"""The CLI calls only ``Mesh`` and its sub-facades, never the context behind them (docs/architecture.md,
"Layers"): no ``….ctx`` attribute and no ``tessera.platform.context`` import under ``src/tessera/cli``."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "src" / "tessera" / "cli"


def _uses(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "ctx":
            found.append(f"{name}:{node.lineno} .ctx")
        elif isinstance(node, ast.ImportFrom) and node.module == "tessera.platform.context":
            found.append(f"{name}:{node.lineno} imports tessera.platform.context")
    return found


def test_the_check_finds_a_context_use() -> None:
    assert _uses("def f(mesh):\n    return mesh.ctx.catalog\n", "x.py") == ["x.py:2 .ctx"]
    assert _uses("from tessera.platform.context import Context\n", "y.py") == [
        "y.py:1 imports tessera.platform.context"
    ]
    assert _uses("def f(mesh):\n    return mesh.sharing\n", "z.py") == []


def test_the_cli_calls_only_the_facade() -> None:
    found = [hit for path in sorted(CLI.rglob("*.py")) for hit in _uses(path.read_text(), path.name)]
    assert found == []
