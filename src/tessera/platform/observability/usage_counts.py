"""Usage figures a server keeps between requests, fresh without rereading the audit log each time.

The audit log is not a catalog view (docs/architecture.md, "Caches of the catalog": every read writes it, so
the catalog's generation leaves it out), so these keep their own freshness:

- ``UsageTotals``: every product's reads, queries and rows since the log began, for ``/metrics``. Audit entries
  are appended one at a time in id order, so each scrape reads only the entries after the last one it counted
  (one index lookup when nothing happened): exact, and cheap at any size of log.
- ``Popularity``: each product's reads + queries over the last 28 days, for "most used" ordering; recounted
  when the log has grown and the last count is older than ``ttl`` seconds (a few seconds' lag, never a day's)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from tessera.catalog.store import Catalog
from tessera.catalog.usage import newest_audit_id, totals

__all__ = ["Popularity", "UsageTotals"]

POPULAR_DAYS = 28


class UsageTotals:
    """Per product: ``(reads, queries, rows)`` since the audit log began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen = 0
        self._totals: dict[str, list[int]] = {}

    def current(self, catalog: Catalog) -> dict[str, tuple[int, int, int]]:
        with self._lock:
            newest = newest_audit_id(catalog)
            if newest > self._seen:
                for address, added in totals(catalog, after_id=self._seen, upto_id=newest).items():
                    found = self._totals.setdefault(address, [0, 0, 0])
                    for n, value in enumerate(added):
                        found[n] += value
                self._seen = newest
            return {k: (v[0], v[1], v[2]) for k, v in self._totals.items()}


class Popularity:
    """Reads + queries per product over the last ``POPULAR_DAYS`` days."""

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._counted_at = float("-inf")
        self._seen = -1
        self._day = ""
        self._uses: dict[str, int] = {}

    def current(self, catalog: Catalog) -> dict[str, int]:
        with self._lock:
            today = datetime.now(UTC).date().isoformat()
            if today == self._day and time.monotonic() - self._counted_at < self.ttl:
                return self._uses
            newest = newest_audit_id(catalog)
            if newest == self._seen and today == self._day:
                self._counted_at = time.monotonic()
                return self._uses
            since = datetime.now(UTC) - timedelta(days=POPULAR_DAYS)
            counted = {
                address: reads + queries for address, (reads, queries, _) in totals(catalog, since).items()
            }
            self._uses, self._seen, self._day = counted, newest, today
            self._counted_at = time.monotonic()
            return counted
