"""A local table's storage failures as one clear ``StorageError``: a full disk, a damaged Delta log.

delta-rs reports these as a ``DeltaError`` (or, from deep inside the Rust code, a panic) whose text is a
chain of internal names. Here they become one message that names the table and what to do. A write that
fails this way has committed nothing: the Delta log gains a commit only after every data file is written, so
readers see the table as it was."""

from __future__ import annotations

import errno
import re
from pathlib import Path

from tessera.errors import StorageError

__all__ = ["is_panic", "local_failure", "log_damage"]

_FULL = re.compile(
    r"No space left on device|File too large|Disk quota exceeded|database or disk is full"
    rf"|os error ({errno.ENOSPC}|{errno.EFBIG}|{errno.EDQUOT})\b"
)
_COMMIT = re.compile(r"^(\d{20})\.json$")
_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint(?:\.\d+\.\d+)?\.parquet$")


def is_panic(exc: BaseException) -> bool:
    """A Rust panic surfaced by pyo3 (``PanicException`` derives from BaseException, not Exception)."""
    return type(exc).__name__ == "PanicException"


def log_damage(uri: str) -> str | None:
    """What is missing from a local table's ``_delta_log`` (commit files that must be there), else None."""
    log = Path(uri.removeprefix("file://")) / "_delta_log"
    try:
        names = [p.name for p in log.iterdir()]
    except OSError:
        return None
    commits = {int(m[1]) for m in map(_COMMIT.match, names) if m}
    checkpoints = {int(m[1]) for m in map(_CHECKPOINT.match, names) if m}
    if not commits and not checkpoints:
        return None
    newest = max(commits | checkpoints)
    start = max(checkpoints) + 1 if checkpoints else 0
    missing = [v for v in range(start, newest + 1) if v not in commits]
    if not missing:
        return None
    shown = ", ".join(f"{v:020d}.json" for v in missing[:5]) + (" …" if len(missing) > 5 else "")
    return f"commit file{'s' if len(missing) > 1 else ''} {shown} missing from its _delta_log"


def local_failure(uri: str, exc: BaseException) -> StorageError | None:
    """``exc`` from delta-rs on a local table as one clear StorageError, or None when it is neither a full disk
    nor a damaged log (the caller handles it)."""
    text = str(exc)
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    if full or _FULL.search(text):
        return StorageError(
            f"storage {uri}: the disk is full (or a file size limit was reached) while writing; nothing was "
            "committed and readers still see the previous version. Free space on the storage volume (mesh.yaml "
            "storage) and run the command again"
        )
    damage = log_damage(uri)
    if damage is not None:
        return StorageError(
            f"the Delta table at {uri} cannot be read: {damage}. Restore the missing file(s) from a backup; or, "
            "to start the table again without its history, move the table folder aside and run "
            "`tessera build --full-refresh` (or publish again), then `tessera repair`"
        )
    if is_panic(exc):
        first = next((line.strip() for line in text.splitlines() if line.strip()), "a panic")
        return StorageError(f"storage {uri}: the Delta library failed: {first[:300]}")
    return None
