"""The catalog API at 10,000 and 100,000 products (target on a quiet 2-core machine: >= 3,000 req/s, p99 <= 20 ms,
idle server <= 250 MB RSS), every figure measured in this run, beside a bare Starlette app under the same load.

A mesh folder with ten domains is applied, then ``--products`` products (five columns, one published version
each) are written straight into its catalog in a few bulk inserts; the catalog is kept under
``bench/.data/server-<products>/`` and reused by the next run (``--fresh`` makes it again). ``tessera serve``
runs it in its own process; a second process drives it over loopback with keep-alive connections (a minimal
asyncio client, ``--connections`` at once) for ``--seconds``, half catalog searches (one or two words, as people
type them) and half product pages, each request timed from send to the last byte. Reported: requests/s, p50/p99
latency, errors, the server's RSS idle just after start, idle once its catalog views are built (the first
search builds them), and after the load.

    .venv/bin/python bench/bench_server.py [--products N] [--seconds S] [--connections C] [--fresh] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TARGET_RPS = 3000.0
TARGET_P99_MS = 20.0
TARGET_RSS_MB = 250.0
DOMAINS = ("sales", "marketing", "finance", "logistics", "support", "hr", "risk", "product", "web", "ops")
WORDS = [
    "orders",
    "customers",
    "revenue",
    "churn",
    "invoices",
    "shipments",
    "tickets",
    "payroll",
    "fraud",
    "clicks",
    "sessions",
    "returns",
    "refunds",
    "inventory",
    "suppliers",
    "campaigns",
    "leads",
    "margin",
    "forecast",
    "budget",
    "payments",
    "accounts",
    "claims",
    "deliveries",
    "carriers",
    "warehouses",
    "employees",
    "contracts",
    "subscriptions",
    "renewals",
    "engagement",
    "conversions",
    "funnels",
    "cohorts",
    "segments",
    "pricing",
    "discounts",
    "promotions",
    "loyalty",
    "reviews",
    "ratings",
    "surveys",
    "incidents",
    "outages",
    "latency",
    "usage",
    "quotas",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_catalog(root: Path, products: int, seed: int = 7) -> list[str]:
    """The mesh folder (ten domains, applied) and ``products`` catalog-only products; returns their addresses."""
    import yaml
    from sqlalchemy import insert

    import tessera
    from tessera.catalog import tables as t

    root.mkdir(parents=True)
    (root / "mesh.yaml").write_text("name: bench\nstorage: data\nencryption: {atRest: filesystem}\n")
    for domain in DOMAINS:
        folder = root / "domains" / domain
        folder.mkdir(parents=True)
        doc = {"name": domain, "description": f"The {domain} domain", "owner": f"{domain}@example.com"}
        (folder / "domain.yaml").write_text(yaml.safe_dump(doc))
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows, columns, versions, addresses = [], [], [], []
    for i in range(products):
        domain = DOMAINS[i % len(DOMAINS)]
        words = rng.sample(WORDS, 3)
        name = f"{words[0]}_{i}"
        address = f"{domain}.{name}"
        addresses.append(address)
        rows.append(
            {
                "address": address,
                "domain": domain,
                "name": name,
                "description": f"{words[0].title()} by {words[1]} and {words[2]} for the {domain} team",
                "status": "active",
                "owner": f"{domain}-owner@example.com",
                "tags": [domain, words[1]],
                "document": {"id": address, "name": name, "domain": domain},
                "hash": f"{i:064x}",
                "contract_id": f"{domain}-{name}",
                "contract_version": "1.0.0",
                "contract_hash": f"{i:064x}",
                "storage_uri": f"{root}/data/{domain}/{name}/v1",
                "write_mode": "overwrite",
                "update_frequency": "daily",
                "retired": False,
                "created_at": now,
                "updated_at": now,
            }
        )
        for position, (column, kind) in enumerate(
            [
                ("id", "integer"),
                (f"{words[1]}_id", "string"),
                ("email", "string"),
                ("amount", "number"),
                ("at", "timestamp"),
            ]
        ):
            columns.append(
                {
                    "address": address,
                    "name": column,
                    "position": position,
                    "logical_type": kind,
                    "physical_type": None,
                    "description": f"The {column.replace('_', ' ')} of the {words[0]}",
                    "classification": "pii" if column == "email" and i % 3 == 0 else None,
                    "tags": [],
                    "required": position == 0,
                    "primary_key": position == 0,
                }
            )
        versions.append(
            {
                "address": address,
                "major": 1,
                "delta_version": 0,
                "table_uri": f"{root}/data/{domain}/{name}/v1",
                "contract_version": "1.0.0",
                "contract_hash": f"{i:064x}",
                "product_version": "1.0.0",
                "run_id": f"{i:032x}",
                "row_count": 1000 + i,
                "operation": "overwrite",
                "published_at": now,
            }
        )
    with tessera.open(root) as mesh:
        mesh.apply()  # the domains, and the catalog at its newest migration
        with mesh.ctx.catalog.transaction() as conn:
            conn.execute(insert(t.products), rows)
            known = {c.name for c in t.columns.columns}
            conn.execute(insert(t.columns), [{k: v for k, v in c.items() if k in known} for c in columns])
            conn.execute(insert(t.versions), versions)
    return addresses


def _load(base: str, addresses: list[str], seconds: float, connections: int, seed: int) -> dict[str, Any]:
    """Runs in the load process: ``connections`` keep-alive HTTP/1.1 connections (a minimal asyncio client, so
    the load generator spends little of the two cores), each sending its next request as soon as the last one
    is answered."""
    import asyncio
    from urllib.parse import urlsplit

    rng = random.Random(seed)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    where = urlsplit(base)

    def next_path() -> str:
        if not addresses:
            return "/api/v1/"
        if rng.random() < 0.5:  # a word, a word and a domain, a word's prefix, or one product's name
            word = rng.choice(WORDS)
            words = [
                [word],
                [rng.choice(DOMAINS), word],
                [word[: rng.randint(3, len(word))]],
                [rng.choice(addresses).split(".")[1]],
            ][rng.randrange(4)]
            return f"/api/v1/search?q={'+'.join(words)}&limit=20"
        domain, name = rng.choice(addresses).split(".")
        return f"/api/v1/products/{domain}/{name}"

    async def get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> int:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {where.netloc}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(h.split(":", 1)[1]) for h in lines if h.lower().startswith("content-length:"))
        await reader.readexactly(length)
        return int(lines[0].split()[1])

    async def client(stop: float) -> None:
        reader, writer = await asyncio.open_connection(where.hostname, where.port)
        try:
            while time.perf_counter() < stop:
                path = next_path()
                start = time.perf_counter()
                status = await get(reader, writer, path)
                latencies.append(time.perf_counter() - start)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    async def warm() -> None:
        reader, writer = await asyncio.open_connection(where.hostname, where.port)
        for path in ["/api/v1/", "/api/v1/domains", "/api/v1/search?q=orders"] * 3:  # the index is built here
            await get(reader, writer, path)
        writer.close()

    async def run() -> float:
        await warm()
        start = time.perf_counter()
        await asyncio.gather(*(client(start + seconds) for _ in range(connections)))
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    latencies.sort()
    return {
        "requests": len(latencies),
        "elapsed": elapsed,
        "errors": sum(n for status, n in statuses.items() if status != 200),
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used (a figure the other work on a loaded machine disturbs
    far less than requests per second)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


_BARE_APP = """\
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def answer(request):
    return JSONResponse({"address": "sales.orders", "score": 1.0})


app = Starlette(routes=[Route("/{path:path}", answer)])
"""


def _serve(command: list[str], base: str) -> subprocess.Popen[bytes]:
    import httpx

    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env={**os.environ, "TESSERA_TOKEN": ""})
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/api/v1/", timeout=2).raise_for_status()
            return process
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise SystemExit(f"{command[2:4]} did not start") from None
            time.sleep(0.1)


def _drive(work: Path, base: str, addresses: list[str], args: argparse.Namespace) -> dict[str, Any]:
    spec = work / "load.json"
    spec.write_text(json.dumps({"base": base, "addresses": addresses}))
    command = [sys.executable, __file__, "--load", str(spec), "--seconds", str(args.seconds)]
    load = subprocess.run(
        [*command, "--connections", str(args.connections)], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(load.stdout)
    return result


def main() -> None:
    import httpx

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--keep", metavar="DIR", help="build the mesh here and leave it")
    parser.add_argument("--fresh", action="store_true", help="make the kept catalog under bench/.data again")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # internal: run as the load process
    args = parser.parse_args()
    if args.load:
        spec = json.loads(Path(args.load).read_text())
        print(json.dumps(_load(spec["base"], spec["addresses"], args.seconds, args.connections, 1)))
        return

    work = Path(args.keep) if args.keep else Path(__file__).parent / ".data" / f"server-{args.products}"
    root = work / "mesh"
    listed = work / "addresses.json"
    start = time.perf_counter()
    if args.fresh or not listed.exists() or not root.exists():
        if root.exists():
            shutil.rmtree(root)
        listed.unlink(missing_ok=True)
        addresses = make_catalog(root, args.products)
        listed.write_text(json.dumps(addresses))  # written last: a catalog without it is made again
        print(f"catalog: {len(addresses)} products registered in {time.perf_counter() - start:.1f} s")
    else:
        addresses = json.loads(listed.read_text())
        print(f"catalog: {len(addresses)} products, kept in {work}")
    try:
        # the machine's ceiling now: a bare Starlette app answering one fixed JSON, same server, same load
        (work / "bare_app.py").write_text(_BARE_APP)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        bare_server = _serve(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(work),
                "bare_app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            base,
        )
        try:
            cpu = _cpu_seconds(bare_server.pid)
            bare = _drive(work, base, addresses, args)
            bare["cpu"] = _cpu_seconds(bare_server.pid) - cpu
        finally:
            bare_server.send_signal(signal.SIGINT)
            bare_server.wait(timeout=30)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _serve(
            [
                sys.executable,
                "-m",
                "tessera.cli",
                "-C",
                str(root),
                "serve",
                "--port",
                str(port),
                "--no-scheduler",
            ],
            base,
        )
        try:
            time.sleep(0.5)
            idle = _rss_mb(server.pid)
            httpx.get(f"{base}/api/v1/search?q=orders", timeout=600).raise_for_status()  # builds the views
            time.sleep(0.5)
            built = _rss_mb(server.pid)
            cpu = _cpu_seconds(server.pid)
            result = _drive(work, base, addresses, args)
            result["cpu"] = _cpu_seconds(server.pid) - cpu
            loaded = _rss_mb(server.pid)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    finally:
        (work / "load.json").unlink(missing_ok=True)
        (work / "bare_app.py").unlink(missing_ok=True)
    rps, bare_rps = result["requests"] / result["elapsed"], bare["requests"] / bare["elapsed"]
    p50, p99 = result["p50"] * 1000, result["p99"] * 1000
    print(
        f"load: {result['requests']} requests in {result['elapsed']:.1f} s over {args.connections} keep-alive "
        f"connections (half search, half product pages), {result['errors']} errors"
    )
    per, bare_per = result["cpu"] / result["requests"] * 1e6, bare["cpu"] / bare["requests"] * 1e6
    print(
        f"server CPU per request: bare Starlette {bare_per:.0f} us, tessera serve {per:.0f} us "
        f"({1e6 / per:.0f} req/s per core at most; ratio {per / bare_per:.1f}x)"
    )
    print(
        f"server RSS: {idle:.0f} MB idle after start, {built:.0f} MB idle with the catalog views built, "
        f"{loaded:.0f} MB after the load - target <= {TARGET_RSS_MB:.0f} MB idle: "
        f"{'OK' if built <= TARGET_RSS_MB else 'MISSED'}"
    )
    print(
        f"catalog API at {len(addresses)} products: bare Starlette {bare_rps:.0f} req/s (p99 "
        f"{bare['p99'] * 1000:.1f} ms), tessera serve {rps:.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"ratio {rps / bare_rps:.2f}x (target >= {TARGET_RPS:.0f} req/s, {TARGET_RPS / 18338:.2f}x of bare on a "
        f"quiet machine; p99 <= {TARGET_P99_MS:.0f} ms): "
        f"{'OK' if rps >= TARGET_RPS and p99 <= TARGET_P99_MS and result['errors'] == 0 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
