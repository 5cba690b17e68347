"""Rejected tokens in the audit log, counted rather than written one by one, so unauthenticated traffic cannot
grow the catalog without bound.

Outside a server (the CLI, the SDK) a rejected token is one audit entry, as it always was: ``{"reason": ...}``
with the token id as subject. A server counts the rejections of each client address per minute in memory
(``RejectionLog``) and appends one entry per source, action and minute — subject the client address, details
``{"count", "minute", "reasons": {reason: n}, "tokens": [first few ids]}`` — when that minute is over, when the
audit log is read through the server, and when the server stops. The log stays append-only and hash-chained
(``tessera audit verify``); the cost is that a server killed outright loses at most its last minute of counts.
A token's secret is never written, only its id."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tessera.catalog import Catalog, append_audit

__all__ = ["RejectionLog", "from_source", "record_rejection"]

#: The most token ids one aggregate entry names.
_TOKENS_KEPT = 5


@dataclass
class _Bucket:
    count: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)


def _minute(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%MZ")


class RejectionLog:
    """A server's rejected-token counts per (action, source, minute), written to ``catalog``'s audit log as one
    entry each (see the module's docstring)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def add(self, action: str, source: str, token_id: str, reason: str) -> None:
        """Count one rejection; the entries of minutes already over are written now."""
        minute = _minute()
        with self._lock:
            bucket = self._buckets.setdefault((action, source, minute), _Bucket())
            bucket.count += 1
            bucket.reasons[reason] = bucket.reasons.get(reason, 0) + 1
            if len(bucket.tokens) < _TOKENS_KEPT and token_id not in bucket.tokens:
                bucket.tokens.append(token_id)
            stale = any(key[2] != minute for key in self._buckets)
        if stale:
            self.flush(before=minute)

    def flush(self, before: str | None = None) -> int:
        """Write the counts of every minute (or of minutes before ``before``) as entries; how many."""
        with self._lock:
            keys = [k for k in self._buckets if before is None or k[2] < before]
            taken = [(k, self._buckets.pop(k)) for k in sorted(keys, key=lambda k: (k[2], k[0], k[1]))]
        if taken:
            with self.catalog.transaction() as conn:
                for (action, source, minute), bucket in taken:
                    details = {
                        "count": bucket.count,
                        "minute": minute,
                        "reasons": dict(sorted(bucket.reasons.items())),
                        "tokens": bucket.tokens,
                    }
                    append_audit(conn, "anonymous", action, source, details)
        return len(taken)

    def pending(self) -> int:
        """Rejections counted and not yet written."""
        with self._lock:
            return sum(b.count for b in self._buckets.values())


_SOURCE: ContextVar[tuple[RejectionLog, str] | None] = ContextVar("tessera_rejection_source", default=None)


@contextmanager
def from_source(log: RejectionLog, source: str) -> Iterator[None]:
    """Within the block (one request, and the worker threads it starts), rejections count into ``log`` as coming
    from ``source`` (the client's address)."""
    reset = _SOURCE.set((log, source))
    try:
        yield
    finally:
        _SOURCE.reset(reset)


def record_rejection(catalog: Catalog, action: str, token_id: str, reason: str) -> None:
    """Audit one rejected token: counted into the current request's log when a server is serving one, else one
    entry at once (``{"reason": reason}``, subject the token id)."""
    current = _SOURCE.get()
    if current is not None and current[0].catalog is catalog:
        current[0].add(action, current[1], token_id, reason)
        return
    with catalog.transaction() as conn:
        append_audit(conn, "anonymous", action, token_id, {"reason": reason})
