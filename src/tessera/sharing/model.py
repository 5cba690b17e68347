"""The nouns of Delta Sharing: a share, the tables it holds, a recipient; and the protocol's error."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from tessera.errors import TesseraError

__all__ = [
    "ErrorCode",
    "Recipient",
    "Share",
    "SharedTable",
    "SharingError",
    "check_name",
]

ErrorCode = Literal[
    "INVALID_PARAMETER_VALUE",
    "MALFORMED_REQUEST",
    "UNAUTHENTICATED",
    "PERMISSION_DENIED",
    "RESOURCE_DOES_NOT_EXIST",
    "UNSUPPORTED_OPERATION",
    "INTERNAL_ERROR",
]

_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,127}$")


class SharingError(TesseraError):
    """A Delta Sharing request that cannot be answered: ``code`` and the message are what the protocol's
    ``{"errorCode", "message"}`` reply carries; the HTTP status that goes with the code is the server's affair
    (``server/sharing.py``)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        self.code: ErrorCode = code
        super().__init__(message)


def check_name(kind: str, name: str) -> str:
    """Share, schema, table and recipient names: lower-case letters, digits, ``_`` and ``-`` (the protocol
    compares them case-insensitively, so they are stored lower case)."""
    value = name.strip().lower()
    if not _NAME.match(value):
        raise TesseraError(
            f"{name!r} cannot name a {kind}: start with a letter; use letters, digits, _ and - (128 at most)"
        )
    return value


@dataclass(frozen=True, slots=True)
class Share:
    name: str
    id: str
    comment: str | None
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class SharedTable:
    """A product in a share: served as ``share.schema.table``, from ``major``'s Delta table (None: newest)."""

    share: str
    schema: str
    name: str
    id: str
    address: str
    major: int | None

    @property
    def label(self) -> str:
        pinned = f"@{self.major}" if self.major is not None else ""
        return f"{self.share}.{self.schema}.{self.name} ({self.address}{pinned})"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who reads shares with a bearer token. ``principal``: whose grants (clearance, row filters) decide what
    it sees; None: no clearance, every sensitive column masked, no row filter."""

    name: str
    principal: str | None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    token_id: str | None = None
    token_issued_at: datetime | None = None
    last_used_at: datetime | None = None

    def state(self, now: datetime) -> Literal["active", "expired", "revoked"]:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at is not None and self.expires_at <= now else "active"
