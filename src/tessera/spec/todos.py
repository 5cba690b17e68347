"""The ``TODO:`` placeholders left in a mesh's files (``tessera new`` writes them for descriptions), listed by
``tessera validate`` as warnings with file:line and key. They do not block: a placeholder is a description
not yet written, and the ownership policy's ``description_required`` is about a missing one."""

from __future__ import annotations

import re
from pathlib import Path

from tessera.errors import Problem
from tessera.model.product import MeshSpec

__all__ = ["todo_notes"]

_YAML_TODO = re.compile(r"""^\s*(?:-\s+)?([A-Za-z_][\w.]*):\s*['"]?(TODO\b.*?)['"]?\s*$""")
_KEY = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][\w.]*):")
_SQL_TODO = re.compile(r"--\s*(TODO\b.*?)\s*$")
_FILES = ("domain.yaml", "product.odps.yaml", "contract.odcs.yaml", "transform.sql", "transform.py")


def todo_notes(spec: MeshSpec) -> list[Problem]:
    """Every ``TODO`` placeholder in the domain and product files of ``spec``, in file order."""
    root = spec.settings.root
    folders = [d.path for d in spec.domains] + [p.path for p in spec.products]
    notes: list[Problem] = []
    for folder in folders:
        if folder is None:
            continue
        for name in _FILES:
            path = Path(root) / folder / name
            if path.is_file():
                notes += _notes(path, f"{folder}/{name}")
    return notes


def _notes(path: Path, shown: str) -> list[Problem]:
    out = []
    sql = path.suffix in {".sql", ".py"}
    parents: list[tuple[int, str]] = []  # (indent, key) of the mappings the line is in
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if sql:
            match = _SQL_TODO.search(line)
            if match:
                out.append(Problem(shown, number, "", match[1]))
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        indent = len(key[1])
        while parents and parents[-1][0] >= indent:
            parents.pop()
        if (match := _YAML_TODO.match(line)) is not None:
            out.append(Problem(shown, number, ".".join([k for _, k in parents] + [match[1]]), match[2]))
        parents.append((indent, key[2]))
    return out
