"""What a publish leaves in the catalog: the version, its major, the quality run and an audit event."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from tessera.catalog import tables as t
from tessera.catalog.dialect import insert_ignore, lock_audit
from tessera.model.results import QualityRun

__all__ = [
    "VersionRecord",
    "append_audit",
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
    insert_ignore(conn, t.versions, record.row())


def record_major(conn: Connection, address: str, major: int, table_uri: str, deprecation_days: int) -> None:
    """Register a major; a new major deprecates every older active one for ``deprecation_days``."""
    now = datetime.now(UTC)
    rows = conn.execute(select(t.majors).where(t.majors.c.address == address)).mappings().all()
    if not any(r["major"] == major for r in rows):
        insert_ignore(
            conn, t.majors, {"address": address, "major": major, "table_uri": table_uri, "status": "active"}
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


def append_audit(conn: Connection, actor: str, action: str, subject: str, details: dict[str, Any]) -> str:
    """Append a hash-chained audit event: each entry holds the hash of the one before."""
    lock_audit(conn)
    previous = conn.execute(
        select(t.audit_events.c.hash).order_by(t.audit_events.c.id.desc()).limit(1)
    ).scalar()
    prev_hash = previous or "0" * 64
    at = datetime.now(UTC)
    body = json.dumps(
        {"at": at.isoformat(), "actor": actor, "action": action, "subject": subject, "details": details},
        sort_keys=True,
        default=str,
    )
    digest = hashlib.sha256((prev_hash + body).encode()).hexdigest()
    conn.execute(
        insert(t.audit_events).values(
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=details,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    return digest


def record_build(conn: Connection, address: str, fingerprint: str, major: int, delta_version: int) -> None:
    """What a build last published from: the fingerprint of its code, contract and input versions."""
    from tessera.catalog.dialect import upsert

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
