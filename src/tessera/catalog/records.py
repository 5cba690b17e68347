"""What a publish leaves in the catalog: the version, its major, the quality run and an audit event."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from tessera.catalog import paths
from tessera.catalog import tables as t
from tessera.catalog.dialect import insert_ignore, lock_audit, upsert
from tessera.model.results import QualityRun

__all__ = [
    "GENESIS",
    "VersionRecord",
    "append_audit",
    "audit_body",
    "audit_hash",
    "audit_stamp",
    "open_incident",
    "record_build",
    "record_column_lineage",
    "record_major",
    "record_quality_run",
    "record_version",
    "resolve_incident",
]


@dataclass(frozen=True, slots=True)
class VersionRecord:
    address: str
    major: int
    delta_version: int
    table_uri: str
    contract_version: str
    contract_hash: str
    product_version: str
    run_id: str
    row_count: int | None
    operation: str
    published_at: datetime

    def row(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "major": self.major,
            "delta_version": self.delta_version,
            "table_uri": self.table_uri,
            "contract_version": self.contract_version,
            "contract_hash": self.contract_hash,
            "product_version": self.product_version,
            "run_id": self.run_id,
            "row_count": self.row_count,
            "operation": self.operation,
            "published_at": self.published_at,
        }


def record_version(conn: Connection, record: VersionRecord) -> None:
    row = record.row()
    row["table_uri"] = paths.stored(record.table_uri, paths.root_of(conn))
    insert_ignore(conn, t.versions, row)


def record_major(
    conn: Connection, address: str, major: int, table_uri: str, deprecation_days: int
) -> list[dict[str, Any]]:
    """Register a major; a new major deprecates every older active one for ``deprecation_days``. Returns the
    majors it deprecated (``major``, ``retire_after``), for the notice to their consumers."""
    now = datetime.now(UTC)
    deprecated: list[dict[str, Any]] = []
    rows = conn.execute(select(t.majors).where(t.majors.c.address == address)).mappings().all()
    if not any(r["major"] == major for r in rows):
        location = paths.stored(table_uri, paths.root_of(conn))
        insert_ignore(
            conn, t.majors, {"address": address, "major": major, "table_uri": location, "status": "active"}
        )
    for row in rows:
        if row["major"] < major and row["status"] == "active":
            conn.execute(
                update(t.majors)
                .where(t.majors.c.address == address, t.majors.c.major == row["major"])
                .values(
                    status="deprecated",
                    deprecated_at=now,
                    retire_after=now + timedelta(days=deprecation_days),
                    successor=major,
                )
            )
            deprecated.append({"major": row["major"], "retire_after": now + timedelta(days=deprecation_days)})
    return deprecated


def record_quality_run(conn: Connection, address: str, run: QualityRun, published: bool) -> None:
    conn.execute(
        insert(t.quality_runs).values(
            run_id=run.run_id,
            address=address,
            contract_version=run.contract_version,
            outcome=run.outcome,
            published=published,
            row_count=run.row_count,
            started_at=run.started_at,
            finished_at=run.finished_at,
            summary=run.summary(),
        )
    )
    rows = [
        {
            "run_id": run.run_id,
            "name": c.name,
            "metric": c.metric,
            "column_name": c.column,
            "threshold": c.threshold,
            "measured": c.measured,
            "unit": c.unit,
            "outcome": c.outcome,
            "severity": c.severity,
            "message": c.message,
            "samples": [dict(s) for s in c.samples],
        }
        for c in run.checks
    ]
    if rows:
        conn.execute(insert(t.quality_checks), rows)


#: The ``prev_hash`` of the first audit entry.
GENESIS = "0" * 64


def audit_stamp(at: datetime) -> str:
    """An entry's time as hashed: UTC, ISO 8601 with microseconds (SQLite hands it back naive, PostgreSQL in
    the session's zone: both give the same text)."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def audit_body(seq: int, at: datetime, actor: str, action: str, subject: str, details: Any) -> str:
    """The canonical JSON an entry's hash covers: its sequence number, time, actor, action, subject, details."""
    return json.dumps(
        {
            "seq": seq,
            "at": audit_stamp(at),
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )


def audit_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _plain(value: Any) -> Any:
    """JSON-safe: what is stored is exactly what was hashed (non-finite floats and other objects as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in (sorted(value, key=str) if isinstance(value, set | frozenset) else value)]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def append_audit(conn: Connection, actor: str, action: str, subject: str, details: dict[str, Any]) -> str:
    """Append a hash-chained audit entry in the caller's transaction and return its hash.

    Each entry's sequence number is its id, one more than the newest entry's; its hash covers the canonical JSON
    of the entry (``audit_body``) and the hash of the one before. The anchor row (id 1 of ``audit_anchor``)
    records the newest sequence number and hash in the same transaction, so entries cut from the end of the log
    are found too. Appends are serialised: SQLite write transactions are exclusive, PostgreSQL takes a
    transaction-scoped advisory lock."""
    lock_audit(conn)
    anchor = conn.execute(
        select(t.audit_anchor.c.seq, t.audit_anchor.c.hash).where(t.audit_anchor.c.id == 1)
    ).first()
    newest = conn.execute(
        select(t.audit_events.c.id, t.audit_events.c.hash).order_by(t.audit_events.c.id.desc()).limit(1)
    ).first()
    if anchor is not None:
        seq, prev_hash = max(anchor.seq, newest.id if newest else 0) + 1, anchor.hash
    elif newest is not None:  # a log written before the anchor existed
        seq, prev_hash = newest.id + 1, newest.hash
    else:
        seq, prev_hash = 1, GENESIS
    at = datetime.now(UTC)
    clean = json.loads(json.dumps(_plain(details)))
    digest = audit_hash(prev_hash, audit_body(seq, at, actor, action, subject, clean))
    conn.execute(
        insert(t.audit_events).values(
            id=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=clean,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    upsert(conn, t.audit_anchor, ["id"], {"id": 1, "seq": seq, "hash": digest})
    return digest


def record_build(conn: Connection, address: str, fingerprint: str, major: int, delta_version: int) -> None:
    """What a build last published from: the fingerprint of its code, contract and input versions."""
    upsert(
        conn,
        t.builds,
        ["address"],
        {
            "address": address,
            "fingerprint": fingerprint,
            "major": major,
            "delta_version": delta_version,
            "built_at": datetime.now(UTC),
        },
    )


def record_column_lineage(
    conn: Connection, address: str, major: int, delta_version: int, edges: Sequence[Any]
) -> None:
    """The column edges a version was built with (``source``, ``source_column``, ``target_column``, ``kind``)."""
    rows = [
        {
            "address": address,
            "major": major,
            "delta_version": delta_version,
            "source": e.source,
            "source_column": e.source_column,
            "target_column": e.target_column,
            "kind": e.kind,
        }
        for e in edges
    ]
    if rows:
        conn.execute(insert(t.column_lineage), rows)


def open_incident(conn: Connection, address: str, kind: str, detail: str, at: datetime) -> None:
    conn.execute(insert(t.incidents).values(address=address, kind=kind, detail=detail, opened_at=at))


def resolve_incident(conn: Connection, incident_id: int, at: datetime) -> None:
    conn.execute(update(t.incidents).where(t.incidents.c.id == incident_id).values(resolved_at=at))
