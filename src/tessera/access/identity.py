"""Who can act: principals (users, service principals, groups), group membership, and API tokens.

Every change appends an audit entry in the same transaction. Tokens are ``tsk_<id>_<secret>``: the secret is
random (``secrets.token_urlsafe``), shown once, and only its SHA-256 is stored; a check compares in constant
time. A rejected token is audited by its id alone, never its secret.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from tessera.access.model import LOCAL, PRINCIPAL_KINDS, Principal, PrincipalKind, Token
from tessera.access.rejections import record_rejection
from tessera.catalog import Catalog, append_audit, utc
from tessera.catalog.dialect import lock_audit
from tessera.catalog.principals import (
    delete_member,
    delete_principal,
    holds_anything,
    insert_member,
    insert_principal,
    memberships,
    principal_names,
    principal_row,
    principal_rows,
    retype_principal,
)
from tessera.catalog.tokens import (
    insert_token,
    mark_token_revoked,
    mark_token_used,
    token_ids,
    token_row,
    token_rows,
)
from tessera.errors import AuthenticationError, NotFoundError, TesseraError

__all__ = [
    "DEFAULT_TOKEN_DAYS",
    "add_member",
    "add_principal",
    "authenticate",
    "create_token",
    "declare_principal",
    "get_principal",
    "groups_of",
    "is_principal_name",
    "list_members",
    "list_principals",
    "list_tokens",
    "remove_member",
    "remove_principal",
    "revoke_token",
    "token_owner",
    "unknown_principal",
]

DEFAULT_TOKEN_DAYS = 90
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+\-]{0,255}$")
#: ``created_by`` of a principal ``apply`` made because a mesh file names it (then ``apply:<actor>``).
_FROM_FILES = "apply:"
_TOKEN = re.compile(r"^tsk_([0-9a-f]{16})_([A-Za-z0-9_\-]{20,})$")


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def unknown_principal(name: str, known: Iterable[str]) -> NotFoundError:
    """The error for a principal no one declared, with the closest known names."""
    names = sorted(set(known))
    local = name.lower().split("@")[0]
    close = [n for n in names if n.lower().split("@")[0] == local or n.lower().startswith(name.lower())][:3]
    close = close or difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return NotFoundError(
        f"unknown principal {name!r}{hint} (add it with `tessera principal add {name} --kind user`)"
    )


def _require(conn: Connection, name: str) -> Any:
    row = principal_row(conn, name)
    if row is None:
        raise unknown_principal(name, principal_names(conn))
    return row


def _as_principal(row: Any) -> Principal:
    return Principal(name=row.name, kind=row.kind, display_name=row.display_name)


# -- principals ------------------------------------------------------------------------------------------------


def add_principal(
    catalog: Catalog, name: str, kind: PrincipalKind, actor: str, display_name: str | None = None
) -> Principal:
    """Add a user, service principal or group. Adding one that exists with the same kind changes nothing."""
    if kind not in PRINCIPAL_KINDS:
        raise TesseraError(f"unknown principal kind {kind!r}; expected one of: {', '.join(PRINCIPAL_KINDS)}")
    if not is_principal_name(name):
        raise TesseraError(
            f"{name!r} cannot name a principal: use letters, digits and . _ @ + - (e.g. dana@company.com, "
            f"etl-bot); {LOCAL!r} is reserved for trusted local use"
        )
    with catalog.transaction() as conn:
        row = principal_row(conn, name)
        if row is not None:
            if row.kind == kind:
                return _as_principal(row)
            if not str(row.created_by).startswith(_FROM_FILES) or holds_anything(conn, name):
                raise TesseraError(f"principal {name!r} already exists as a {row.kind}, not a {kind}")
            # a name apply made a user because a file names it (a team mailbox), holding nothing yet: retyped
            retype_principal(conn, name, kind, display_name or row.display_name)
            append_audit(conn, actor, "principal.kind", name, {"from": row.kind, "to": kind})
            return Principal(name, kind, display_name or row.display_name)
        insert_principal(conn, name, kind, display_name, _now(), actor)
        append_audit(conn, actor, "principal.add", name, {"kind": kind, "display_name": display_name})
    return Principal(name, kind, display_name)


def is_principal_name(name: str) -> bool:
    """Whether ``name`` can name a principal (letters, digits and . _ @ + -; not reserved)."""
    return bool(_NAME.match(name)) and name != LOCAL and not name.startswith("tsk_")


def declare_principal(
    conn: Connection, name: str, actor: str, declared_by: str, display_name: str | None = None
) -> bool:
    """Make ``name``, named in a mesh file (``declared_by``: "owner of domain sales"), a user principal unless
    a principal of that name exists; audited in the caller's transaction. Whether it was added."""
    if not is_principal_name(name) or principal_row(conn, name) is not None:
        return False
    insert_principal(conn, name, "user", display_name, _now(), (_FROM_FILES + actor)[:256])
    append_audit(
        conn,
        actor,
        "principal.add",
        name,
        {"kind": "user", "display_name": display_name, "from": declared_by},
    )
    return True


def remove_principal(catalog: Catalog, name: str, actor: str) -> Principal:
    """Remove a principal with its memberships, tokens and grants; the audit entry lists what went with it."""
    with catalog.transaction() as conn:
        row = _require(conn, name)
        # its subscriptions go too, and what was queued for it: a name that is an email address would be mailed
        grant_ids, token_ids, followed = delete_principal(conn, name)
        append_audit(
            conn,
            actor,
            "principal.remove",
            name,
            {"kind": row.kind, "grants": grant_ids, "tokens": token_ids, "subscriptions": followed},
        )
    return _as_principal(row)


def get_principal(catalog: Catalog, name: str) -> Principal:
    with catalog.engine.connect() as conn:
        return _as_principal(_require(conn, name))


def list_principals(catalog: Catalog, kind: PrincipalKind | None = None) -> list[Principal]:
    return [_as_principal(r) for r in principal_rows(catalog, kind)]


# -- groups ----------------------------------------------------------------------------------------------------


def _members(conn: Connection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for group, member in memberships(conn):
        out.setdefault(group, set()).add(member)
    return out


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def add_member(catalog: Catalog, group: str, member: str, actor: str) -> None:
    """Put ``member`` (a user, service or group) in ``group``. Nested groups are fine; a cycle is refused."""
    with catalog.transaction() as conn:
        if _require(conn, group).kind != "group":
            raise TesseraError(
                f"{group!r} is not a group (add one with `tessera principal add NAME --kind group`)"
            )
        _require(conn, member)
        edges = _members(conn)
        if member in edges.get(group, set()):
            return
        if member == group or group in _reachable(edges, member):
            raise TesseraError(
                f"adding {member!r} to {group!r} would make a cycle: {group!r} is already in {member!r}"
            )
        insert_member(conn, group, member)
        append_audit(conn, actor, "group.add", group, {"member": member})


def remove_member(catalog: Catalog, group: str, member: str, actor: str) -> None:
    with catalog.transaction() as conn:
        _require(conn, group)
        gone = delete_member(conn, group, member)
        if not gone:
            raise NotFoundError(f"{member!r} is not a member of {group!r}")
        append_audit(conn, actor, "group.remove", group, {"member": member})


def list_members(catalog: Catalog, group: str) -> list[str]:
    """The direct members of ``group``."""
    with catalog.engine.connect() as conn:
        _require(conn, group)
        return sorted(_members(conn).get(group, set()))


def groups_of(conn: Connection, principal: str) -> set[str]:
    """Every group ``principal`` belongs to, directly or through other groups."""
    parents: dict[str, set[str]] = {}
    for group, members in _members(conn).items():
        for member in members:
            parents.setdefault(member, set()).add(group)
    return _reachable(parents, principal)


# -- tokens ----------------------------------------------------------------------------------------------------


def _as_token(row: Any) -> Token:
    return Token(
        id=row.id,
        principal=row.principal,
        label=row.label,
        created_at=utc(row.created_at) or _now(),
        expires_at=utc(row.expires_at) or _now(),
        revoked_at=utc(row.revoked_at),
        last_used_at=utc(row.last_used_at),
    )


def create_token(
    catalog: Catalog, principal: str, days: int, label: str | None, actor: str
) -> tuple[str, str]:
    """A new token for ``principal``, valid ``days`` days: ``(token_id, token_string)``. The string is shown
    once; only the SHA-256 of its secret is kept."""
    if days < 1:
        raise TesseraError(f"a token lives 1 day or more (got {days})")
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    now = _now()
    with catalog.transaction() as conn:
        _require(conn, principal)
        insert_token(conn, token_id, principal, _digest(secret), label, now, now + timedelta(days=days))
        append_audit(
            conn, actor, "token.create", principal, {"token": token_id, "days": days, "label": label}
        )
    return token_id, f"tsk_{token_id}_{secret}"


#: A token's use is written down (``last_used_at`` and a ``token.use`` audit entry) at most this often.
_USE_RECORDED_EVERY = timedelta(minutes=1)


def _reject(catalog: Catalog, token_id: str, why: str, message: str) -> AuthenticationError:
    record_rejection(catalog, "token.rejected", token_id, why)  # counted per source and minute by a server
    return AuthenticationError(message)


def authenticate(catalog: Catalog, token: str) -> str:
    """The principal a token stands for. An unknown, malformed, expired or revoked token is refused (and the
    refusal audited with the token id only)."""
    match = _TOKEN.match(token.strip())
    if match is None:
        raise _reject(
            catalog,
            "-",
            "malformed",
            "the token is malformed: expected tsk_<id>_<secret> as `token create` printed it",
        )
    token_id, secret = match[1], match[2]
    with catalog.engine.connect() as conn:
        row = token_row(conn, token_id)
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        raise _reject(
            catalog,
            token_id,
            "unknown",
            f"unknown token {token_id}: it was never issued or its secret is wrong",
        )
    now = _now()
    revoked, expires = utc(row.revoked_at), utc(row.expires_at)
    if revoked is not None:
        raise _reject(
            catalog,
            token_id,
            "revoked",
            f"token {token_id} was revoked on {revoked:%Y-%m-%d %H:%M} UTC; create a new one",
        )
    if expires is not None and expires <= now:
        raise _reject(
            catalog,
            token_id,
            "expired",
            f"token {token_id} expired on {expires:%Y-%m-%d %H:%M} UTC; create a new one",
        )
    last = utc(row.last_used_at)
    if last is None or now - last >= _USE_RECORDED_EVERY:  # one entry a token a minute, not one a request
        with catalog.transaction() as conn:
            lock_audit(conn)  # before the token's row, as every catalog write (generation.py): no deadlock
            mark_token_used(conn, token_id, now)
            append_audit(conn, row.principal, "token.use", token_id, {})
    return str(row.principal)


def revoke_token(catalog: Catalog, token_id: str, actor: str) -> Token:
    """Revoke a token (already revoked: nothing changes)."""
    with catalog.transaction() as conn:
        row = token_row(conn, token_id)
        if row is None:
            known = token_ids(conn)
            close = difflib.get_close_matches(token_id, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else " (see `tessera token list`)"
            raise NotFoundError(f"no token {token_id!r}{hint}")
        if row.revoked_at is None:
            lock_audit(conn)  # before the token's row, as every catalog write (generation.py): no deadlock
            mark_token_revoked(conn, token_id, _now())
            append_audit(conn, actor, "token.revoke", row.principal, {"token": token_id})
            row = token_row(conn, token_id)
    return _as_token(row)


def token_owner(catalog: Catalog, token_id: str) -> str | None:
    with catalog.engine.connect() as conn:
        row = token_row(conn, token_id)
    return None if row is None else str(row.principal)


def list_tokens(catalog: Catalog, principal: str | None = None) -> list[Token]:
    """Tokens (newest first) without their secrets or hashes."""
    return [_as_token(r) for r in token_rows(catalog, principal)]
