"""The hash-chained audit log on SQLite and PostgreSQL: an untouched log verifies; an edited, inserted or deleted
entry (in the middle or at the end) is found and named; concurrent writers keep one chain."""

from __future__ import annotations

import json
import math
import multiprocessing
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, insert, select, text, update

import tessera
from tessera.catalog import Catalog, append_audit
from tessera.catalog import tables as t
from tessera.catalog.records import GENESIS, audit_body, audit_hash
from tessera.errors import TesseraError
from tessera.governance.audit import list_events, parse_since, verify


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    opened = Catalog.open(catalog_url)
    try:
        for i in range(1, 11):
            with opened.transaction() as conn:
                append_audit(conn, "dana@company.com", "publish", "sales.orders", {"delta_version": i})
        yield opened
    finally:
        opened.close()


def _row(conn: Connection, seq: int) -> dict[str, object]:
    return dict(conn.execute(select(t.audit_events).where(t.audit_events.c.id == seq)).mappings().one())


def test_an_untouched_log_verifies_and_lists(catalog: Catalog) -> None:
    report = verify(catalog)
    assert report.ok and report.entries == 10 and report.first_bad is None
    assert "10 entries" in report.summary()
    events = list_events(catalog, limit=3)
    assert [e.seq for e in events] == [8, 9, 10]
    assert events[-1].hash == report.head
    assert [e.details["delta_version"] for e in events] == [8, 9, 10]


def test_the_hash_covers_sequence_time_actor_action_subject_and_details(catalog: Catalog) -> None:
    """Recomputed here by hand from what the database hands back (naive on SQLite, timestamptz on PostgreSQL)."""
    with catalog.engine.connect() as conn:
        rows = [
            dict(r) for r in conn.execute(select(t.audit_events).order_by(t.audit_events.c.id)).mappings()
        ]
        anchor = conn.execute(select(t.audit_anchor)).mappings().one()
    previous = GENESIS
    for row in rows:
        at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)
        body = json.dumps(
            {
                "seq": row["id"],
                "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
                "actor": row["actor"],
                "action": row["action"],
                "subject": row["subject"],
                "details": row["details"],
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        assert row["prev_hash"] == previous
        assert row["hash"] == audit_hash(previous, body)
        previous = row["hash"]
    assert (anchor["id"], anchor["seq"], anchor["hash"]) == (1, 10, previous)


def test_details_are_stored_as_they_were_hashed(catalog: Catalog) -> None:
    odd = {"when": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "ids": {3, 1}, "ratio": math.nan, 7: "seven"}
    with catalog.transaction() as conn:
        append_audit(conn, "local", "remediate", "sales.orders", odd)  # type: ignore[arg-type]
    [event] = list_events(catalog, limit=1)
    assert event.details == {
        "when": "2026-01-02T03:04:05.000006+00:00",
        "ids": [1, 3],
        "ratio": "nan",
        "7": "seven",
    }
    assert verify(catalog).ok


def _edit(conn: Connection) -> None:
    conn.execute(update(t.audit_events).where(t.audit_events.c.id == 5).values(details={"delta_version": 99}))


def _edit_actor(conn: Connection) -> None:
    conn.execute(update(t.audit_events).where(t.audit_events.c.id == 5).values(actor="someone-else"))


def _insert_forged(conn: Connection) -> None:
    """A forged entry in the middle with a plausible hash: later entries moved up to make room."""
    conn.execute(update(t.audit_events).where(t.audit_events.c.id >= 5).values(id=t.audit_events.c.id + 1000))
    conn.execute(
        update(t.audit_events).where(t.audit_events.c.id >= 1000).values(id=t.audit_events.c.id - 999)
    )
    prev = _row(conn, 4)["hash"]
    at = datetime.now(UTC)
    details = {"grant": 1, "privilege": "admin", "scope": "mesh"}
    digest = audit_hash(str(prev), audit_body(5, at, "mallory", "grant", "mesh", details))
    conn.execute(
        insert(t.audit_events).values(
            id=5,
            at=at,
            actor="mallory",
            action="grant",
            subject="mesh",
            details=details,
            prev_hash=prev,
            hash=digest,
        )
    )


def _delete_middle(conn: Connection) -> None:
    conn.execute(delete(t.audit_events).where(t.audit_events.c.id == 5))


def _delete_last(conn: Connection) -> None:
    conn.execute(delete(t.audit_events).where(t.audit_events.c.id == 10))


def _delete_anchor(conn: Connection) -> None:
    conn.execute(delete(t.audit_anchor))


@pytest.mark.parametrize(
    ("tamper", "first_bad", "says"),
    [
        (_edit, 5, "the entry was edited"),
        (_edit_actor, 5, "the entry was edited"),
        (_insert_forged, 5, "entry 5 was inserted: entry 6 is the original entry 5"),
        (_delete_middle, 5, "entry 5 is missing: deleted"),
        (_delete_last, 10, "the log ends at entry 9 but the anchor records entry 10"),
        (_delete_anchor, 10, "the anchor row is missing"),
    ],
    ids=["edit-details", "edit-actor", "insert-middle", "delete-middle", "delete-last", "delete-anchor"],
)
def test_tampering_is_detected_and_the_first_bad_entry_named(
    catalog: Catalog, tamper, first_bad: int, says: str
) -> None:  # type: ignore[no-untyped-def]
    with catalog.transaction() as conn:
        tamper(conn)
    report = verify(catalog)
    assert not report.ok
    assert report.first_bad == first_bad, report.summary()
    assert says in report.summary()
    assert f"first bad entry is {first_bad}" in report.summary()


def test_appending_after_the_last_entry_was_deleted_still_shows_the_gap(catalog: Catalog) -> None:
    with catalog.transaction() as conn:
        _delete_last(conn)
    with catalog.transaction() as conn:
        append_audit(conn, "local", "publish", "sales.orders", {})
    report = verify(catalog)
    assert not report.ok and report.first_bad == 10


def test_a_log_written_before_sequence_numbers_still_verifies(catalog_url: str) -> None:
    """Entries hashed the old way (no sequence number, no anchor) at the start of an upgraded log."""
    catalog = Catalog.open(catalog_url)
    try:
        with catalog.transaction() as conn:
            prev = GENESIS
            for i in (1, 2):
                at = datetime(2026, 1, i, 12, 0, 0, 123456, tzinfo=UTC)
                fields = {
                    "actor": "local",
                    "action": "publish",
                    "subject": "sales.orders",
                    "details": {"v": i},
                }
                body = json.dumps({"at": at.isoformat(), **fields}, sort_keys=True, default=str)
                digest = audit_hash(prev, body)
                conn.execute(
                    insert(t.audit_events).values(id=i, at=at, prev_hash=prev, hash=digest, **fields)
                )
                prev = digest
        assert verify(catalog).ok
        with catalog.transaction() as conn:
            append_audit(conn, "local", "grant", "mesh", {})
        report = verify(catalog)
        assert report.ok and report.entries == 3
        with catalog.transaction() as conn:
            conn.execute(update(t.audit_events).where(t.audit_events.c.id == 1).values(details={"v": 9}))
        assert verify(catalog).first_bad == 1
    finally:
        catalog.close()


def _append_many(url: str, who: str, count: int) -> None:
    catalog = Catalog.open(url)
    try:
        for i in range(count):
            with catalog.transaction() as conn:
                append_audit(conn, who, "token.use", who, {"i": i})
    finally:
        catalog.close()


def test_two_processes_appending_at_once_keep_one_chain(catalog_url: str) -> None:
    Catalog.open(catalog_url).close()  # migrate once, before the writers start
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_append_many, args=(catalog_url, f"writer-{n}", 30)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=240)
        assert worker.exitcode == 0
    catalog = Catalog.open(catalog_url)
    try:
        report = verify(catalog)
        assert report.ok, report.summary()
        assert report.entries == 60
        events = list_events(catalog, limit=100)
        assert [e.seq for e in events] == list(range(1, 61))
        assert {e.actor for e in events} == {"writer-1", "writer-2"}
    finally:
        catalog.close()


def test_since_accepts_dates_datetimes_and_spans() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("12h", now) == now - timedelta(hours=12)
    assert parse_since("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_since("2026-03-01T08:30") == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    with pytest.raises(TesseraError, match="is not a date"):
        parse_since("last tuesday")
    with pytest.raises(TesseraError, match="before the year 1"):  # not an OverflowError (a 500 over REST)
        parse_since("99999999999999d", now)
    with pytest.raises(TesseraError, match="outside the calendar"):  # in UTC, before the year 1
        parse_since("0001-01-01T00:00+14:00")
    assert parse_since("2026-03-01T08:30+02:00") == datetime(2026, 3, 1, 6, 30, tzinfo=UTC)


def test_list_since_filters_by_time(catalog: Catalog) -> None:
    with catalog.transaction() as conn:
        conn.execute(
            update(t.audit_events)
            .where(t.audit_events.c.id <= 4)
            .values(at=datetime.now(UTC) - timedelta(days=30))
        )
    assert [e.seq for e in list_events(catalog, since=parse_since("7d"))] == [5, 6, 7, 8, 9, 10]
    assert len(list_events(catalog, since=parse_since("2000-01-01"), limit=100)) == 10


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_audit_lists_and_verify_exits_1_on_tampering(mesh_dir: Path) -> None:
    m = ("-C", str(mesh_dir))
    assert run(*m, "principal", "add", "dana@company.com").returncode == 0
    assert run(*m, "grant", "read", "sales.orders", "dana@company.com").returncode == 0
    listed = run(*m, "audit", "--since", "1h", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [e["action"] for e in json.loads(listed.stdout)] == ["principal.add", "grant"]
    ok = run(*m, "audit", "verify")
    assert ok.returncode == 0 and "2 entries" in ok.stdout
    with tessera.open(mesh_dir) as mesh, mesh.ctx.catalog.transaction() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = 1"))
    bad = run(*m, "audit", "verify")
    assert bad.returncode == 1
    assert "entry 1: its hash does not match its contents" in bad.stderr
    assert "Traceback" not in bad.stderr
    wrong = run(*m, "audit", "--since", "yesterday-ish")
    assert wrong.returncode == 1 and "is not a date" in wrong.stderr
