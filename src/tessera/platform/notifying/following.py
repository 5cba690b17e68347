"""Following products and reading the outbox, as use cases (``Mesh.notifications`` returns one).

A principal follows a product for itself; an admin of the product may make another principal follow it (trusted
local use names the principal). A principal sees its own notifications; an admin of the mesh sees all of them,
delivers on demand and sets anyone's email (a principal may set its own)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tessera import catalog as cat
from tessera.access import grants as grants_
from tessera.catalog import notifications as outbox
from tessera.errors import NotFoundError, TesseraError
from tessera.platform.context import Context
from tessera.platform.notifying.notifications import (
    EVENTS,
    PRIVATE,
    Delivered,
    Event,
    deliver,
    deliver_quietly,
    is_email,
    notify,
)

__all__ = ["Notifications"]


class Notifications:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _who(self, principal: str | None, resource: str, what: str) -> str:
        """The principal acted for: the caller, or another one when the caller is an admin of ``resource``."""
        self.ctx.identify()
        who = principal or (self.ctx.actor if self.ctx.authenticated else None)
        if who is None:
            raise TesseraError(f"say who {what}: --principal NAME (or pass a token)")
        if who != self.ctx.principal:
            self.ctx.authorize("admin", resource)
        return who

    def _is_admin(self) -> bool:
        self.ctx.identify()
        if not self.ctx.authenticated:
            return True
        groups = self.ctx.claimed_groups
        return grants_.authorize(
            self.ctx.catalog, self.ctx.spec, self.ctx.actor, "admin", "mesh", groups=groups
        ).allowed

    def _known(self, principal: str) -> None:
        if not self.ctx.catalog.has_principal(principal) and not is_email(principal):
            raise NotFoundError(
                f"no principal {principal!r}: add it (`tessera principal add {principal}`) or give an email address"
            )

    # -- subscriptions -----------------------------------------------------------------------------------------
    def subscribe(
        self, address: str, events: Sequence[str] = (), principal: str | None = None
    ) -> dict[str, Any]:
        """Follow ``address`` for ``events`` (none: every event but the access ones, which go to their parties)."""
        self.ctx.product(address)
        unknown = [e for e in events if e not in EVENTS]
        if unknown:
            raise TesseraError(f"unknown event {', '.join(map(repr, unknown))}; events: {', '.join(EVENTS)}")
        if private := sorted(set(events) & PRIVATE):
            raise TesseraError(
                f"{', '.join(private)} cannot be followed: an access request goes to the product's owners and its "
                "decision to the requester, never to followers"
            )
        who = self._who(principal, address, "follows")
        self._known(who)
        with self.ctx.catalog.transaction() as conn:
            outbox.subscribe(conn, who, address, sorted(set(events)), self.ctx.actor, datetime.now(UTC))
            cat.append_audit(conn, self.ctx.actor, "subscription.add", address,
                             {"principal": who, "events": sorted(set(events))})  # fmt: skip
        return {"principal": who, "address": address, "events": sorted(set(events))}

    def unsubscribe(self, address: str, principal: str | None = None) -> bool:
        who = self._who(principal, address, "stops following")
        with self.ctx.catalog.transaction() as conn:
            done = outbox.unsubscribe(conn, who, address)
            if done:
                cat.append_audit(conn, self.ctx.actor, "subscription.remove", address, {"principal": who})
            return done

    def subscriptions(self, principal: str | None = None, address: str | None = None) -> list[dict[str, Any]]:
        """A caller's own; anyone's (or everyone's, with no ``principal``) for an admin of the mesh."""
        if not self._is_admin():
            if principal not in (None, self.ctx.actor):
                self.ctx.authorize("admin")
            principal = self.ctx.actor
        return outbox.list_subscriptions(self.ctx.catalog, principal=principal, address=address)

    @staticmethod
    def check_email(email: str) -> None:
        if not is_email(email):
            raise TesseraError(f"{email!r} is not an email address (name@example.com)")

    def set_email(self, principal: str, email: str | None) -> None:
        """Where ``principal``'s notifications by email go (None: nowhere but its name, when that is an address)."""
        if email is not None:
            self.check_email(email)
        self._who(principal, "mesh", "gets the email")
        with self.ctx.catalog.transaction() as conn:
            if not outbox.set_email(conn, principal, email):
                raise NotFoundError(f"no principal {principal!r} (see `tessera principal list`)")
            cat.append_audit(conn, self.ctx.actor, "principal.email", principal, {"email": email})

    # -- the outbox --------------------------------------------------------------------------------------------
    def notifications(
        self, *, address: str | None = None, status: str | None = None, recipient: str | None = None
    ) -> list[dict[str, Any]]:
        """The outbox, newest first: the caller's own rows; every row for an admin of the mesh."""
        channel = None
        if not self._is_admin():
            if recipient not in (None, self.ctx.actor):
                self.ctx.authorize("admin")
            recipient, channel = (
                self.ctx.actor,
                "email",
            )  # a chat channel's rows, even of its name, are not its
        return outbox.list_notifications(
            self.ctx.catalog, recipient=recipient, address=address, status=status, channel=channel
        )

    def deliver(self, *, now: datetime | None = None) -> Delivered:
        self.ctx.authorize("admin")
        return deliver(self.ctx, now=now)

    def send(
        self,
        event: Event,
        address: str,
        facts: Mapping[str, Any],
        *,
        recipients: Sequence[str] = (),
        dedup: str | None = None,
    ) -> int:
        """Queue an event raised outside a catalog transaction (e.g. ``slo.burn``), then deliver; admins only."""
        self.ctx.authorize("admin", address)
        with self.ctx.catalog.transaction() as conn:
            queued = notify(self.ctx, conn, event, address, facts, recipients=recipients, dedup=dedup)
        if queued:
            deliver_quietly(self.ctx)
        return queued
