"""The ``TODO:`` placeholders left in a mesh's files (``tessera new`` writes them for descriptions), listed by
``tessera validate`` as warnings with file:line and key. They do not block: a placeholder is a description
not yet written, and the ownership policy's ``description_required`` is about a missing one."""

from __future__ import annotations

import re
from pathlib import Path

from tessera.errors import Problem
from tessera.model.product import MeshSpec

__all__ = ["TODO_FILES", "todo_notes", "todo_notes_in"]

_YAML_TODO = re.compile(r"""^\s*(?:-\s+)?([A-Za-z_][\w.]*):\s*['"]?(TODO\b.*?)['"]?\s*$""")
_KEY = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][\w.]*):")
_SQL_TODO = re.compile(r"--\s*(TODO\b.*?)\s*$")
#: The files of a domain or product folder whose placeholders are listed.
TODO_FILES = ("domain.yaml", "product.odps.yaml", "contract.odcs.yaml", "transform.sql", "transform.py")


def todo_notes(spec: MeshSpec) -> list[Problem]:
    """Every ``TODO`` placeholder in the domain and product files of ``spec``, in file order."""
    root = spec.settings.root
    folders = [d.path for d in spec.domains] + [p.path for p in spec.products]
    notes: list[Problem] = []
    for folder in folders:
        if folder is None:
            continue
        for name in TODO_FILES:
            path = Path(root) / folder / name
            if path.is_file():
                notes += todo_notes_in(path.read_bytes(), f"{folder}/{name}")
    return notes


def todo_notes_in(data: bytes, shown: str) -> list[Problem]:
    """The placeholders in one file's bytes (``shown``: its name relative to the mesh)."""
    out = []
    sql = shown.endswith((".sql", ".py"))
    parents: list[tuple[int, str]] = []  # (indent, key) of the mappings the line is in
    for number, line in enumerate(_text(data).splitlines(), 1):
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


def _text(data: bytes) -> str:
    """As ``Path.read_text(encoding="utf-8", errors="replace")`` reads it (universal newlines)."""
    text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
