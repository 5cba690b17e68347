"""Shares, shared tables, recipients and share grants in the catalog. Every change appends an audit entry in
the same transaction.

A recipient's bearer token is ``tds_<id>_<secret>``: the secret is random, shown once (in the profile file),
and only its SHA-256 is stored; issuing a new one replaces the old, which stops working at once. A rejected
token is audited by its id alone, never its secret."""

from __future__ import annotations

import difflib
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from tessera.access.rejections import record_rejection
from tessera.catalog import Catalog, append_audit, utc
from tessera.catalog import sharing as rows
from tessera.errors import NotFoundError, TesseraError
from tessera.sharing.model import Recipient, Share, SharedTable, SharingError
from tessera.spec.bounds import MAX_TEXT_CHARS

__all__ = [
    "add_table",
    "authenticate",
    "create_recipient",
    "create_share",
    "delete_share",
    "get_recipient",
    "get_share",
    "grant",
    "granted_shares",
    "issue_token",
    "list_recipients",
    "list_shares",
    "list_tables",
    "recipient_live",
    "recipients_of",
    "record_read",
    "remove_table",
    "revoke",
    "revoke_recipient",
]

_TOKEN = re.compile(r"^tds_([0-9a-f]{16})_([A-Za-z0-9_\-]{20,})$")


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _missing(kind: str, name: str, known: Iterable[str], hint: str) -> NotFoundError:
    close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
    suggestion = f"; did you mean {', '.join(close)}?" if close else f" ({hint})"
    return NotFoundError(f"no {kind} {name!r}{suggestion}")


def _share(row: Any) -> Share:
    return Share(row.name, row.id, row.comment, utc(row.created_at) or _now(), row.created_by)


def _table(row: Any) -> SharedTable:
    return SharedTable(row.share, row.schema_name, row.table_name, row.id, row.address, row.major)


def _recipient(row: Any) -> Recipient:
    return Recipient(
        name=row.name,
        principal=row.principal,
        created_at=utc(row.created_at) or _now(),
        expires_at=utc(row.expires_at),
        revoked_at=utc(row.revoked_at),
        token_id=row.token_id,
        token_issued_at=utc(row.token_issued_at),
        last_used_at=utc(row.last_used_at),
    )


def _share_row(conn: Connection, name: str) -> Any:
    row = rows.share_row(conn, name)
    if row is None:
        raise _missing("share", name, rows.share_names(conn), "see `tessera share list`")
    return row


def _recipient_row(conn: Connection, name: str) -> Any:
    row = rows.recipient_row(conn, name)
    if row is None:
        raise _missing("recipient", name, rows.recipient_names(conn), "see `tessera share recipient list`")
    return row


# -- shares and their tables -------------------------------------------------------------------------------------


def create_share(catalog: Catalog, name: str, comment: str | None, actor: str) -> tuple[Share, bool]:
    """A new share: ``(share, created)``; one of that name already there is returned unchanged."""
    if comment is not None and len(comment) > MAX_TEXT_CHARS:
        raise TesseraError(
            f"keep the share's comment under {MAX_TEXT_CHARS} characters (it has {len(comment)})"
        )
    with catalog.transaction() as conn:
        row = rows.share_row(conn, name)
        if row is not None:
            return _share(row), False
        share = Share(name, str(uuid.uuid4()), comment, _now(), actor)
        rows.insert_share(
            conn,
            {
                "name": name,
                "id": share.id,
                "comment": comment,
                "created_at": share.created_at,
                "created_by": actor,
            },
        )
        append_audit(conn, actor, "share.create", name, {"id": share.id, "comment": comment})
    return share, True


def delete_share(catalog: Catalog, name: str, actor: str) -> Share:
    """Delete a share with its tables and grants (the audit entry lists them)."""
    with catalog.transaction() as conn:
        row = _share_row(conn, name)
        tables, recipients = rows.delete_share_rows(conn, name)
        append_audit(conn, actor, "share.delete", name, {"tables": tables, "recipients": sorted(recipients)})
    return _share(row)


def get_share(catalog: Catalog, name: str) -> Share:
    with catalog.engine.connect() as conn:
        return _share(_share_row(conn, name))


def list_shares(catalog: Catalog) -> list[Share]:
    with catalog.engine.connect() as conn:
        return [_share(r) for r in rows.share_rows(conn)]


def add_table(
    catalog: Catalog, share: str, schema: str, table: str, address: str, major: int | None, actor: str
) -> tuple[SharedTable, bool]:
    """Put a product in a share as ``schema.table``: ``(table, created)``. The same product under the same name
    again changes nothing; a name taken by another product is refused."""
    with catalog.transaction() as conn:
        _share_row(conn, share)
        row = rows.table_row(conn, share, schema, table)
        if row is not None:
            if (row.address, row.major) == (address, major):
                return _table(row), False
            raise TesseraError(
                f"share {share} already has a table {schema}.{table} ({_table(row).label}); remove it first "
                "or pick another name with --as SCHEMA.TABLE"
            )
        added = SharedTable(share, schema, table, str(uuid.uuid4()), address, major)
        rows.insert_table(
            conn,
            {
                "share": share,
                "schema_name": schema,
                "table_name": table,
                "id": added.id,
                "address": address,
                "major": major,
                "added_at": _now(),
                "added_by": actor,
            },
        )
        append_audit(
            conn,
            actor,
            "share.add",
            share,
            {"table": f"{schema}.{table}", "address": address, "major": major},
        )
    return added, True


def list_tables(catalog: Catalog, share: str) -> list[SharedTable]:
    """The tables of a share, ordered by schema and name (the order pages are cut in)."""
    with catalog.engine.connect() as conn:
        return [_table(r) for r in rows.table_rows(conn, share)]


def remove_table(catalog: Catalog, share: str, schema: str, table: str, actor: str) -> SharedTable:
    with catalog.transaction() as conn:
        _share_row(conn, share)
        row = rows.table_row(conn, share, schema, table)
        if row is None:
            known = [f"{r.schema_name}.{r.table_name}" for r in rows.table_rows(conn, share)]
            raise _missing(f"table in share {share}", f"{schema}.{table}", known, "see `tessera share show`")
        rows.delete_table(conn, share, schema, table)
        append_audit(
            conn, actor, "share.remove", share, {"table": f"{schema}.{table}", "address": row.address}
        )
    return _table(row)


# -- recipients and their tokens ---------------------------------------------------------------------------------


def create_recipient(
    catalog: Catalog, name: str, principal: str | None, expires_days: int | None, actor: str
) -> Recipient:
    if expires_days is not None and expires_days < 1:
        raise TesseraError(f"a recipient's access lasts 1 day or more (got --expires-days {expires_days})")
    now = _now()
    expires = now + timedelta(days=expires_days) if expires_days is not None else None
    with catalog.transaction() as conn:
        if rows.recipient_row(conn, name):
            raise TesseraError(
                f"recipient {name!r} already exists; `tessera share profile {name} --endpoint URL` issues "
                "it a new token"
            )
        rows.insert_recipient(
            conn,
            {
                "name": name,
                "principal": principal,
                "created_at": now,
                "created_by": actor,
                "expires_at": expires,
            },
        )
        append_audit(
            conn, actor, "share.recipient.create", name, {"principal": principal, "expires_at": expires}
        )
    return Recipient(name, principal, now, expires)


def get_recipient(catalog: Catalog, name: str) -> Recipient:
    with catalog.engine.connect() as conn:
        return _recipient(_recipient_row(conn, name))


def list_recipients(catalog: Catalog) -> list[Recipient]:
    with catalog.engine.connect() as conn:
        return [_recipient(r) for r in rows.recipient_rows(conn)]


def revoke_recipient(catalog: Catalog, name: str, actor: str) -> Recipient:
    """Revoke a recipient: its token stops working, and so do the file URLs it was given."""
    with catalog.transaction() as conn:
        row = _recipient_row(conn, name)
        if row.revoked_at is None:
            rows.update_recipient(conn, name, {"revoked_at": _now(), "revoked_by": actor})
            append_audit(conn, actor, "share.recipient.revoke", name, {"token": row.token_id})
            row = _recipient_row(conn, name)
    return _recipient(row)


def issue_token(catalog: Catalog, name: str, actor: str) -> tuple[Recipient, str]:
    """A new bearer token for a live recipient (the previous one stops working): ``(recipient, token)``."""
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    now = _now()
    with catalog.transaction() as conn:
        row = _recipient_row(conn, name)
        state = _recipient(row).state(now)
        if state != "active":
            raise TesseraError(
                f"recipient {name} is {state}; create a new recipient (`tessera share recipient create`)"
            )
        rows.update_recipient(
            conn, name, {"token_id": token_id, "secret_hash": _digest(secret), "token_issued_at": now}
        )
        append_audit(conn, actor, "share.token", name, {"token": token_id, "replaces": row.token_id})
        row = _recipient_row(conn, name)
    return _recipient(row), f"tds_{token_id}_{secret}"


def _refuse(catalog: Catalog, token_id: str, why: str, message: str) -> SharingError:
    record_rejection(catalog, "share.token.rejected", token_id, why)  # counted per source and minute
    return SharingError("UNAUTHENTICATED", message)


def authenticate(catalog: Catalog, token: str | None) -> Recipient:
    """The recipient a bearer token stands for; a missing, malformed, unknown, replaced, expired or revoked
    token is refused (401), the refusal audited by token id."""
    if not token:
        raise SharingError("UNAUTHENTICATED", "no bearer token: send the one in your profile file")
    match = _TOKEN.match(token.strip())
    if match is None:
        raise _refuse(
            catalog, "-", "malformed", "the bearer token is malformed: use the profile file as given"
        )
    token_id, secret = match[1], match[2]
    with catalog.engine.connect() as conn:
        row = rows.recipient_by_token(conn, token_id)
    if row is None or not hmac.compare_digest(row.secret_hash or "", _digest(secret)):
        raise _refuse(
            catalog, token_id, "unknown", "unknown bearer token: it was never issued or has been replaced"
        )
    recipient = _recipient(row)
    state = recipient.state(_now())
    if state == "revoked":
        raise _refuse(catalog, token_id, "revoked", f"recipient {recipient.name} was revoked")
    if state == "expired" and recipient.expires_at is not None:
        raise _refuse(
            catalog,
            token_id,
            "expired",
            f"the bearer token expired on {recipient.expires_at:%Y-%m-%d %H:%M} UTC; ask the provider for a "
            "new profile",
        )
    return recipient


def recipient_live(catalog: Catalog, name: str) -> bool:
    """Whether a recipient is neither revoked nor expired now (file URLs stop with their recipient)."""
    with catalog.engine.connect() as conn:
        row = rows.recipient_row(conn, name)
    return row is not None and _recipient(row).state(_now()) == "active"


# -- share grants ------------------------------------------------------------------------------------------------


def grant(catalog: Catalog, share: str, recipient: str, actor: str) -> bool:
    """Let ``recipient`` read ``share``; True when newly granted."""
    with catalog.transaction() as conn:
        _share_row(conn, share)
        _recipient_row(conn, recipient)
        if rows.grant_row(conn, share, recipient) is not None:
            return False
        rows.insert_grant(conn, share, recipient, actor, _now())
        append_audit(conn, actor, "share.grant", share, {"recipient": recipient})
    return True


def revoke(catalog: Catalog, share: str, recipient: str, actor: str) -> None:
    with catalog.transaction() as conn:
        _share_row(conn, share)
        if rows.delete_grant(conn, share, recipient) == 0:
            raise NotFoundError(f"recipient {recipient!r} holds no grant on share {share}")
        append_audit(conn, actor, "share.revoke", share, {"recipient": recipient})


def granted_shares(catalog: Catalog, recipient: str) -> list[Share]:
    """The shares a recipient may read, by name."""
    return [_share(r) for r in rows.granted_share_rows(catalog, recipient)]


def recipients_of(catalog: Catalog, share: str) -> list[str]:
    return rows.recipients_of_share(catalog, share)


def record_read(catalog: Catalog, recipient: str, subject: str, details: dict[str, Any]) -> None:
    """A recipient's read: audited (actor ``recipient:NAME``), and the recipient's last use noted."""
    with catalog.transaction() as conn:
        rows.update_recipient(conn, recipient, {"last_used_at": _now()})
        append_audit(conn, f"recipient:{recipient}", "share.query", subject, details)
