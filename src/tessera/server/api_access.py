"""Access over HTTP: grants, access requests and the audit log. Changes always need a token (``identified``);
what each principal may do is ``tessera.platform.governing.access``'s rule (admins grant and decide; anyone identified
asks for access and sees their own)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from tessera.platform.governing.access import Access
from tessera.server.deps import state
from tessera.server.params import ERRORS, PREFIX, Identified

__all__ = ["ApproveBody", "GrantBody", "RejectBody", "RequestBody", "router"]

router = APIRouter(prefix=PREFIX, tags=["access"], responses=ERRORS)

#: A grant's or request's number: what the catalog's integer keys hold.
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
_ADDRESS = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"
_SCOPE = r"^(mesh|domain:[a-z][a-z0-9_]*|[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GrantBody(_Body):
    privilege: str = Field(
        min_length=1,
        max_length=64,
        description="read, publish, admin, or a role (product-owner, consumer, ...)",
    )
    scope: str = Field(pattern=_SCOPE, max_length=300, description="mesh, domain:NAME or a product address")
    principal: str = Field(min_length=1, max_length=256)
    row_filter: str | None = Field(default=None, max_length=4000)
    clearance: bool = False
    expires_days: int | None = Field(default=None, ge=1, le=36500)


class RequestBody(_Body):
    product: str = Field(pattern=_ADDRESS, max_length=300)
    purpose: str = Field(min_length=1, max_length=2000)
    principal: str | None = Field(default=None, max_length=256, description="on behalf of (admins)")


class ApproveBody(_Body):
    expires_days: int | None = Field(default=None, ge=1, le=36500)
    row_filter: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(default=None, max_length=2000)


class RejectBody(_Body):
    reason: str | None = Field(default=None, max_length=2000)


def _plain(item: Any) -> dict[str, Any]:
    return asdict(item)


@router.get("/grants", summary="Grants: your own; a scope's with admin on it; all with admin on the mesh")
def grants(
    ctx: Identified,
    principal: Annotated[str | None, Query(max_length=256)] = None,
    scope: Annotated[str | None, Query(pattern=_SCOPE, max_length=300)] = None,
    all: bool = False,
) -> list[dict[str, Any]]:
    found = Access(ctx).grants(principal=principal, scope=scope, include_inactive=all)
    return [_plain(g) for g in found]


@router.post("/grants", status_code=201, summary="Grant a privilege (admin on the scope)")
def create_grant(body: GrantBody, ctx: Identified) -> dict[str, Any]:
    grant, created = Access(ctx).grant(
        body.privilege,
        body.scope,
        body.principal,
        row_filter=body.row_filter,
        clearance=body.clearance,
        expires_days=body.expires_days,
    )
    return {**_plain(grant), "created": created}


@router.delete("/grants/{grant_id}", summary="Revoke a grant (admin on its scope)")
def revoke_grant(grant_id: Id, ctx: Identified) -> dict[str, Any]:
    return _plain(Access(ctx).revoke(grant_id))


@router.get("/access-requests", summary="Requests you made or may decide")
def requests(
    ctx: Identified,
    status: Literal["pending", "approved", "rejected", "all"] = "pending",
    product: Annotated[str | None, Query(pattern=_ADDRESS, max_length=300)] = None,
) -> list[dict[str, Any]]:
    return [_plain(r) for r in Access(ctx).requests(status, product)]


@router.post("/access-requests", status_code=201, summary="Ask for read on a product, with a purpose")
def request_access(body: RequestBody, ctx: Identified) -> dict[str, Any]:
    request, created = Access(ctx).request_access(body.product, body.purpose, body.principal)
    return {**_plain(request), "created": created}


@router.post("/access-requests/{request_id}/approve", summary="Approve (an owner or admin of the product)")
def approve(request_id: Id, ctx: Identified, body: ApproveBody | None = None) -> dict[str, Any]:
    body = body or ApproveBody()
    request, grant = Access(ctx).approve(
        request_id, expires_days=body.expires_days, row_filter=body.row_filter, reason=body.reason
    )
    return {"request": _plain(request), "grant": _plain(grant)}


@router.post("/access-requests/{request_id}/reject", summary="Reject (an owner or admin of the product)")
def reject(request_id: Id, ctx: Identified, body: RejectBody | None = None) -> dict[str, Any]:
    return _plain(Access(ctx).reject(request_id, (body or RejectBody()).reason))


@router.get("/audit", summary="The newest audit entries (audit right on the mesh)")
def audit(
    request: Request,
    ctx: Identified,
    since: Annotated[str | None, Query(max_length=64, description="ISO date/time, or 7d / 12h ago")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict[str, Any]]:
    state(request).rejections.flush()  # rejected-token counts so far, so the answer is up to date
    return [e.as_dict() for e in Access(ctx).audit(since, limit)]


@router.get("/audit/verify", summary="Recompute the audit chain (audit right on the mesh)")
def verify(request: Request, ctx: Identified) -> dict[str, Any]:
    state(request).rejections.flush()
    report = Access(ctx).verify_audit()
    return {
        "ok": report.ok,
        "entries": report.entries,
        "first_bad": report.first_bad,
        "summary": report.summary(),
    }
