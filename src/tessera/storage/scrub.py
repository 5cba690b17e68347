"""Forget the statistics of files that are gone: the last place a deleted row's values stay in a Delta table.

Every ``add`` action in the log carries its file's statistics: row count, null counts and the minimum and
maximum of each column. After rows are deleted and the old files vacuumed, those minimums and maximums can
still be a deleted row's values (a subject's key, an expired row's email) — in the JSON commits and in any
checkpoint. Delta has no operation that rewrites them, so this module does it in place, for local tables:
the ``stats`` of every ``add``/``remove`` action whose file no longer exists is dropped (``stats`` is optional
in the protocol). No snapshot that names such a file can be read any more, so nothing that can still be read
changes; the commit structure, provenance and the statistics of live files stay as they were. Each file is
rewritten to a temporary name and renamed over the original, so a reader sees the old or the new file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

__all__ = ["scrub_stats"]

_KINDS = ("add", "remove")
Gone = Callable[[object], bool]


def scrub_stats(table: Path) -> int:
    """Drop the statistics of files that no longer exist from ``table``'s log; returns how many actions."""
    log = table / "_delta_log"
    if not log.is_dir():
        return 0
    exists: dict[str, bool] = {}

    def gone(path: object) -> bool:
        if not isinstance(path, str):
            return False
        if path not in exists:
            exists[path] = (table / unquote(path)).exists()
        return not exists[path]

    count = 0
    for commit in sorted(log.glob("*.json")):
        count += _scrub_commit(commit, gone)
    for checkpoint in sorted(log.glob("*.checkpoint*.parquet")):
        count += _scrub_checkpoint(checkpoint, gone)
    return count


def _scrub_commit(path: Path, gone: Gone) -> int:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    count = 0
    for index, line in enumerate(lines):
        if '"stats"' not in line:
            continue
        action = json.loads(line)
        for kind in _KINDS:
            entry = action.get(kind)
            if isinstance(entry, dict) and entry.get("stats") is not None and gone(entry.get("path")):
                del entry["stats"]
                count += 1
                end = "\n" if line.endswith("\n") else ""
                lines[index] = json.dumps(action, separators=(",", ":"), ensure_ascii=False) + end
    if count:
        _replace(path, lambda tmp: tmp.write_text("".join(lines), encoding="utf-8"))
    return count


def _scrub_checkpoint(path: Path, gone: Gone) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    data = pq.read_table(path)
    count = 0
    for kind in _KINDS:
        if kind not in data.column_names:
            continue
        column = data.column(kind).combine_chunks()
        fields = [column.type.field(i) for i in range(column.type.num_fields)]
        names = [f.name for f in fields]
        if "stats" not in names or "path" not in names:
            continue
        stats = column.field("stats")
        drop = [
            s is not None and gone(p)
            for p, s in zip(column.field("path").to_pylist(), stats.to_pylist(), strict=True)
        ]
        if not any(drop):
            continue
        count += sum(drop)
        cleared = pc.if_else(pa.array(drop), pa.nulls(len(column), stats.type), stats)
        children = [cleared if f.name == "stats" else column.field(i) for i, f in enumerate(fields)]
        rebuilt = pa.StructArray.from_arrays(children, fields=fields, mask=column.is_null())
        data = data.set_column(data.column_names.index(kind), data.schema.field(kind), rebuilt)
    if count:
        _replace(path, lambda tmp: pq.write_table(data, tmp))
    return count


def _replace(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.tessera-scrub")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
