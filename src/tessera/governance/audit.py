"""The audit log: list it, and prove it untouched.

Every entry holds the hash of the one before and its own sequence number (``tessera.catalog.append_audit``
writes them); the anchor row holds the newest entry's sequence number and hash, written in the same
transaction. ``verify`` recomputes every hash and link, so an edited entry (its hash no longer matches), an
inserted or deleted one (a link breaks, a sequence number is skipped) and entries cut from the end (the anchor
no longer matches the last entry) are each found, and the first bad entry is named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tessera.catalog import Catalog, utc
from tessera.catalog.audit import newest_events, read_chain
from tessera.catalog.records import GENESIS, audit_body, audit_hash
from tessera.errors import TesseraError

__all__ = ["AuditEvent", "Finding", "VerifyReport", "list_events", "parse_since", "verify"]

_AGO = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "details": dict(self.details),
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with the log, at entry ``seq``."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.problem}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    entries: int
    findings: tuple[Finding, ...]
    head: str | None  # the newest entry's hash

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad(self) -> int | None:
        return self.findings[0].seq if self.findings else None

    def summary(self) -> str:
        if self.ok:
            return f"audit log verified: {self.entries} entries, chain and anchor intact"
        lines = [f"audit log TAMPERED: first bad entry is {self.first_bad} ({self.entries} entries checked)"]
        lines += [f"  {finding}" for finding in self.findings]
        return "\n".join(lines)


def _event(row: Any) -> AuditEvent:
    return AuditEvent(
        seq=row.id,
        at=utc(row.at) or datetime.now(UTC),
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=row.details if isinstance(row.details, dict) else {"value": row.details},
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _legacy_hash(event: AuditEvent) -> str:
    """How entries were hashed before sequence numbers and the anchor (kept so an upgraded log verifies)."""
    body = json.dumps(
        {
            "at": event.at.astimezone(UTC).isoformat(),
            "actor": event.actor,
            "action": event.action,
            "subject": event.subject,
            "details": event.details,
        },
        sort_keys=True,
        default=str,
    )
    return audit_hash(event.prev_hash, body)


def _hash_at(event: AuditEvent, seq: int) -> str:
    body = audit_body(seq, event.at, event.actor, event.action, event.subject, event.details)
    return audit_hash(event.prev_hash, body)


def _moved_by(event: AuditEvent, most: int = 64) -> int:
    """How far an entry was moved up (ids shifted to make room for an inserted one); 0 when not."""
    return next(
        (d for d in range(1, min(most, event.seq - 1) + 1) if _hash_at(event, event.seq - d) == event.hash), 0
    )


def _check(events: Iterable[AuditEvent]) -> tuple[list[Finding], AuditEvent | None, int, bool]:
    """Walk the chain: gaps in the sequence, broken links, hashes that do not match what they cover."""
    findings: list[Finding] = []
    expected, prev, last, count, sequenced, shift = 1, GENESIS, None, 0, False, 0
    for event in events:
        count += 1
        if event.seq != expected:
            missing = (
                f"entry {expected} is"
                if event.seq == expected + 1
                else f"entries {expected}-{event.seq - 1} are"
            )
            findings.append(
                Finding(
                    expected, f"{missing} missing: deleted (entry {event.seq} follows entry {expected - 1})"
                )
            )
        elif event.prev_hash != prev:
            findings.append(
                Finding(
                    event.seq,
                    f"its previous-hash link does not match entry {expected - 1}'s hash: entry {expected - 1} "
                    "was rewritten, or an entry was inserted or deleted here",
                )
            )
        if _hash_at(event, event.seq) == event.hash:
            sequenced, shift = True, 0
        elif sequenced or _legacy_hash(event) != event.hash:
            moved = _moved_by(event)
            if moved and moved != shift:
                first = event.seq - moved
                what = f"entry {first} was" if moved == 1 else f"entries {first}-{event.seq - 1} were"
                findings.append(
                    Finding(
                        first, f"{what} inserted: entry {event.seq} is the original entry {first}, moved up"
                    )
                )
            elif not moved:
                findings.append(
                    Finding(event.seq, "its hash does not match its contents: the entry was edited")
                )
            shift = moved
        expected, prev, last = event.seq + 1, event.hash, event
    return findings, last, count, sequenced


def verify(catalog: Catalog) -> VerifyReport:
    """Recompute every entry's hash and link, and compare the newest with the anchor."""
    (findings, last, count, sequenced), anchor = read_chain(
        catalog, lambda rows: _check(_event(r) for r in rows)
    )
    if anchor is None:
        if sequenced:
            findings.append(Finding(last.seq if last else 0, "the anchor row is missing: it was deleted"))
    elif last is None:
        findings.append(Finding(anchor.seq, f"the log is empty but the anchor records entry {anchor.seq}"))
    elif anchor.seq > last.seq:
        findings.append(
            Finding(
                last.seq + 1,
                f"the log ends at entry {last.seq} but the anchor records entry {anchor.seq}: "
                "entries were deleted from the end",
            )
        )
    elif anchor.seq < last.seq:
        findings.append(
            Finding(
                anchor.seq + 1,
                f"the anchor records entry {anchor.seq} as the newest but the log goes on to {last.seq}: "
                "entries were added outside Tessera",
            )
        )
    elif anchor.hash != last.hash:
        findings.append(
            Finding(last.seq, "its hash differs from the anchor's: the newest entry was rewritten")
        )
    findings = sorted(dict.fromkeys(findings), key=lambda f: f.seq)
    return VerifyReport(count, tuple(findings), last.hash if last else None)


def list_events(catalog: Catalog, since: datetime | None = None, limit: int = 100) -> list[AuditEvent]:
    """The newest ``limit`` entries (at or after ``since``), oldest first."""
    return [_event(r) for r in reversed(newest_events(catalog, since, limit))]


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``2026-01-31``, ``2026-01-31T12:00`` (UTC unless it says otherwise), or ``7d`` / ``12h`` / ``30m`` / ``2w``
    ago."""
    value = text.strip()
    match = _AGO.match(value.lower())
    if match:
        try:
            return (now or datetime.now(UTC)) - timedelta(**{_UNITS[match[2]]: int(match[1])})
        except OverflowError:
            raise TesseraError(
                f"--since {text!r} reaches back before the year 1: give a shorter span or a date"
            ) from None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TesseraError(
            f"--since {text!r} is not a date: use an ISO date or datetime (2026-01-31, 2026-01-31T12:00) "
            "or a span ago (30m, 12h, 7d, 2w)"
        ) from None
    try:  # in UTC: 0001-01-01T00:00+14:00 and 9999-12-31T23:59-14:00 fall outside the calendar
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError:
        raise TesseraError(f"--since {text!r} is outside the calendar in UTC: give a later date") from None
