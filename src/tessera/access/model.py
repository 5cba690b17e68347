"""The nouns of access control, shared by the grant store, the secure query path and the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = ["PRIVILEGES", "ROLE_PRIVILEGES", "Grant", "Principal", "ReadAccess"]

Privilege = Literal["read", "publish", "admin"]
PRIVILEGES: tuple[Privilege, ...] = ("read", "publish", "admin")

#: What each ownership role (the seed's model, plus consumer) may do on the product it holds, and whether it
#: sees sensitive columns unmasked.
ROLE_PRIVILEGES: dict[str, tuple[Privilege, bool]] = {
    "product owner": ("admin", True),
    "technical lead": ("publish", True),
    "data steward": ("read", True),
    "consumer": ("read", False),
}


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    kind: Literal["user", "service", "group"]
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


@dataclass(frozen=True, slots=True)
class ReadAccess:
    """What one principal may see of one product: every column when ``clearance``, else sensitive columns
    masked; rows limited by the OR of ``row_filters`` (none: every row)."""

    address: str
    clearance: bool = False
    row_filters: tuple[str, ...] = field(default_factory=tuple)
