"""Identity and access as use cases: who may manage principals, grants, tokens and requests, and read the audit
log. Each method checks the caller (``ctx.authorize``) and hands over to ``tessera.access`` or
``tessera.governance.audit``. ``Mesh.access`` returns one.

Managing principals and groups, and reading or verifying the audit log, needs admin on the mesh; granting,
revoking and deciding access requests needs admin on the scope or product. A caller may create, list and
revoke their own tokens and list their own grants and requests. Trusted local use may do everything.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection

from tessera.access import grants as grants_
from tessera.access import identity
from tessera.access import requests as requests_
from tessera.access.identity import DEFAULT_TOKEN_DAYS
from tessera.access.model import AccessRequest, Action, Decision, Grant, Principal, PrincipalKind, Token
from tessera.errors import AccessDeniedError, TesseraError
from tessera.governance import audit as audit_log
from tessera.platform.context import Context

__all__ = ["Access"]

Status = Literal["pending", "approved", "rejected", "all"]


class Access:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._queued = 0

    def _admin(self, resource: str = "mesh") -> None:
        self.ctx.authorize("admin", resource)

    def _may(self, action: Literal["admin", "audit"], resource: str = "mesh") -> bool:
        """Whether the caller may, without raising (trusted local use: always)."""
        self.ctx.identify()
        if not self.ctx.authenticated:
            return True
        groups = self.ctx.claimed_groups
        return grants_.authorize(
            self.ctx.catalog, self.ctx.spec, self.ctx.actor, action, resource, groups=groups
        ).allowed

    # -- principals and groups ---------------------------------------------------------------------------------
    def add_principal(
        self, name: str, kind: PrincipalKind = "user", display_name: str | None = None
    ) -> Principal:
        self._admin()
        return identity.add_principal(self.ctx.catalog, name, kind, self.ctx.actor, display_name)

    def remove_principal(self, name: str) -> Principal:
        self._admin()
        return identity.remove_principal(self.ctx.catalog, name, self.ctx.actor)

    def principals(self, kind: PrincipalKind | None = None) -> list[Principal]:
        self.ctx.identify()
        return identity.list_principals(self.ctx.catalog, kind)

    def add_member(self, group: str, member: str) -> None:
        self._admin()
        identity.add_member(self.ctx.catalog, group, member, self.ctx.actor)

    def remove_member(self, group: str, member: str) -> None:
        self._admin()
        identity.remove_member(self.ctx.catalog, group, member, self.ctx.actor)

    def members(self, group: str) -> list[str]:
        self.ctx.identify()
        return identity.list_members(self.ctx.catalog, group)

    # -- grants ------------------------------------------------------------------------------------------------
    def authorize(self, principal: str, action: Action, resource: str = "mesh") -> Decision:
        """May ``principal`` do ``action`` on ``resource``? (A question anyone identified may ask.)"""
        self.ctx.identify()
        groups = self.ctx.groups_of(principal)
        return grants_.authorize(self.ctx.catalog, self.ctx.spec, principal, action, resource, groups=groups)

    def grant(
        self,
        privilege: str,
        scope: str,
        principal: str,
        *,
        row_filter: str | None = None,
        clearance: bool = False,
        expires_days: int | None = None,
    ) -> tuple[Grant, bool]:
        """Grant ``privilege`` (read, publish, admin or a role) on ``scope``: ``(grant, created)``."""
        self._admin(grants_.parse_scope(self.ctx.spec, scope))
        return grants_.grant(
            self.ctx.catalog,
            self.ctx.spec,
            principal,
            privilege,
            scope,
            self.ctx.actor,
            row_filter=row_filter,
            clearance=clearance,
            expires_days=expires_days,
        )

    def revoke(self, grant_id: int) -> Grant:
        found = [g for g in grants_.list_grants(self.ctx.catalog, include_inactive=True) if g.id == grant_id]
        if found:
            self._admin(found[0].scope)
        return grants_.revoke(self.ctx.catalog, grant_id, self.ctx.actor)

    def revoke_matching(self, privilege: str, scope: str, principal: str) -> list[Grant]:
        self._admin(grants_.parse_scope(self.ctx.spec, scope))
        return grants_.revoke_matching(
            self.ctx.catalog, self.ctx.spec, privilege, scope, principal, self.ctx.actor
        )

    def grants(
        self, *, principal: str | None = None, scope: str | None = None, include_inactive: bool = False
    ) -> list[Grant]:
        """Grants: a caller sees their own; all of a scope with admin on it; every grant with admin on the mesh."""
        self.ctx.identify()
        if self.ctx.authenticated and principal != self.ctx.actor:
            self._admin(grants_.parse_scope(self.ctx.spec, scope) if scope else "mesh")
        return grants_.list_grants(
            self.ctx.catalog, principal=principal, scope=scope, include_inactive=include_inactive
        )

    # -- tokens ------------------------------------------------------------------------------------------------
    def create_token(
        self, principal: str | None = None, *, days: int | None = None, label: str | None = None
    ) -> tuple[str, str]:
        """A token for ``principal`` (default: the caller): ``(token_id, token)``; the token is shown once."""
        who = principal or (self.ctx.actor if self.ctx.authenticated else None)
        if who is None:
            raise TesseraError("say whose token it is: `tessera token create PRINCIPAL`")
        if who != self.ctx.principal:
            self._admin()
        if days is not None and days < 1:  # 0 is not "the default": it is refused, never 90 days
            raise TesseraError(f"a token lives 1 day or more (got --days {days})")
        lifetime = (
            days if days is not None else int(self.ctx.settings.access.get("tokenDays") or DEFAULT_TOKEN_DAYS)
        )
        return identity.create_token(self.ctx.catalog, who, lifetime, label, self.ctx.actor)

    def revoke_token(self, token_id: str) -> Token:
        if identity.token_owner(self.ctx.catalog, token_id) != self.ctx.principal:
            self._admin()
        return identity.revoke_token(self.ctx.catalog, token_id, self.ctx.actor)

    def tokens(self) -> list[Token]:
        """Every token with admin on the mesh; else the caller's own."""
        mine = None if self._may("admin") else self.ctx.actor
        return identity.list_tokens(self.ctx.catalog, mine)

    # -- access requests ---------------------------------------------------------------------------------------
    def request_access(
        self, address: str, purpose: str, principal: str | None = None
    ) -> tuple[AccessRequest, bool]:
        """Ask for read on ``address`` as the caller, or on behalf of ``principal`` (an admin of the product)."""
        who = principal or (self.ctx.actor if self.ctx.authenticated else None)
        if who is None:
            raise TesseraError("say who needs the access: --as PRINCIPAL (or pass a token)")
        if who != self.ctx.principal:
            self._admin(address)
        from tessera.platform.notifying import notices

        found = requests_.request_access(
            self.ctx.catalog,
            self.ctx.spec,
            who,
            address,
            purpose,
            self.ctx.actor,
            self._noting(notices.access_requested),
        )
        self._deliver()
        return found

    def requests(self, status: Status = "pending", address: str | None = None) -> list[AccessRequest]:
        """Requests the caller made or may decide (all of them in trusted local use)."""
        found = requests_.list_requests(self.ctx.catalog, status, address=address)
        if self._may("admin"):
            return found
        return [r for r in found if r.principal == self.ctx.actor or self._may("admin", r.address)]

    def approve(
        self,
        request_id: int,
        *,
        expires_days: int | None = None,
        row_filter: str | None = None,
        reason: str | None = None,
    ) -> tuple[AccessRequest, Grant]:
        from tessera.platform.notifying import notices

        self.ctx.identify()
        found = requests_.approve(
            self.ctx.catalog,
            self.ctx.spec,
            request_id,
            self.ctx.principal,
            expires_days=expires_days,
            row_filter=row_filter,
            reason=reason,
            on_record=self._noting(notices.access_decided),
            groups=self.ctx.claimed_groups,
        )
        self._deliver()
        return found

    def reject(self, request_id: int, reason: str | None = None) -> AccessRequest:
        from tessera.platform.notifying import notices

        self.ctx.identify()
        found = requests_.reject(
            self.ctx.catalog,
            self.ctx.spec,
            request_id,
            self.ctx.principal,
            reason,
            on_record=self._noting(notices.access_decided),
            groups=self.ctx.claimed_groups,
        )
        self._deliver()
        return found

    # -- notifications of requests and decisions (platform/notifying/notices.py) -------------------------------------------
    def _noting(self, hook: Callable[[Context, Connection, AccessRequest], int]) -> requests_.Recorded:
        def record(conn: Connection, request: AccessRequest) -> None:
            self._queued += hook(self.ctx, conn, request)

        return record

    def _deliver(self) -> None:
        if self._queued:
            from tessera.platform.notifying.notifications import deliver_quietly

            self._queued = 0
            deliver_quietly(self.ctx)

    def consumers(self, address: str) -> list[str]:
        """Who holds a read grant on ``address``: shown to its owners and mesh admins, as its readers are."""
        from tessera.platform.observability.usage import sees_readers

        self.ctx.identify()
        if not sees_readers(self.ctx, address):
            raise AccessDeniedError(f"who may read {address} is shown to its owners and the mesh's admins")
        return requests_.consumers(self.ctx.catalog, grants_.parse_scope(self.ctx.spec, address))

    # -- audit -------------------------------------------------------------------------------------------------
    def record(self, action: str, subject: str, details: dict[str, Any]) -> None:
        """Append an audit entry by the caller (a data read, a refused request): not a right anyone asks for,
        a record the serving layer keeps."""
        from tessera.catalog import append_audit

        with self.ctx.catalog.transaction() as conn:
            append_audit(conn, self.ctx.actor, action, subject, details)

    def audit(self, since: datetime | str | None = None, limit: int = 100) -> list[audit_log.AuditEvent]:
        """The newest ``limit`` audit entries since a time (``datetime``, ISO text, or ``7d``/``12h``)."""
        self.ctx.authorize("audit")
        when = audit_log.parse_since(since) if isinstance(since, str) else since
        return audit_log.list_events(self.ctx.catalog, when, limit)

    def verify_audit(self) -> audit_log.VerifyReport:
        self.ctx.authorize("audit")
        return audit_log.verify(self.ctx.catalog)
