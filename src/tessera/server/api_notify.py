"""Following products and the notification outbox over HTTP, for the calling principal (a token is needed:
``identified``). ``PUT`` follows (its body names the events; none: every event), ``DELETE`` stops, ``GET`` says
whether and for what; ``/notifications`` lists the caller's own deliveries (an admin of the mesh: all)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from tessera.errors import NotFoundError
from tessera.platform.notifying.following import Notifications
from tessera.platform.notifying.notifications import Event
from tessera.server.params import ERRORS, PREFIX, DomainName, Identified, ProductName

__all__ = ["SubscriptionBody", "router"]

router = APIRouter(prefix=PREFIX, tags=["notifications"], responses=ERRORS)
_ADDRESS = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class SubscriptionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    events: list[Event] = Field(default_factory=list, max_length=32, description="none: every event")


def _subscription(ctx: Identified, address: str) -> dict[str, Any]:
    found = Notifications(ctx).subscriptions(ctx.actor, address)
    if not found:
        raise NotFoundError(f"{ctx.actor} does not follow {address}")
    row = found[0]
    return {"principal": row["principal"], "address": row["address"], "events": row["events"]}


@router.get(
    "/products/{domain}/{product}/subscription", summary="Whether you follow the product, and for what"
)
def subscription(domain: DomainName, product: ProductName, ctx: Identified) -> dict[str, Any]:
    return _subscription(ctx, f"{domain}.{product}")


@router.put("/products/{domain}/{product}/subscription", summary="Follow the product (for the events given)")
def follow(
    domain: DomainName, product: ProductName, ctx: Identified, body: SubscriptionBody | None = None
) -> dict[str, Any]:
    return Notifications(ctx).subscribe(f"{domain}.{product}", (body or SubscriptionBody()).events)


@router.delete("/products/{domain}/{product}/subscription", summary="Stop following the product")
def unfollow(domain: DomainName, product: ProductName, ctx: Identified) -> dict[str, Any]:
    address = f"{domain}.{product}"
    if not Notifications(ctx).unsubscribe(address):
        raise NotFoundError(f"{ctx.actor} does not follow {address}")
    return {"principal": ctx.actor, "address": address, "following": False}


@router.get("/notifications", summary="Notifications: your own; every one with admin on the mesh")
def notifications(
    ctx: Identified,
    product: Annotated[str | None, Query(pattern=_ADDRESS, max_length=300)] = None,
    status: Literal["queued", "sent", "failed"] | None = None,
) -> list[dict[str, Any]]:
    rows = Notifications(ctx).notifications(address=product, status=status)
    keep = ("id", "event", "address", "recipient", "channel", "target", "subject", "status", "attempts",
            "last_error", "created_at", "sent_at", "next_attempt_at")  # fmt: skip
    return [{k: r[k] for k in keep} for r in rows]
