"""Source data of the example mesh, generated deterministically with DuckDB.

Every value is integer arithmetic over a ``range()`` row number, never ``random()``: ``(i * 7919) % n``
spreads keys over customers and ``pick(i, salt, m)`` (a 32-bit multiply-xorshift scramble) picks categories,
independently per salt. So the same scale and ``as_of`` give the same data. Timestamps are anchored to
``as_of``: the newest events are a few minutes before it, so freshness SLAs pass when the mesh is built right
after generation. The sources carry realistic dirt that the example's transforms clean: null and ``'N/A'``
emails and phones, upper-case codes, padded strings, re-sent (duplicate) orders, superseded CRM and invoice
records, anonymous sessions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tessera.errors import ProvisioningError
from tessera.model.sqltext import string_literal

__all__ = ["SOURCE_TABLES", "generate_sources", "source_sizes"]

#: The example's source tables, as (system, table).
SOURCE_TABLES: tuple[tuple[str, str], ...] = (
    ("crm", "customers"),
    ("web_analytics", "sessions"),
    ("support_tickets", "tickets"),
    ("pos", "orders"),
    ("billing", "invoices"),
)
#: Distinct customers, sessions, tickets and orders at scale 1.0, and the least at any scale. Invoices follow
#: the orders (one per completed or refunded order).
_SIZES = {
    "customers": (50_000, 200),
    "sessions": (250_000, 1_000),
    "tickets": (20_000, 100),
    "orders": (200_000, 500),
}

_COUNTRIES = "['DE','FR','GB','US','NL','ES','IT','SE','PL','CA']"
_CURRENCIES = "['EUR','EUR','GBP','USD','EUR','EUR','EUR','SEK','PLN','CAD']"
_TAX_RATES = "[0.19,0.20,0.20,0.07,0.21,0.21,0.22,0.25,0.23,0.13]"
_FIRST = "['Ada','Ben','Chloe','Dev','Elena','Finn','Grace','Hugo','Ines','Jonas','Kira','Liam','Mia','Noah','Olga','Pablo','Quinn','Rosa','Sven','Tara']"
_LAST = "['Adams','Berg','Costa','Dubois','Evans','Fischer','Garcia','Hansen','Ivanova','Jensen','Kowalski','Lopez','Muller','Novak','Olsen','Petit','Quist','Rossi','Smith','Tanaka']"

_PICK = (
    "CREATE TEMP MACRO mix(x) AS (xor(x >> 16, x) * 73244475) % 4294967296;"
    "CREATE TEMP MACRO pick(i, salt, m) AS"
    " xor(mix(mix((i * 2654435761 + salt * 1000003) % 4294967296)) >> 16,"
    " mix(mix((i * 2654435761 + salt * 1000003) % 4294967296))) % m;"
)

_CUSTOMERS = """
WITH base AS (
  SELECT k, {first}[1 + pick(k, 1, 20)] AS first_name, {last}[1 + pick(k, 2, 20)] AS last_name,
         1 + pick(k, 3, 1825) AS days_back
  FROM range(1, {n} + 1) t(k)
), current AS (
  SELECT k, printf('C%07d', k) AS customer_id, first_name, last_name,
    lower(first_name) || '.' || lower(last_name) || k || '@example.com' AS address,
    CASE WHEN k % 50 = 0 THEN NULL WHEN k % 97 = 0 THEN 'N/A'
         WHEN k % 7 = 0 THEN '  ' || upper(address) || ' ' ELSE address END AS email,
    CASE WHEN k % 23 = 0 THEN 'N/A' WHEN k % 41 = 0 THEN ''
         ELSE '+' || [49,33,44,1,31,34,39,46,48,1][1 + pick(k, 4, 10)]
              || CASE WHEN k % 11 = 0 THEN '-' ELSE ' ' END || (100000000 + (k * 7919) % 900000000)
    END AS phone,
    {countries}[1 + pick(k, 4, 10)] AS code,
    CASE WHEN k % 13 = 0 THEN lower(code) ELSE code END AS country,
    CASE WHEN pick(k, 5, 10) < 6 THEN 'consumer' WHEN pick(k, 5, 10) < 9 THEN 'smb' ELSE 'enterprise' END
      AS segment,
    CAST({as_of} AT TIME ZONE 'UTC' AS DATE) - CAST(days_back AS INTEGER) AS signup_date,
    {as_of} - to_seconds(300 + (k * 7919) % ((days_back - 1) * 86400 + 1)) AS updated_at
  FROM base
)
SELECT customer_id, first_name, last_name, email, phone, country,
       CASE WHEN k % 17 = 0 THEN upper(segment) ELSE segment END AS segment, signup_date, updated_at
FROM current
UNION ALL  -- superseded CRM records: an older version of every 40th customer
SELECT customer_id, first_name, last_name, 'old.' || k || '@example.com', 'N/A', country, 'consumer',
       signup_date, updated_at - INTERVAL 30 DAY
FROM current WHERE k % 40 = 0
ORDER BY customer_id, updated_at
"""

_SESSIONS = """
SELECT printf('S%09d', i + 1) AS session_id,
  CASE WHEN i % 5 = 0 THEN NULL WHEN i % 101 = 0 THEN 'N/A'
       ELSE printf('C%07d', 1 + pick(i, 21, {n_customers})) END AS customer_id,
  {as_of} - to_seconds(180 + ({n} - 1 - i) * {step} + (i * 97) % least({step}, 60)) AS started_at,
  CAST(5 + pick(i, 6, 1800) AS INTEGER) AS duration_seconds,
  CAST(1 + pick(i, 7, 25) AS INTEGER) AS page_views,
  CASE WHEN i % 19 = 0 THEN 'Mobile ' ELSE ['desktop','mobile','tablet'][1 + pick(i, 8, 3)] END AS device,
  ['direct','search','social','email','ads'][1 + pick(i, 9, 5)] AS referrer
FROM range({n}) t(i)
ORDER BY i
"""

_TICKETS = """
WITH t AS (
  SELECT i, {as_of} - to_seconds(600 + ({n} - 1 - i) * {step} + (i * 89) % least({step}, 60)) AS opened_at,
    CASE WHEN ({n} - 1 - i) * {step} < 3 * 86400 OR pick(i, 10, 10) = 0 THEN 'open'
         WHEN pick(i, 10, 10) = 1 THEN 'pending' WHEN pick(i, 10, 10) < 6 THEN 'solved' ELSE 'closed'
    END AS status
  FROM range({n}) t(i)
)
SELECT printf('T%08d', i + 1) AS ticket_id, printf('C%07d', 1 + (i * 4999) % {n_customers}) AS customer_id,
  opened_at,
  CASE WHEN status IN ('solved', 'closed')
       THEN least(opened_at + to_seconds(3600 + pick(i, 11, 72 * 3600)), {as_of} - INTERVAL 1 MINUTE) END
    AS closed_at,
  CASE WHEN i % 23 = 0 THEN upper(status) || ' ' ELSE status END AS status,
  ['low','normal','normal','high','urgent'][1 + pick(i, 12, 5)] AS priority,
  ['email','chat','phone'][1 + pick(i, 13, 3)] AS channel,
  CASE WHEN status IN ('solved', 'closed') THEN CAST(1 + pick(i, 14, 5) AS INTEGER) END AS csat
FROM t
ORDER BY i
"""

_ORDERS = """
CREATE TEMP TABLE orders_clean AS
SELECT i, printf('O%08d', i + 1) AS order_id, printf('C%07d', 1 + (i * 7919) % {n_customers}) AS customer_id,
  {as_of} - to_seconds(120 + ({n} - 1 - i) * {step} + (i * 89) % least({step}, 60)) AS order_ts,
  CAST(5 + pick(i, 15, 49500) / 100 AS DECIMAL(10, 2)) AS amount,
  {currencies}[1 + pick(i, 16, 10)] AS currency,
  CASE WHEN pick(i, 17, 20) = 0 THEN 'cancelled' WHEN pick(i, 17, 20) = 1 THEN 'refunded'
       WHEN pick(i, 17, 20) = 2 THEN 'pending' ELSE 'completed' END AS status,
  ['store','web','mobile'][1 + pick(i, 18, 3)] AS channel,
  {countries}[1 + pick(i, 16, 10)] AS country,
  {tax_rates}[1 + pick(i, 16, 10)] AS tax_rate
FROM range({n}) t(i)
"""

_ORDERS_RAW = """
SELECT order_id, customer_id, order_ts,
  CASE WHEN status = 'cancelled' THEN 'N/A' ELSE CAST(amount AS VARCHAR) END AS amount,
  CASE WHEN i % 37 = 0 THEN lower(currency) ELSE currency END AS currency,
  CASE WHEN i % 31 = 0 THEN ' ' || upper(status) ELSE status END AS status,
  CASE WHEN i % 29 = 0 THEN upper(channel) ELSE channel END AS channel,
  country AS store_country, order_ts + INTERVAL 30 SECOND AS ingested_at
FROM orders_clean
UNION ALL  -- re-sent orders: every 100th order arrives twice
SELECT order_id, customer_id, order_ts,
  CASE WHEN status = 'cancelled' THEN 'N/A' ELSE CAST(amount AS VARCHAR) END,
  currency, status, channel, country, order_ts + INTERVAL 90 SECOND
FROM orders_clean WHERE i % 100 = 0
ORDER BY order_id, ingested_at
"""

_INVOICES = """
WITH inv AS (
  SELECT row_number() OVER (ORDER BY order_id) AS n, order_id, customer_id, currency, amount,
    status AS order_status, order_ts + INTERVAL 60 SECOND AS issued_at,
    CAST(round(amount * tax_rate, 2) AS DECIMAL(10, 2)) AS tax
  FROM orders_clean WHERE status IN ('completed', 'refunded')
), s AS (
  SELECT *, CASE WHEN order_status = 'refunded' THEN 'void'
                 WHEN issued_at > {as_of} - INTERVAL 30 DAY THEN 'issued'
                 WHEN pick(n, 20, 17) = 0 THEN 'overdue' ELSE 'paid' END AS status
  FROM inv
), final AS (
  SELECT n, printf('INV-%08d', n) AS invoice_id, order_id, customer_id, issued_at,
    CAST(issued_at AT TIME ZONE 'UTC' AS DATE) + 30 AS due_date, amount, tax, amount + tax AS total, currency,
    status,
    CASE WHEN status = 'paid' THEN issued_at + to_seconds(3600 + pick(n, 19, 20 * 86400)) END AS paid_at
  FROM s
)
SELECT invoice_id, order_id, customer_id, issued_at, due_date, amount, tax, total,
  CASE WHEN n % 43 = 0 THEN lower(currency) ELSE currency END AS currency,
  CASE WHEN n % 19 = 0 THEN upper(status) ELSE status END AS status, paid_at,
  coalesce(paid_at, issued_at) AS updated_at
FROM final
UNION ALL  -- the issued version of every 20th paid invoice, superseded by its payment
SELECT invoice_id, order_id, customer_id, issued_at, due_date, amount, tax, total, currency, 'issued', NULL,
  issued_at
FROM final WHERE status = 'paid' AND n % 20 = 0
ORDER BY invoice_id, updated_at
"""


def source_sizes(scale: float = 1.0) -> dict[str, int]:
    """Distinct customers, sessions, tickets and orders at ``scale``."""
    if not scale > 0:
        raise ProvisioningError(f"scale must be a positive number (1.0 = 250,000 sessions), got {scale}")
    return {table: max(round(count * scale), least) for table, (count, least) in _SIZES.items()}


def generate_sources(root: Path, *, scale: float = 1.0, as_of: datetime | None = None) -> dict[str, int]:
    """(Re)write ``sources/<system>/<table>.parquet`` under ``root``; return the rows of each source address.

    ``as_of`` (default: now in UTC, floored to the minute; a naive value is taken as UTC) anchors every
    timestamp: the newest events are a few minutes before it."""
    import duckdb

    sizes = source_sizes(scale)
    moment = _anchor(as_of)
    literal = f"TIMESTAMPTZ '{moment.isoformat(sep=' ')}'"
    common = {
        "as_of": literal,
        "n_customers": sizes["customers"],
        "countries": _COUNTRIES,
        "currencies": _CURRENCIES,
        "tax_rates": _TAX_RATES,
        "first": _FIRST,
        "last": _LAST,
    }
    spans = {"sessions": 90 * 86400, "tickets": 365 * 86400, "orders": 730 * 86400}

    def sql(template: str, table: str) -> str:
        n = sizes[table]
        return template.format(n=n, step=max(spans.get(table, 0) // n, 1), **common)

    queries = {
        ("crm", "customers"): sql(_CUSTOMERS, "customers"),
        ("web_analytics", "sessions"): sql(_SESSIONS, "sessions"),
        ("support_tickets", "tickets"): sql(_TICKETS, "tickets"),
        ("pos", "orders"): sql(_ORDERS_RAW, "orders"),
        ("billing", "invoices"): sql(_INVOICES, "orders"),
    }
    rows: dict[str, int] = {}
    with duckdb.connect(":memory:") as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(_PICK)
        con.execute(sql(_ORDERS, "orders"))
        for (system, table), query in queries.items():
            target = root / "sources" / system / f"{table}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            path = string_literal(str(target))
            con.execute(f"COPY ({query}) TO {path} (FORMAT parquet, COMPRESSION zstd)")
            [(count,)] = con.execute(f"SELECT count(*) FROM read_parquet({path})").fetchall()
            rows[f"source.{system}.{table}"] = int(count)
    return rows


def _anchor(as_of: datetime | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    if as_of.tzinfo is None:
        return as_of.replace(tzinfo=UTC)
    return as_of.astimezone(UTC)
