"""Writing import and export results: all or nothing, each file replaced atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_all"]


def write_all(files: dict[Path, str]) -> None:
    """Write every file, or none: each goes to a temporary file beside its target first, and targets are
    replaced only once every temporary file is written."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
            staged.append((tmp, path))
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
