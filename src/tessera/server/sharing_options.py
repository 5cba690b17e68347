"""The body of a Delta Sharing query request (``POST …/query``), checked into ``QueryOptions``: HTTP parsing
belongs to the server, the options to the recipient's reads (docs/architecture.md, "Layers")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tessera.platform.sharing.sharing_reads import QueryOptions, parse_timestamp
from tessera.sharing.model import SharingError

__all__ = ["query_options"]


def query_options(body: Mapping[str, Any]) -> QueryOptions:
    def number(key: str) -> int | None:
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SharingError("INVALID_PARAMETER_VALUE", f"{key} must be a non-negative integer")
        return value

    for key in ("startingVersion", "endingVersion"):
        if body.get(key) is not None:
            raise SharingError(
                "UNSUPPORTED_OPERATION", f"{key}: change data feed is not shared by this server"
            )
    version, stamp = number("version"), body.get("timestamp")
    if version is not None and stamp is not None:
        raise SharingError("INVALID_PARAMETER_VALUE", "give version or timestamp, not both")
    hints = body.get("jsonPredicateHints")
    return QueryOptions(
        version=version,
        timestamp=parse_timestamp(str(stamp), "timestamp") if stamp is not None else None,
        limit_hint=number("limitHint"),
        json_predicate_hints=hints if isinstance(hints, str) else None,
    )
