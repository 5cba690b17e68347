"""The nouns of access control, shared by the grant store, the secure query path and the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = [
    "ACTIONS",
    "LOCAL",
    "PRINCIPAL_KINDS",
    "PRIVILEGES",
    "ROLE_PRIVILEGES",
    "AccessRequest",
    "Action",
    "Decision",
    "Grant",
    "Principal",
    "PrincipalKind",
    "Privilege",
    "ReadAccess",
    "RequestStatus",
    "Token",
    "implies",
    "role_name",
]

Privilege = Literal["read", "publish", "admin"]
PRIVILEGES: tuple[Privilege, ...] = ("read", "publish", "admin")

PrincipalKind = Literal["user", "service", "group"]
PRINCIPAL_KINDS: tuple[PrincipalKind, ...] = ("user", "service", "group")

#: What a principal may ask to do. ``read``/``publish``/``admin`` need that privilege (or a higher one) on the
#: resource or a scope holding it; ``admin`` covers granting, revoking and deciding access requests there.
#: ``audit`` and ``erase`` need admin on the mesh; ``govern`` admin on the mesh, or data steward / admin of the
#: product.
Action = Literal["read", "publish", "admin", "audit", "govern", "erase"]
ACTIONS: tuple[Action, ...] = ("read", "publish", "admin", "audit", "govern", "erase")

RequestStatus = Literal["pending", "approved", "rejected"]

#: The actor of embedded, single-user use: trusted with everything unless mesh.yaml says ``access.enforce``.
LOCAL = "local"

#: What each ownership role (the seed's model, plus consumer) may do on the product it holds, and whether it
#: sees sensitive columns unmasked.
ROLE_PRIVILEGES: dict[str, tuple[Privilege, bool]] = {
    "product owner": ("admin", True),
    "technical lead": ("publish", True),
    "data steward": ("read", True),
    "consumer": ("read", False),
}


def implies(held: Privilege, wanted: Privilege) -> bool:
    """admin implies publish implies read."""
    return PRIVILEGES.index(held) >= PRIVILEGES.index(wanted)


def role_name(text: str) -> str | None:
    """``product-owner``, ``Product Owner``, ``product_owner`` → ``product owner``; None when not a role."""
    name = " ".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    return name if name in ROLE_PRIVILEGES else None


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    kind: PrincipalKind
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    id: int
    principal: str
    privilege: Privilege
    scope: str  # mesh | domain:NAME | DOMAIN.PRODUCT
    role: str | None = None
    clearance: bool = False
    row_filter: str | None = None
    granted_by: str = ""
    granted_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    request_id: int | None = None

    def live(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def label(self) -> str:
        what = self.role or self.privilege
        return f"grant #{self.id} ({what} on {self.scope} to {self.principal})"


@dataclass(frozen=True, slots=True)
class Token:
    """An API token as listed: never its secret, never the secret's hash."""

    id: str
    principal: str
    label: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def state(self, now: datetime) -> Literal["active", "expired", "revoked"]:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


@dataclass(frozen=True, slots=True)
class AccessRequest:
    id: int
    principal: str
    address: str
    purpose: str
    status: RequestStatus
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    grant_id: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether ``principal`` may do ``action`` on ``resource``: ``reason`` names what allowed it (a grant, a role
    in a mesh file, trusted local mode) or, when refused, what would."""

    principal: str
    action: Action
    resource: str
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True, slots=True)
class ReadAccess:
    """What one principal may see of one product: every column when ``clearance``, else sensitive columns
    masked; rows limited by the OR of ``row_filters`` (none: every row)."""

    address: str
    clearance: bool = False
    row_filters: tuple[str, ...] = field(default_factory=tuple)
