"""Grants and the decisions made from them.

A principal holds a privilege on a scope (``mesh``, ``domain:NAME`` or a product address) from three places:
a live grant in the catalog (to it or to a group it is in, directly or through other groups), a role in a
product file (``product owner``, ``technical lead``, ``data steward``, ``consumer``: derived from the mesh
files when a decision is made, never stored), and owning a domain (admin on ``domain:NAME``). admin implies
publish implies read; a scope holds everything inside it. Revoked and expired grants never count; revoking
keeps the grant's row, so the history stays.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from tessera.access.identity import groups_of, unknown_principal
from tessera.access.model import (
    ACTIONS,
    LOCAL,
    PRIVILEGES,
    ROLE_PRIVILEGES,
    Action,
    Decision,
    Grant,
    Privilege,
    ReadAccess,
    implies,
    role_name,
)
from tessera.catalog import Catalog, append_audit, utc
from tessera.catalog.grants import (
    grant_row,
    grant_rows,
    insert_grant_row,
    mark_revoked,
    same_grants,
    set_grant_expiry,
    unrevoked_grants,
)
from tessera.catalog.principals import is_principal, principal_names
from tessera.errors import AccessDeniedError, AuthenticationError, NotFoundError, TesseraError
from tessera.model.product import MeshSpec

__all__ = [
    "Holding",
    "authorize",
    "enforced",
    "grant",
    "holdings",
    "list_grants",
    "parse_privilege",
    "parse_scope",
    "read_access",
    "readable_products",
    "require",
    "revoke",
    "revoke_matching",
]

_ADDRESS = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_ROLE_HINT = ", ".join(r.replace(" ", "-") for r in ROLE_PRIVILEGES)


@dataclass(frozen=True, slots=True)
class Holding:
    """One privilege a principal holds on one scope, and where it comes from (``source``)."""

    privilege: Privilege
    scope: str
    source: str
    role: str | None = None
    clearance: bool = False
    row_filter: str | None = None


def enforced(spec: MeshSpec) -> bool:
    """mesh.yaml ``access: {enforce: true}``: no trusted local use, a token and a grant for everything."""
    return spec.settings.access.get("enforce") is True


def _now() -> datetime:
    return datetime.now(UTC)


def parse_privilege(text: str) -> tuple[Privilege, str | None, bool]:
    """``read``/``publish``/``admin``, or a role → ``(privilege, role, clearance)``."""
    word = text.strip().lower()
    if word in PRIVILEGES:
        return word, None, False
    role = role_name(text)
    if role is None:
        words = [*PRIVILEGES, *(r.replace(" ", "-") for r in ROLE_PRIVILEGES)]
        close = [w for w in words if word and word in w][:1] or difflib.get_close_matches(word, words, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise TesseraError(
            f"unknown privilege or role {text!r}{hint}: expected read, publish, admin, or a role: {_ROLE_HINT}"
        )
    privilege, clearance = ROLE_PRIVILEGES[role]
    return privilege, role, clearance


def _closest(name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    if close:
        return f"did you mean {', '.join(close)}?"
    return f"known: {', '.join(names[:20]) or 'none'}"


def parse_scope(spec: MeshSpec, text: str) -> str:
    """``mesh``, ``domain:NAME`` or a product address, checked against the mesh files."""
    scope = text.strip()
    if scope == "mesh":
        return scope
    if scope.startswith("domain:"):
        name = scope.removeprefix("domain:")
        if spec.domain(name) is None:
            raise NotFoundError(
                f"no domain {name!r} in this mesh; {_closest(name, (d.name for d in spec.domains))}"
            )
        return scope
    if _ADDRESS.match(scope):
        if spec.product(scope) is None:
            raise NotFoundError(
                f"no product {scope!r} in this mesh; {_closest(scope, (p.address for p in spec.products))}"
            )
        return scope
    hint = f" (did you mean domain:{scope}?)" if spec.domain(scope) is not None else ""
    raise TesseraError(
        f"{text!r} is not a scope{hint}: use mesh, domain:NAME or a product address like sales.orders"
    )


def _covers(scope: str, resource: str) -> bool:
    """Does a privilege on ``scope`` reach ``resource`` (itself a scope)?"""
    if scope in ("mesh", resource):
        return True
    return (
        scope.startswith("domain:")
        and _ADDRESS.match(resource) is not None
        and (resource.split(".", maxsplit=1)[0] == scope.removeprefix("domain:"))
    )


def _as_grant(row: Any) -> Grant:
    return Grant(
        id=row.id,
        principal=row.principal,
        privilege=row.privilege,
        scope=row.scope,
        role=row.role,
        clearance=bool(row.clearance),
        row_filter=row.row_filter,
        granted_by=row.granted_by,
        granted_at=utc(row.granted_at),
        expires_at=utc(row.expires_at),
        revoked_at=utc(row.revoked_at),
        revoked_by=row.revoked_by,
        request_id=row.request_id,
    )


def _spec_names(spec: MeshSpec) -> set[str]:
    names = {d.owner for d in spec.domains} | {m.username for d in spec.domains for m in d.members}
    return names | {m.username for p in spec.products for m in p.members}


def holdings(
    conn: Connection, spec: MeshSpec, principal: str, claimed: frozenset[str] = frozenset()
) -> list[Holding]:
    """Everything ``principal`` holds now: live grants (its own and its groups'), roles in product files,
    domains it owns. ``claimed``: Tessera groups an identity provider's token puts it in for this request only
    (with the groups those are in), never stored. Unknown principal (neither in the catalog nor in a mesh
    file): NotFoundError."""
    names = set(principal_names(conn))
    if principal not in names and principal not in _spec_names(spec):
        raise unknown_principal(principal, names | _spec_names(spec))
    groups = groups_of(conn, principal).union(claimed, *(groups_of(conn, g) for g in claimed))
    who = {principal, *groups}

    def via(name: str) -> str:
        return "" if name == principal else f" (through group {name})"

    now, out = _now(), []
    for g in (_as_grant(r) for r in unrevoked_grants(conn, who)):
        if g.live(now):
            out.append(
                Holding(g.privilege, g.scope, g.label + via(g.principal), g.role, g.clearance, g.row_filter)
            )
    for product in spec.products:
        for member in product.members:
            if member.username in who and member.role in ROLE_PRIVILEGES:
                privilege, clearance = ROLE_PRIVILEGES[member.role]
                source = f"{member.role} of {product.address} in its product file{via(member.username)}"
                out.append(Holding(privilege, product.address, source, member.role, clearance))
    for domain in spec.domains:
        if domain.owner in who:
            source = f"owner of domain {domain.name} in its domain file{via(domain.owner)}"
            out.append(Holding("admin", f"domain:{domain.name}", source, "domain owner", True))
    return out


def _resource(spec: MeshSpec, action: str, resource: str) -> str:
    if action not in ACTIONS:
        raise TesseraError(f"unknown action {action!r}; expected one of: {', '.join(ACTIONS)}")
    if action in ("audit", "erase"):
        return "mesh"
    return parse_scope(spec, resource.split("@", maxsplit=1)[0])


def _allows(holding: Holding, action: Action, resource: str) -> bool:
    if action in ("audit", "erase"):
        return holding.privilege == "admin" and holding.scope == "mesh"
    if not _covers(holding.scope, resource):
        return False
    if action == "govern":
        return holding.privilege == "admin" or (
            holding.role == "data steward" and _ADDRESS.match(resource) is not None
        )
    return action in PRIVILEGES and implies(holding.privilege, action)


def _scopes(resource: str) -> str:
    """The scopes that reach ``resource``, as a reader would list them."""
    if _ADDRESS.match(resource):
        return f"{resource}, domain:{resource.split('.', maxsplit=1)[0]} or mesh"
    return f"{resource} or mesh" if resource.startswith("domain:") else "mesh"


def _needed(action: Action, resource: str) -> str:
    """What would allow ``action`` on ``resource``."""
    if action in ("audit", "erase"):
        return "an admin grant on mesh"
    product = _ADDRESS.match(resource) is not None
    if action == "govern":
        return f"an admin grant on {_scopes(resource)}" + (
            " or the data steward role on it" if product else ""
        )
    level = {"read": "a read, publish or admin", "publish": "a publish or admin", "admin": "an admin"}[action]
    needed = f"{level} grant on {_scopes(resource)}"
    if product:
        roles = {
            "read": "any role on it in its product file (consumer, data steward, technical lead, product owner)",
            "publish": "the role technical lead or product owner in its product file",
            "admin": "the role product owner in its product file",
        }
        needed += f", {roles[action]}, or owning the domain"
    elif resource.startswith("domain:"):
        needed += ", or owning the domain"
    return needed


def authorize(
    catalog: Catalog,
    spec: MeshSpec,
    principal: str,
    action: Action,
    resource: str = "mesh",
    *,
    groups: frozenset[str] = frozenset(),
) -> Decision:
    """May ``principal`` do ``action`` on ``resource`` (``mesh``, ``domain:NAME``, a product address)?"""
    target = _resource(spec, action, resource)
    if principal == LOCAL:
        if enforced(spec):
            return Decision(
                principal, action, target, False, "this mesh enforces access control: local use needs a token"
            )
        return Decision(
            principal, action, target, True, "trusted local use (mesh.yaml does not set access.enforce)"
        )
    with catalog.engine.connect() as conn:
        held = holdings(conn, spec, principal, groups)
    for holding in held:
        if _allows(holding, action, target):
            return Decision(principal, action, target, True, holding.source)
    return Decision(principal, action, target, False, f"needs {_needed(action, target)}")


def require(
    catalog: Catalog,
    spec: MeshSpec,
    principal: str,
    action: Action,
    resource: str = "mesh",
    *,
    groups: frozenset[str] = frozenset(),
) -> Decision:
    """``authorize``, raising when refused: AccessDeniedError naming who, what, where and the grant that would
    allow it (AuthenticationError for local use of a mesh that enforces access control)."""
    decision = authorize(catalog, spec, principal, action, resource, groups=groups)
    if decision.allowed:
        return decision
    if principal == LOCAL:
        raise AuthenticationError("this mesh enforces access control: pass --token or set TESSERA_TOKEN")
    target = decision.resource
    doing = {"audit": "read the audit log", "erase": "erase data subjects"}.get(action, f"{action} {target}")
    privilege = action if action in ("read", "publish") else "admin"
    ask = ""
    if action == "read" and _ADDRESS.match(target):
        ask = f"; or ask for it: `tessera access request {target} --purpose ...`"
    raise AccessDeniedError(
        f"{principal} may not {doing}: that {decision.reason}. "
        f"An admin can grant it: `tessera grant {privilege} {target} {principal}`{ask}"
    )


def read_access(
    catalog: Catalog, spec: MeshSpec, principal: str, address: str, *, groups: frozenset[str] = frozenset()
) -> ReadAccess | None:
    """What ``principal`` may read of ``address``: None for nothing; else whether sensitive columns are shown
    (clearance from any applicable grant or role) and the row filters (none when any applicable grant has none:
    every row)."""
    target = parse_scope(spec, address.split("@", maxsplit=1)[0])
    if principal == LOCAL:
        return None if enforced(spec) else ReadAccess(target, clearance=True)
    product = spec.product(target)
    known = {c.name.lower() for c in product.contract.columns} if product else set()
    with catalog.engine.connect() as conn:
        held = [h for h in holdings(conn, spec, principal, groups) if _covers(h.scope, target)]
    from tessera.access.filters import filter_columns  # sqlglot: only reads as a principal parse filters

    # a filter written for a domain or the mesh that names a column this product lacks cannot apply: skip it
    usable = [
        h for h in held if h.row_filter is None or h.scope == target or filter_columns(h.row_filter) <= known
    ]
    if not usable:
        return None
    clearance = any(h.clearance for h in usable)
    if any(h.row_filter is None for h in usable):
        return ReadAccess(target, clearance, ())
    return ReadAccess(target, clearance, tuple(sorted({h.row_filter for h in usable if h.row_filter})))


def readable_products(
    catalog: Catalog, spec: MeshSpec, principal: str, *, groups: frozenset[str] = frozenset()
) -> list[str]:
    """The product addresses some grant or role lets ``principal`` read (row filters aside): the names a
    "did you mean" may offer it, and no others."""
    addresses = [p.address for p in spec.products]
    if principal == LOCAL:
        return [] if enforced(spec) else addresses
    with catalog.engine.connect() as conn:
        held = holdings(conn, spec, principal, groups)
    return [a for a in addresses if any(_allows(h, "read", a) for h in held)]


# -- granting and revoking -------------------------------------------------------------------------------------


def _product_columns(spec: MeshSpec, scope: str) -> dict[str, str] | None:
    product = spec.product(scope) if _ADDRESS.match(scope) else None
    return {c.name: c.logical_type for c in product.contract.columns} if product else None


def insert_grant(
    conn: Connection,
    spec: MeshSpec,
    principal: str,
    privilege: str,
    scope: str,
    actor: str,
    *,
    row_filter: str | None = None,
    clearance: bool = False,
    expires_days: int | None = None,
    request_id: int | None = None,
) -> tuple[Grant, bool]:
    """``grant`` inside the caller's transaction."""
    level, role, role_clearance = parse_privilege(privilege)
    scope = parse_scope(spec, scope)
    if not is_principal(conn, principal):
        raise unknown_principal(principal, [*principal_names(conn), *_spec_names(spec)])
    if expires_days is not None and expires_days < 1:
        raise TesseraError(f"a grant lasts 1 day or more (got --expires {expires_days})")
    if row_filter is not None:
        if level != "read":
            raise TesseraError(
                f"a row filter limits what a read grant shows; {privilege} is not a read grant"
            )
        from tessera.access.filters import validate_row_filter

        row_filter = validate_row_filter(row_filter, _product_columns(spec, scope))
    clearance = clearance or role_clearance
    now = _now()
    expires = now + timedelta(days=expires_days) if expires_days else None
    for existing in (_as_grant(r) for r in same_grants(conn, principal, level, scope)):
        key = (existing.row_filter, existing.role, existing.clearance)
        if existing.live(now) and key == (row_filter, role, clearance):
            later = (
                None if expires is None or existing.expires_at is None else max(expires, existing.expires_at)
            )
            if later != existing.expires_at:
                set_grant_expiry(conn, existing.id, later)
                append_audit(conn, actor, "grant.renew", scope, {"grant": existing.id, "expires_at": later})
                return _as_grant(grant_row(conn, existing.id)), False
            return existing, False
    values = {
        "principal": principal,
        "privilege": level,
        "scope": scope,
        "role": role,
        "clearance": clearance,
        "row_filter": row_filter,
        "granted_by": actor,
        "granted_at": now,
        "expires_at": expires,
        "request_id": request_id,
    }
    grant_id = insert_grant_row(conn, values)
    details = {
        "grant": grant_id,
        **{k: v for k, v in values.items() if k not in ("granted_by", "granted_at")},
    }
    append_audit(conn, actor, "grant", scope, details)
    return _as_grant(grant_row(conn, grant_id)), True


def grant(
    catalog: Catalog,
    spec: MeshSpec,
    principal: str,
    privilege: str,
    scope: str,
    actor: str,
    *,
    row_filter: str | None = None,
    clearance: bool = False,
    expires_days: int | None = None,
) -> tuple[Grant, bool]:
    """Grant ``privilege`` (read, publish, admin, or a role) on ``scope`` to ``principal``: ``(grant, created)``.
    The same live grant again changes nothing (a later expiry renews it)."""
    with catalog.transaction() as conn:
        return insert_grant(
            conn,
            spec,
            principal,
            privilege,
            scope,
            actor,
            row_filter=row_filter,
            clearance=clearance,
            expires_days=expires_days,
        )


def _revoke_row(conn: Connection, grant: Grant, actor: str) -> Grant:
    mark_revoked(conn, grant.id, actor, _now())
    append_audit(
        conn,
        actor,
        "revoke",
        grant.scope,
        {"grant": grant.id, "principal": grant.principal, "privilege": grant.privilege, "role": grant.role},
    )
    return _as_grant(grant_row(conn, grant.id))


def revoke(catalog: Catalog, grant_id: int, actor: str) -> Grant:
    """Revoke one grant by id (the row stays, with who revoked it and when). Already revoked: unchanged."""
    with catalog.transaction() as conn:
        row = grant_row(conn, grant_id)
        if row is None:
            raise NotFoundError(f"no grant #{grant_id} (see `tessera grants --all`)")
        found = _as_grant(row)
        return found if found.revoked_at is not None else _revoke_row(conn, found, actor)


def revoke_matching(
    catalog: Catalog, spec: MeshSpec, privilege: str, scope: str, principal: str, actor: str
) -> list[Grant]:
    """Revoke every live grant of ``privilege`` (or that role) on ``scope`` to ``principal``."""
    level, role, _ = parse_privilege(privilege)
    scope = parse_scope(spec, scope)
    now = _now()
    with catalog.transaction() as conn:
        live = [g for g in (_as_grant(r) for r in unrevoked_grants(conn, [principal])) if g.live(now)]
        hits = [
            g for g in live if g.privilege == level and g.scope == scope and (role is None or g.role == role)
        ]
        if not hits:
            have = "; ".join(f"#{g.id} {g.role or g.privilege} on {g.scope}" for g in live) or "none"
            raise NotFoundError(
                f"{principal} holds no live {privilege} grant on {scope} (live grants: {have})"
            )
        return [_revoke_row(conn, g, actor) for g in hits]


def list_grants(
    catalog: Catalog,
    *,
    principal: str | None = None,
    scope: str | None = None,
    include_inactive: bool = False,
) -> list[Grant]:
    """Grants, oldest first: live ones, or every one ever made with ``include_inactive``."""
    now = _now()
    found = [_as_grant(r) for r in grant_rows(catalog, principal=principal, scope=scope)]
    return found if include_inactive else [g for g in found if g.live(now)]
