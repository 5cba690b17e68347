"""The catalog's column profiles (table ``column_profiles``, migration 0007): written in the transaction that
records a version (``record_profiles``), read back for a version (``version_profile``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog, utc
from tessera.model.profile import ColumnProfile, VersionProfile

__all__ = ["forget_profiles", "record_profiles", "version_profile"]

#: Majors are INTEGER columns: past this no major exists.
_MAJOR_LIMIT = 2**31


def record_profiles(
    conn: Connection,
    address: str,
    major: int,
    delta_version: int,
    profiles: Sequence[ColumnProfile],
    at: datetime,
) -> None:
    """Store a version's profiles; a masked column's values are dropped here too, whatever was passed."""
    rows = [
        {
            "address": address,
            "major": major,
            "delta_version": delta_version,
            "column_name": p.column,
            "row_count": p.row_count,
            "null_count": p.null_count,
            "distinct_count": p.distinct_count,
            "min_value": None if p.masked else p.min_value,
            "max_value": None if p.masked else p.max_value,
            "top_values": None if p.masked else [[v, n] for v, n in p.top_values],
            "masked": p.masked,
            "profiled_at": at,
        }
        for p in profiles
    ]
    if rows:
        conn.execute(insert(t.column_profiles), rows)


def forget_profiles(conn: Connection, address: str, major: int) -> None:
    """Drop every stored profile of ``address``'s ``major``: an erasure or retention fix removed rows, and their
    values may be among the profiles' min, max and top values."""
    p = t.column_profiles
    conn.execute(delete(p).where(p.c.address == address, p.c.major == major))


def version_profile(catalog: Catalog, address: str, major: int | None = None) -> VersionProfile | None:
    """The profiles of the newest version of ``major`` (default: the newest major); None when nothing is
    published. A version published before profiles existed, or whose engine could not profile it, has none:
    an empty ``columns``."""
    if major is not None and not 0 <= major < _MAJOR_LIMIT:
        return None  # no such major; the database could not even compare it (an OverflowError, a 500)
    p = t.column_profiles
    with catalog.engine.connect() as conn:
        query = select(t.versions.c.major, t.versions.c.delta_version).where(t.versions.c.address == address)
        if major is not None:
            query = query.where(t.versions.c.major == major)
        newest = conn.execute(
            query.order_by(t.versions.c.major.desc(), t.versions.c.delta_version.desc()).limit(1)
        ).first()
        if newest is None:
            return None
        rows = (
            conn.execute(
                select(p).where(
                    p.c.address == address,
                    p.c.major == newest.major,
                    p.c.delta_version == newest.delta_version,
                )
            )
            .mappings()
            .all()
        )
    by_name = {r["column_name"]: r for r in rows}
    columns = tuple(
        ColumnProfile(
            column=r["column_name"],
            row_count=int(r["row_count"]),
            null_count=int(r["null_count"]),
            distinct_count=None if r["distinct_count"] is None else int(r["distinct_count"]),
            min_value=r["min_value"],
            max_value=r["max_value"],
            top_values=tuple((str(v), int(n)) for v, n in r["top_values"] or ()),
            masked=bool(r["masked"]),
        )
        for r in by_name.values()
    )
    at = max((utc(r["profiled_at"]) for r in rows), default=None)  # type: ignore[type-var]
    return VersionProfile(address, int(newest.major), int(newest.delta_version), at, columns)
