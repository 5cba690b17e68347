"""A generated mesh of 1,000 or 10,000 SQL products for ``bench_scale`` (issue 3, item 8 "Scale").

    /work/venv/bin/python bench/scale_mesh.py DIR [--products N] [--rows R] [--check] [--reuse]

``--reuse`` keeps a mesh DIR already holds when it was generated with the same products, rows and seed (a
``.generated`` file written last says so); ``reused_scale_mesh`` does the same under ``bench/.data/``, keyed by
size, so a bench pays the 10,000-product generation (~30 s) once.

Ten domains; each owns a source system whose ``events`` table is a small generated Parquet file (re-sent
duplicates, untyped amounts, messy codes). One root product per domain types and deduplicates it; every other
product reads one to three earlier products (a DAG, about 40% of the inputs from another domain) with one of
nine SQL shapes over three table families:

* events  (event_id, customer_id, event_ts, amount, status, country)
* customers (customer_id, events, amount, last_ts, tier)
* daily   (day, country, events, amount, rolling_amount)

The shapes use joins, CTEs, aggregates with FILTER, CASE, window functions, QUALIFY, UNION ALL, a scalar
subquery and ``SELECT *``; each product's ODCS contract lists exactly the columns its SQL returns.

A *spine* of products right after the roots forms a long cross-domain chain (the ``spine`` list returned by
``make_scale_mesh``); building ``+`` every spine product builds it and the few roots it reads, and nothing else.
``--check`` runs every transform in DuckDB over the generated sources (no Tessera involved) and compares the
columns with the contracts.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeDumper as _Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]

DOMAINS = (
    "sales",
    "marketing",
    "finance",
    "logistics",
    "support",
    "web",
    "risk",
    "inventory",
    "partners",
    "loyalty",
)
CUSTOMERS = 1_000
STATUSES = ("DONE", "PENDING", "CANCELLED", "PRIORITY")
TIERS = ("GOLD", "SILVER", "BRONZE", "DORMANT")

# ---------------------------------------------------------------- contracts of the three families


def _col(name: str, logical: str, physical: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "logicalType": logical}
    if physical:
        out["physicalType"] = physical
    out.update(extra)
    return out


FAMILIES: dict[str, list[dict[str, Any]]] = {
    "events": [
        _col("event_id", "integer", "bigint", required=True, unique=True, description="Event identifier"),
        _col("customer_id", "integer", "bigint", required=True),
        _col("event_ts", "timestamp", required=True),
        _col("amount", "number", "decimal(12,2)", logicalTypeOptions={"minimum": 0}),
        _col(
            "status",
            "string",
            quality=[{"metric": "invalidValues", "mustBe": 0, "arguments": {"validValues": list(STATUSES)}}],
        ),
        _col("country", "string"),
    ],
    "customers": [
        _col("customer_id", "integer", "bigint", required=True, primaryKey=True, unique=True),
        _col("events", "integer", "bigint", required=True, logicalTypeOptions={"minimum": 0}),
        _col("amount", "number", "decimal(14,2)"),
        _col("last_ts", "timestamp"),
        _col("tier", "string", enum=[{"value": t} for t in TIERS]),
    ],
    "daily": [
        _col("day", "date", required=True, primaryKey=True, primaryKeyPosition=1),
        _col("country", "string", required=True, primaryKey=True, primaryKeyPosition=2),
        _col("events", "integer", "bigint", required=True),
        _col("amount", "number", "decimal(16,2)"),
        _col("rolling_amount", "number", "decimal(18,2)"),
    ],
}
TABLE_RULES: dict[str, list[dict[str, Any]]] = {
    "events": [{"metric": "rowCount", "mustBeGreaterThan": 0}],
    "customers": [{"metric": "rowCount", "mustBeGreaterThan": 0}],
    "daily": [
        {"metric": "rowCount", "mustBeGreaterThan": 0},
        {"metric": "duplicateValues", "mustBe": 0, "arguments": {"properties": ["day", "country"]}},
    ],
}

# ---------------------------------------------------------------- SQL shapes


def _root(name: str, system: str) -> str:
    return f"""-- {name}: typed {system} events; re-sent duplicates removed (latest ingest wins), codes normalised,
-- the 'N/A' amount of cancelled events becomes 0.00.
SELECT
    event_id,
    customer_id,
    event_ts,
    coalesce(try_cast(nullif(trim(amount), 'N/A') AS DECIMAL(12, 2)), 0.00) AS amount,
    upper(trim(status)) AS status,
    upper(trim(country)) AS country
FROM source.{system}.events
WHERE event_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ingested_at DESC) = 1
"""


_FILTERS = (
    ("the events that were not cancelled", "status <> 'CANCELLED'"),
    ("the events with an amount", "amount >= 1"),
    ("the events of the core markets", "country IN ('DE', 'FR', 'US', 'GB', 'NL')"),
    ("the events since the start of the year", "event_ts >= TIMESTAMPTZ '2024-01-01 00:00:00+00'"),
)


def filter_events(name: str, e: str, rng: random.Random) -> str:
    what, where = rng.choice(_FILTERS)
    return f"""-- {name}: {what}, from {e}.
SELECT *
FROM {e}
WHERE {where}
"""


def union_events(name: str, parts: list[str], rng: random.Random) -> str:
    branches = "\n    UNION ALL\n".join(f"    SELECT * FROM {p}" for p in parts)
    return f"""-- {name}: the events of {", ".join(parts)} in one table, each event once (the latest wins).
WITH unioned AS (
{branches}
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY event_id ORDER BY event_ts DESC, amount DESC) AS rn
    FROM unioned
)
SELECT event_id, customer_id, event_ts, amount, status, country
FROM ranked
WHERE rn = 1
"""


def enrich_events(name: str, e: str, c: str, rng: random.Random) -> str:
    return f"""-- {name}: events of {e}; pending events of gold customers (tier from {c}) are prioritised.
SELECT
    e.event_id,
    e.customer_id,
    e.event_ts,
    e.amount,
    CASE
        WHEN c.tier = 'GOLD' AND e.status = 'PENDING' THEN 'PRIORITY'
        ELSE e.status
    END AS status,
    e.country
FROM {e} AS e
LEFT JOIN {c} AS c ON c.customer_id = e.customer_id
"""


def customer_summary(name: str, e: str, rng: random.Random) -> str:
    gold, silver = rng.choice(((2000, 500), (1500, 400), (3000, 800)))
    return f"""-- {name}: per customer: events, completed amount, last activity and tier, from {e}.
WITH per_customer AS (
    SELECT
        customer_id,
        count(*) AS events,
        sum(amount) FILTER (WHERE status IN ('DONE', 'PRIORITY')) AS amount,
        max(event_ts) AS last_ts
    FROM {e}
    GROUP BY customer_id
)
SELECT
    customer_id,
    events,
    CAST(coalesce(amount, 0) AS DECIMAL(14, 2)) AS amount,
    last_ts,
    CASE
        WHEN amount >= {gold} THEN 'GOLD'
        WHEN amount >= {silver} THEN 'SILVER'
        ELSE 'BRONZE'
    END AS tier
FROM per_customer
"""


def customer_activity(name: str, c: str, e: str, rng: random.Random) -> str:
    days = rng.choice((30, 60, 90))
    return f"""-- {name}: customers of {c} with their activity of the last {days} days in {e};
-- customers without any are dormant.
WITH recent AS (
    SELECT
        customer_id,
        count(*) AS events,
        sum(amount) AS amount,
        max(event_ts) AS last_ts
    FROM {e}
    WHERE event_ts >= (SELECT max(event_ts) FROM {e}) - INTERVAL {days} DAY
    GROUP BY ALL
)
SELECT
    c.customer_id,
    c.events + coalesce(r.events, 0) AS events,
    CAST(c.amount + coalesce(r.amount, 0) AS DECIMAL(14, 2)) AS amount,
    greatest(c.last_ts, r.last_ts) AS last_ts,
    CASE WHEN r.customer_id IS NULL THEN 'DORMANT' ELSE c.tier END AS tier
FROM {c} AS c
LEFT JOIN recent AS r ON r.customer_id = c.customer_id
"""


def customer_merge(name: str, parts: list[str], rng: random.Random) -> str:
    branches = "\n    UNION ALL\n".join(f"    SELECT * FROM {p}" for p in parts)
    return f"""-- {name}: the customers of {", ".join(parts)}, one row each; the best tier wins.
WITH all_customers AS (
{branches}
)
SELECT
    customer_id,
    CAST(sum(events) AS BIGINT) AS events,
    CAST(sum(amount) AS DECIMAL(14, 2)) AS amount,
    max(last_ts) AS last_ts,
    CASE
        WHEN bool_or(tier = 'GOLD') THEN 'GOLD'
        WHEN bool_or(tier = 'SILVER') THEN 'SILVER'
        WHEN bool_and(tier = 'DORMANT') THEN 'DORMANT'
        ELSE 'BRONZE'
    END AS tier
FROM all_customers
GROUP BY customer_id
"""


_ROLLING = (
    "CAST(sum(amount) OVER (PARTITION BY country ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW)"
    " AS DECIMAL(18, 2)) AS rolling_amount"
)


def daily_activity(name: str, e: str, rng: random.Random) -> str:
    return f"""-- {name}: events and amount per day and country from {e}, with a 7-day rolling amount.
WITH daily AS (
    SELECT
        CAST(event_ts AT TIME ZONE 'UTC' AS DATE) AS day,
        country,
        count(*) AS events,
        CAST(sum(amount) AS DECIMAL(16, 2)) AS amount
    FROM {e}
    WHERE country IS NOT NULL
    GROUP BY ALL
)
SELECT
    day,
    country,
    events,
    amount,
    {_ROLLING}
FROM daily
"""


def daily_valued(name: str, e: str, c: str, rng: random.Random) -> str:
    return f"""-- {name}: per day and country, the events of {e} from customers that {c} does not count as dormant.
WITH valued AS (
    SELECT
        CAST(e.event_ts AT TIME ZONE 'UTC' AS DATE) AS day,
        e.country,
        e.amount
    FROM {e} AS e
    LEFT JOIN {c} AS c ON c.customer_id = e.customer_id
    WHERE coalesce(c.tier, 'BRONZE') <> 'DORMANT' AND e.country IS NOT NULL
),
daily AS (
    SELECT day, country, count(*) AS events, CAST(sum(amount) AS DECIMAL(16, 2)) AS amount
    FROM valued
    GROUP BY day, country
)
SELECT
    *,
    {_ROLLING}
FROM daily
"""


def daily_merge(name: str, parts: list[str], rng: random.Random) -> str:
    branches = "\n    UNION ALL\n".join(f"    SELECT day, country, events, amount FROM {p}" for p in parts)
    return f"""-- {name}: the daily figures of {", ".join(parts)} added up, with a 7-day rolling amount.
WITH combined AS (
{branches}
),
totals AS (
    SELECT
        day,
        country,
        CAST(sum(events) AS BIGINT) AS events,
        CAST(sum(amount) AS DECIMAL(16, 2)) AS amount
    FROM combined
    GROUP BY day, country
)
SELECT
    *,
    {_ROLLING}
FROM totals
"""


@dataclass(frozen=True)
class Shape:
    family: str  # what it returns
    inputs: tuple[str, ...]  # the family of each input; "events+" = 2 or 3 inputs of that family
    prefix: str
    weight: float
    sql: Any


SHAPES: dict[str, Shape] = {
    "filter_events": Shape("events", ("events",), "events_filtered", 0.11, filter_events),
    "union_events": Shape("events", ("events+",), "events_union", 0.12, union_events),
    "enrich_events": Shape("events", ("events", "customers"), "events_enriched", 0.14, enrich_events),
    "customer_summary": Shape("customers", ("events",), "customer_summary", 0.12, customer_summary),
    "customer_activity": Shape(
        "customers", ("customers", "events"), "customer_activity", 0.11, customer_activity
    ),
    "customer_merge": Shape("customers", ("customers+",), "customers_merged", 0.1, customer_merge),
    "daily_activity": Shape("daily", ("events",), "daily_activity", 0.1, daily_activity),
    "daily_valued": Shape("daily", ("events", "customers"), "daily_valued", 0.1, daily_valued),
    "daily_merge": Shape("daily", ("daily+",), "daily_merged", 0.1, daily_merge),
}

# The spine: each step reads the newest spine product of a family ("events", ...), the one before it
# ("customers-") or a root of another domain ("root").
SPINE_BLOCK: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("filter_events", ("events",)),
    ("customer_summary", ("events",)),
    ("enrich_events", ("events", "customers")),
    ("union_events", ("events", "root")),
    ("customer_activity", ("customers", "events")),
    ("daily_activity", ("events",)),
    ("daily_valued", ("events", "customers")),
    ("daily_merge", ("daily", "daily-")),
    ("customer_merge", ("customers", "customers-")),
)


@dataclass
class Generated:
    address: str
    domain: str
    name: str
    family: str
    shape: str
    sql: str
    inputs: list[str]
    ordinal: int = 0


@dataclass
class ScaleMesh:
    root: Path
    products: list[Generated] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    spine: list[str] = field(default_factory=list)
    source_columns: dict[str, list[str]] = field(default_factory=dict)

    def by_address(self) -> dict[str, Generated]:
        return {p.address: p for p in self.products}


def _plan(
    products: int, rng: random.Random, spine_blocks: int
) -> tuple[list[Generated], list[str], list[str]]:
    out: list[Generated] = []
    family_of: dict[str, list[str]] = {"events": [], "customers": [], "daily": []}
    by_domain: dict[tuple[str, str], list[str]] = {}
    counter = 0

    def add(domain: str, shape_key: str, family: str, sql_of: Any, inputs: list[str]) -> Generated:
        nonlocal counter
        prefix = "events_typed" if shape_key == "root" else SHAPES[shape_key].prefix
        name = f"{prefix}_{counter:04d}"
        counter += 1
        g = Generated(f"{domain}.{name}", domain, name, family, shape_key, sql_of(name), inputs, counter)
        out.append(g)
        family_of[family].append(g.address)
        by_domain.setdefault((domain, family), []).append(g.address)
        return g

    roots = []
    for domain in DOMAINS:
        system = f"{domain}_app"
        g = add(domain, "root", "events", lambda n, s=system: _root(n, s), [f"source.{system}.events"])
        roots.append(g.address)
    spine: list[str] = [roots[0]]
    newest: dict[str, list[str]] = {"events": [roots[0]], "customers": [], "daily": []}
    other_roots = iter(roots[1:])
    for index in range(spine_blocks * len(SPINE_BLOCK)):
        shape_key, wanted = SPINE_BLOCK[index % len(SPINE_BLOCK)]
        shape = SHAPES[shape_key]
        inputs = []
        for w in wanted:
            if w == "root":
                inputs.append(next(other_roots))
            elif w.endswith("-"):
                inputs.append(newest[w[:-1]][-2])
            else:
                inputs.append(newest[w][-1])
        domain = DOMAINS[(index + 1) % len(DOMAINS)]
        g = add(domain, shape_key, shape.family, _sql_of(shape, inputs, rng), inputs)
        newest[shape.family].append(g.address)
        spine.append(g.address)
    keys = list(SHAPES)
    weights = [SHAPES[k].weight for k in keys]
    while len(out) < products:
        domain = DOMAINS[len(out) % len(DOMAINS)]
        shape_key = rng.choices(keys, weights)[0]
        shape = SHAPES[shape_key]
        inputs = []
        ok = True
        for w in shape.inputs:
            fam = w.rstrip("+")
            count = rng.choice((2, 2, 3)) if w.endswith("+") else 1
            chosen = []
            for _ in range(count):
                local = [a for a in by_domain.get((domain, fam), []) if a not in chosen]
                pool = (
                    local if local and rng.random() < 0.6 else [a for a in family_of[fam] if a not in chosen]
                )
                if not pool:
                    ok = False
                    break
                # prefer recent products a little: deeper chains, as in a mesh that grew over time
                chosen.append(pool[min(len(pool) - 1, int(len(pool) * rng.random() ** 0.7))])
            inputs += chosen
            if not ok:
                break
        if not ok:
            continue
        add(domain, shape_key, shape.family, _sql_of(shape, inputs, rng), inputs)
    return out, roots, spine


def _sql_of(shape: Shape, inputs: list[str], rng: random.Random) -> Any:
    if shape.inputs[0].endswith("+"):
        return lambda name: shape.sql(name, list(inputs), rng)
    return lambda name: shape.sql(name, *inputs, rng)


def _contract(g: Generated) -> dict[str, Any]:
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": f"{g.domain}-{g.name}",
        "name": g.name,
        "version": "1.0.0",
        "status": "active",
        "domain": g.domain,
        "dataProduct": g.name,
        "schema": [
            {
                "name": g.name,
                "physicalType": "table",
                "properties": FAMILIES[g.family],
                "quality": TABLE_RULES[g.family],
            }
        ],
        "slaProperties": [
            {"property": "completeness", "value": 0.5},
            {"property": "frequency", "value": 1, "unit": "d"},
        ],
    }


def _product(g: Generated) -> dict[str, Any]:
    ports = []
    for i in g.inputs:
        if i.startswith("source."):
            ports.append({"name": i, "version": "1.0.0", "contractId": i})
        else:
            domain, name = i.split(".")
            ports.append({"name": i, "version": "1.0.0", "contractId": f"{domain}-{name}"})
    return {
        "apiVersion": "v1.0.0",
        "kind": "DataProduct",
        "id": g.address,
        "name": g.name,
        "domain": g.domain,
        "version": "1.0.0",
        "status": "active",
        "description": {"purpose": f"{g.shape.replace('_', ' ')} ({g.family}) of the {g.domain} domain."},
        "tags": [g.domain, g.family],
        "inputPorts": ports,
        "outputPorts": [
            {"name": g.name, "type": "tables", "version": "1.0.0", "contractId": f"{g.domain}-{g.name}"}
        ],
        "team": {
            "members": [
                {"username": f"{g.domain}-owner@example.com", "role": "product owner"},
                {"username": f"{g.domain}-lead@example.com", "role": "technical lead"},
            ]
        },
        "customProperties": [
            {"property": "tessera.writeMode", "value": "overwrite"},
            {"property": "tessera.updateFrequency", "value": "daily"},
        ],
    }


def _dump(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(doc, Dumper=_Dumper, sort_keys=False))


def _source(rows: int, domain_index: int, seed: int) -> Any:
    """event_id (unique across domains, ~4% re-sent), customer_id, event_ts, amount as text, messy codes."""
    from datetime import UTC, datetime, timedelta

    import pyarrow as pa

    rng = random.Random(seed * 1000 + domain_index)
    start = datetime(2023, 10, 1, tzinfo=UTC)
    base = domain_index * 10_000_000
    ids, customers, ts, amounts, statuses, countries, channels, ingested = ([] for _ in range(8))
    countries_all = ("de", "FR ", " us", "GB", "nl", "es", "IT", "pl")
    for i in range(rows):
        resent = i > 10 and rng.random() < 0.04
        event = ids[rng.randrange(len(ids))] if resent else base + i + 1
        ids.append(event)
        customers.append(rng.randrange(1, CUSTOMERS + 1))
        when = start + timedelta(minutes=rng.randrange(0, 200 * 24 * 60))
        ts.append(when)
        status = rng.choice((" done", "DONE", "done ", "Pending", "PENDING", "cancelled"))
        statuses.append(status)
        amounts.append("N/A" if "cancel" in status else f" {rng.randrange(100, 50_000) / 100:.2f}")
        countries.append(rng.choice(countries_all))
        channels.append(rng.choice(("web", "store", "app")))
        ingested.append(when + timedelta(seconds=rng.randrange(1, 3600) + (86_400 if resent else 0)))
    tz = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "event_id": pa.array(ids, pa.int64()),
            "customer_id": pa.array(customers, pa.int64()),
            "event_ts": pa.array(ts, tz),
            "amount": pa.array(amounts, pa.string()),
            "status": pa.array(statuses, pa.string()),
            "country": pa.array(countries, pa.string()),
            "channel": pa.array(channels, pa.string()),
            "ingested_at": pa.array(ingested, tz),
        }
    )


DATA = Path(__file__).parent / ".data"


def _stamp(products: int, rows: int, seed: int, spine_blocks: int) -> str:
    return f"products={products} rows={rows} seed={seed} spine_blocks={spine_blocks}\n"


def make_scale_mesh(
    root: Path,
    *,
    products: int = 1000,
    rows: int = 4000,
    seed: int = 11,
    spine_blocks: int = 3,
    reuse: bool = False,
) -> ScaleMesh:
    """Write the mesh to ``root``; with ``reuse``, keep what ``root`` holds when it is this very mesh (the
    products' files are not read back: the plan is recomputed from the seed, which is deterministic)."""
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    generated, roots, spine = _plan(products, rng, spine_blocks)
    mesh = ScaleMesh(root, generated, roots, spine)
    stamp = root / ".generated"
    if reuse and stamp.is_file() and stamp.read_text() == _stamp(products, rows, seed, spine_blocks):
        for domain in DOMAINS:
            path = root / f"sources/{domain}_app/events.parquet"
            mesh.source_columns[f"source.{domain}_app.events"] = pq.read_schema(path).names
        return mesh
    stamp.unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    (root / "mesh.yaml").write_text(
        f"name: scale\ndescription: {products:,} generated SQL products\nstorage: data\n"
        "encryption: {atRest: filesystem}\n"
    )
    for index, domain in enumerate(DOMAINS):
        system = f"{domain}_app"
        _dump(
            root / f"domains/{domain}/domain.yaml",
            {
                "name": domain,
                "description": f"The {domain} domain (generated)",
                "owner": f"{domain}-team@example.com",
                "team": {
                    "name": f"{domain.title()} Data",
                    "members": [{"username": f"{domain}-owner@example.com", "role": "product owner"}],
                },
                "tags": [domain],
                "sourceSystems": [
                    {
                        "name": system,
                        "description": f"The {domain} application",
                        "tables": [
                            {
                                "name": "events",
                                "path": f"sources/{system}/events.parquet",
                                "format": "parquet",
                            }
                        ],
                    }
                ],
            },
        )
        table = _source(rows, index, seed)
        (root / f"sources/{system}").mkdir(parents=True, exist_ok=True)
        pq.write_table(table, root / f"sources/{system}/events.parquet")
        mesh.source_columns[f"source.{system}.events"] = table.schema.names
    for g in generated:
        base = root / f"domains/{g.domain}/products/{g.name}"
        _dump(base / "contract.odcs.yaml", _contract(g))
        _dump(base / "product.odps.yaml", _product(g))
        (base / "transform.sql").write_text(g.sql)
    stamp.write_text(_stamp(products, rows, seed, spine_blocks))
    return mesh


def reused_scale_mesh(products: int, rows: int = 4000, *, fresh_state: bool = True) -> ScaleMesh:
    """The mesh of ``products`` products under ``bench/.data/scale-<products>x<rows>``, generated once. With
    ``fresh_state`` its catalog, index and tables (``.tessera/``, ``data/``) are removed first, so every run
    starts from a mesh that was never applied."""
    import shutil

    root = DATA / f"scale-{products}x{rows}"
    mesh = make_scale_mesh(root, products=products, rows=rows, reuse=True)
    if fresh_state:
        for folder in (root / ".tessera", root / "data"):
            shutil.rmtree(folder, ignore_errors=True)
    return mesh


def family_columns(family: str) -> list[str]:
    return [c["name"] for c in FAMILIES[family]]


def check(mesh: ScaleMesh) -> list[str]:
    """Run every transform in DuckDB over the sources (views for the products) and compare its columns with
    the contract. Returns the problems (empty: every SQL runs and returns its contract's columns)."""
    import duckdb

    con = duckdb.connect()
    schemas: set[str] = set()
    problems = []
    for source in mesh.source_columns:
        _, system, table = source.split(".")
        path = mesh.root / f"sources/{system}/{table}.parquet"
        if "source" not in schemas:
            con.execute("ATTACH ':memory:' AS source")
            schemas.add("source")
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "source"."{system}"')
        con.execute(f'CREATE VIEW "source"."{system}"."{table}" AS SELECT * FROM read_parquet(\'{path}\')')
    for g in mesh.products:
        if g.domain not in schemas:
            con.execute(f'CREATE SCHEMA "{g.domain}"')
            schemas.add(g.domain)
        try:
            con.execute(f'CREATE TABLE "{g.domain}"."{g.name}" AS {g.sql}')
        except duckdb.Error as exc:
            problems.append(f"{g.address}: {exc}")
            continue
        names = [r[0] for r in con.execute(f'DESCRIBE "{g.domain}"."{g.name}"').fetchall()]
        rows = con.execute(f'SELECT count(*) FROM "{g.domain}"."{g.name}"').fetchone()
        if names != family_columns(g.family):
            problems.append(f"{g.address}: returns {names}, its contract has {family_columns(g.family)}")
        if not rows or not rows[0]:
            problems.append(f"{g.address}: no rows")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dir", type=Path)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--check", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="keep DIR's mesh when it was generated with the same arguments"
    )
    args = parser.parse_args()
    mesh = make_scale_mesh(args.dir, products=args.products, rows=args.rows, reuse=args.reuse)
    print(f"wrote {len(mesh.products)} products to {args.dir}; spine of {len(mesh.spine)}: {mesh.spine[-1]}")
    if args.check:
        problems = check(mesh)
        print("\n".join(problems) or "every transform runs in DuckDB and returns its contract's columns")


if __name__ == "__main__":
    main()
