"""Writing import and export results: all or nothing, each file replaced atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_all"]


def write_all(files: dict[Path, str]) -> None:
    """Write every file, or none: each goes to a temporary file beside its target first, and targets are
    replaced only once every temporary file is written. A target that exists and is not a regular file (a
    folder, a device, a pipe) is refused before anything is written; a folder that cannot be written to is an
    InputError naming it, never a traceback, and no temporary file stays behind."""
    from tessera.errors import InputError

    for path in files:
        if (path.exists() or path.is_symlink()) and not path.is_file():
            what = "a folder" if path.is_dir() else "not a regular file"
            raise InputError(f"{path} is {what}: name a file to write (nothing was written)")
    staged: list[tuple[str, Path]] = []
    replaced, target = 0, next(iter(files), None)
    try:
        for path, text in files.items():
            target = path
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
        for tmp, path in staged:
            target = path
            os.replace(tmp, path)
            replaced += 1
    except OSError as exc:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        where = target or "the output"
        done = "nothing was written" if not replaced else f"{replaced} of {len(files)} files were written"
        raise InputError(f"cannot write {where}: {exc.strerror or exc} ({done})") from None
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
