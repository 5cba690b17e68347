"""Generated meshes of 1,000 and 10,000 SQL products (issue 3, item 8 "Scale"; issue 12), every figure
measured in this run beside its raw baseline:

(d) at every size, whole processes as users run them: ``tessera validate`` and ``tessera plan`` (against
    reading every YAML file with libyaml: <= 1.5x), ``tessera build ONE --full-refresh`` (against the raw
    equivalent as a whole process, DuckDB ``CREATE TABLE AS`` of the same SQL over the same input files +
    ``write_deltalake``: <= raw + 0.3 s), ``tessera lineage X --downstream`` (<= 0.5 s) and ``tessera read ONE
    --limit 10`` (against DuckDB over the version's Parquet files: <= 1.2x). The mesh is applied and the chain
    up to ONE built first (set-up, not judged).

and on the first (smallest) mesh, in process:

(a) column lineage extraction (``column_lineage`` over every transform) in a fresh process: plan + lineage
    extraction <= 10 s;
(b) after a real build of a long cross-domain chain (the mesh's spine), ``tessera lineage`` of a product and a
    column: <= 0.5 s;
(c) building one product (``mesh.build([X], full_refresh=True, jobs=1)``, in process, mesh open) vs the raw
    build: <= 1.3x, judged on a small mesh of the same shape with ``--build-rows`` sources (default 500,000).

    /work/venv/bin/python bench/bench_scale.py [--products 1000,10000] [--reuse] [--whole-only] [--profile]

``--reuse`` generates each mesh once under ``bench/.data/`` (the 10,000-product one takes ~30 s) and starts
every run from it with an empty catalog. ``--profile`` runs each command that misses its target once more
under cProfile and prints where its time goes. The mesh generator is ``scale_mesh.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from common import READ_YAML  # noqa: E402
from scale_mesh import ScaleMesh, make_scale_mesh, reused_scale_mesh  # noqa: E402

TESSERA = str(Path(sys.executable).parent / "tessera")

# Column lineage of every transform in a fresh process: the inputs' columns from their contracts (sources:
# their Parquet schema). Prints JSON with the times, counts, and every problem or output/contract mismatch.
EXTRACT = r"""
import json, sys, time
start = time.perf_counter()
import pyarrow.parquet as pq
from tessera.lineage.columns import column_lineage
from tessera.spec import load_mesh
imported = time.perf_counter()
spec = load_mesh(sys.argv[1])
loaded = time.perf_counter()
columns = {p.address: [c.name for c in p.contract.columns] for p in spec.products}
for domain in spec.domains:
    for system in domain.source_systems:
        for table in system.tables:
            columns[table.address] = pq.read_schema(table.uri.removeprefix("file://")).names
edges, problems, mismatches = 0, [], []
began = time.perf_counter()
for p in spec.products:
    result = column_lineage(p.transform.code, {i.address: columns[i.address] for i in p.input_ports})
    edges += len(result.edges)
    problems += [f"{p.address}: {x}" for x in result.problems]
    if list(result.output_columns) != columns[p.address]:
        mismatches.append(f"{p.address}: {list(result.output_columns)} vs contract {columns[p.address]}")
done = time.perf_counter()
import sqlglot
parse_start = time.perf_counter()
for p in spec.products:
    sqlglot.parse_one(p.transform.code, read="duckdb")
parsed = time.perf_counter()
print(json.dumps({"import": imported - start, "load": loaded - imported, "extract": done - began,
                  "parse": parsed - parse_start, "transforms": len(spec.products), "edges": edges,
                  "problems": problems, "mismatches": mismatches}))
"""


def run(cmd: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(
            f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    return done


def timed(cmd: list[str], n: int = 3) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        run(cmd)
        best = min(best, time.perf_counter() - start)
    return best


def cli(mesh: Path, *args: str) -> list[str]:
    return [TESSERA, "-C", str(mesh), *args]


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "NOT met"


def profile_process(argv: list[str], top: int = 18) -> None:
    """Run ``tessera ARGV`` under cProfile in a fresh process; print the top functions by cumulative time."""
    with tempfile.NamedTemporaryFile(suffix=".prof", delete=False) as handle:
        out = handle.name
    try:
        run([sys.executable, "-m", "cProfile", "-o", out, "-m", "tessera.cli", *argv])
        print_profile(out, top)
    finally:
        os.unlink(out)


def print_profile(source: Any, top: int = 18) -> None:
    import io
    import pstats

    buffer = io.StringIO()
    stats = pstats.Stats(source, stream=buffer) if isinstance(source, str) else source
    stats.stream = buffer  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(top)
    lines = buffer.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    print("\n".join("    " + line for line in lines[start:] if line.strip()))


# ---------------------------------------------------------------- (a) lineage extraction


def bench_extraction(mesh: ScaleMesh, args: argparse.Namespace, plan: float) -> float:
    """Column lineage of every transform in a fresh process; with ``plan`` (a whole ``tessera plan``, from
    ``bench_processes``) judged against the 10 s of the original target."""
    root = mesh.root
    stats = json.loads(run([sys.executable, "-c", EXTRACT, str(root)]).stdout)
    print(
        f"lineage extraction: column_lineage over {stats['transforms']} transforms {stats['extract']:.2f}s "
        f"({stats['extract'] / stats['transforms'] * 1000:.1f} ms each; sqlglot parse alone "
        f"{stats['parse']:.2f}s, ratio {stats['extract'] / stats['parse']:.1f}x); {stats['edges']} edges, "
        f"{len(stats['problems'])} problems, {len(stats['mismatches'])} output/contract mismatches "
        f"(load_mesh {stats['load']:.2f}s, imports {stats['import']:.2f}s)"
    )
    for line in (stats["problems"] + stats["mismatches"])[:10]:
        print(f"    ! {line}")
    total = plan + stats["extract"]
    print(f"plan + lineage extraction: {total:.2f}s ({verdict(total, 10)}: target <= 10 s)")
    if args.profile and total > 10:
        print("  profile of tessera plan:")
        profile_process(["-C", str(root), "plan"])
    return float(stats["extract"])


# ---------------------------------------------------------------- (b) lineage queries after real builds


def build_spine(mesh: ScaleMesh) -> None:
    root = mesh.root
    start = time.perf_counter()
    run(cli(root, "apply"))
    applied = time.perf_counter() - start
    plan_after = timed(cli(root, "plan"))
    start = time.perf_counter()
    out = run(cli(root, "build", *(f"+{a}" for a in mesh.spine), "--jobs", "2", "--json"), timeout=900)
    built = time.perf_counter() - start
    outcomes = json.loads(out.stdout)
    bad = [o for o in outcomes if o["status"] != "published"]
    print(
        f"apply: {applied:.2f}s; plan afterwards (no changes): {plan_after:.2f}s; build of the spine "
        f"({len(mesh.spine)} products in a chain across {len({a.split('.')[0] for a in mesh.spine})} domains, "
        f"{len(outcomes)} with the roots it reads, --jobs 2): {built:.1f}s, "
        f"{built / max(1, len(outcomes)):.2f}s a product"
    )
    if bad:
        raise SystemExit(
            "the spine did not build:\n" + "\n".join(f"{o['address']}: {o['message']}" for o in bad)
        )
    start = time.perf_counter()
    run(cli(root, "build", *(f"+{a}" for a in mesh.spine), "--full-refresh", "--jobs", "1", "--json"))
    serial = time.perf_counter() - start
    print(
        f"    (the same build again, --full-refresh --jobs 1: {serial:.1f}s; --jobs 2 took "
        f"{built / serial:.1f}x as long)"
    )


def bench_lineage(mesh: ScaleMesh, args: argparse.Namespace) -> float:
    root, start_node = mesh.root, mesh.spine[0]
    base = timed([sys.executable, "-c", "pass"], 5)
    graph = json.loads(run(cli(root, "lineage", start_node, "--downstream", "--json")).stdout)
    column = f"{start_node}.customer_id"
    column_graph = json.loads(run(cli(root, "lineage", column, "--downstream", "--json")).stdout)
    deepest = _depth(column_graph)
    worst = 0.0
    for label, argv in (
        (f"lineage {start_node} --downstream", ["lineage", start_node, "--downstream"]),
        (f"lineage {start_node} --downstream --json", ["lineage", start_node, "--downstream", "--json"]),
        (f"lineage {column} --downstream", ["lineage", column, "--downstream"]),
    ):
        took = timed(cli(root, *argv), 5)
        worst = max(worst, took)
        print(f"{label}: {took:.3f}s ({verdict(took, 0.5)}: target <= 0.5 s; python -c pass {base:.3f}s)")
        if args.profile and took > 0.5:
            print(f"  profile of tessera {' '.join(argv)}:")
            profile_process(["-C", str(root), *argv])
    print(
        f"    (product graph: {len(graph['nodes'])} nodes, {len(graph['edges'])} edges; column graph of "
        f"{column}: {len(column_graph['nodes'])} nodes, {len(column_graph['edges'])} edges, {deepest} hops deep)"
    )
    return worst


def _depth(graph: dict[str, Any]) -> int:
    down: dict[str, list[str]] = {}
    for edge in graph["edges"]:
        down.setdefault(edge["from"], []).append(edge["to"])
    best: dict[str, int] = {}

    def depth(node: str, seen: frozenset[str]) -> int:
        if node not in best:
            best[node] = 1 + max(
                (depth(n, seen | {n}) for n in down.get(node, ()) if n not in seen), default=-1
            )
        return best[node]

    return depth(graph["root"], frozenset({graph["root"]}))


# ---------------------------------------------------------------- (c) one build vs DuckDB CTAS + write_deltalake


def raw_build(sql: str, inputs: dict[str, list[str]], target: str) -> int:
    import duckdb
    from deltalake import write_deltalake

    con = duckdb.connect()
    try:
        for address, files in inputs.items():
            parts = address.split(".")
            if len(parts) == 3:
                con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS \"{parts[0]}\"")
            schema = ".".join(f'"{p}"' for p in parts[:-1])
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(f'CREATE VIEW {schema}."{parts[-1]}" AS SELECT * FROM read_parquet({files!r})')
        con.execute(f"CREATE TABLE result AS {sql}")
        table = con.table("result").to_arrow_table()
    finally:
        con.close()
    write_deltalake(target, table, mode="overwrite")
    return table.num_rows


def bench_build(mesh: ScaleMesh, args: argparse.Namespace, scratch: Path, *, judged: bool) -> float:
    from deltalake import DeltaTable

    import tessera

    by = mesh.by_address()
    address = args.product or next(a for a in reversed(mesh.spine) if by[a].shape == "enrich_events")
    product = by[address]
    raw_target = str(scratch / "raw_build")
    repeat = args.repeat
    with tessera.open(mesh.root) as handle:
        ctx = handle.ctx
        inputs: dict[str, list[str]] = {}
        for port in ctx.product(address).input_ports:
            if port.is_source:
                source = ctx.spec.source_table(port.address)
                assert source is not None
                inputs[port.address] = [source.uri.removeprefix("file://")]
            else:
                uri = ctx.table_uri(ctx.product(port.address))
                inputs[port.address] = DeltaTable(uri).file_uris()

        def ours() -> None:
            [outcome] = handle.build([address], full_refresh=True, jobs=1)
            if outcome.status != "published":
                raise SystemExit(f"tessera build {address}: {outcome.status}: {outcome.message}")

        rows = raw_build(product.sql, inputs, raw_target)
        ours()  # warm both: imports, the catalog connection, DuckDB's first connection
        raw_times, our_times = [], []
        for _ in range(repeat):  # interleaved, so drift hits both alike
            start = time.perf_counter()
            raw_build(product.sql, inputs, raw_target)
            raw_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            ours()
            our_times.append(time.perf_counter() - start)
        raw, mine = min(raw_times), min(our_times)
        ratio = mine / raw
        print(
            f"build one product ({address}: {product.shape}, {len(inputs)} inputs, {rows} rows out): raw DuckDB "
            f"CREATE TABLE AS + write_deltalake {raw:.3f}s, tessera build --full-refresh (in process) "
            f"{mine:.3f}s, ratio {ratio:.2f}x, {1000 * (mine - raw):.0f} ms more (medians "
            f"{statistics.median(raw_times):.3f}s / {statistics.median(our_times):.3f}s)"
        )
        if args.profile and ratio > 1.3 and judged:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            ours()
            profiler.disable()
            print(f"  profile of mesh.build([{address!r}], full_refresh=True, jobs=1):")
            print_profile(pstats.Stats(profiler), 30)
    whole = timed(cli(mesh.root, "build", address, "--full-refresh", "--jobs", "1"), 3)
    print(
        f"    (the same build as a whole process, tessera build {address} --full-refresh: {whole:.2f}s, "
        f"{whole / raw:.1f}x the raw build)"
    )
    return ratio


# ---------------------------------------------------------------- (d) whole processes, as users run them

# The raw equivalent of ``tessera build ONE --full-refresh`` as a whole process: DuckDB CREATE TABLE AS of the
# same SQL over the same input files, then write_deltalake. Its argument: a JSON file {sql, inputs, target}.
RAW_BUILD = r"""
import json, sys
import duckdb
from deltalake import write_deltalake
job = json.loads(open(sys.argv[1]).read())
con = duckdb.connect()
for address, files in job["inputs"].items():
    parts = address.split(".")
    if len(parts) == 3:
        con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS \"{parts[0]}\"")
    schema = ".".join(f'"{p}"' for p in parts[:-1])
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(f'CREATE VIEW {schema}."{parts[-1]}" AS SELECT * FROM read_parquet({files!r})')
con.execute(f"CREATE TABLE result AS {job['sql']}")
table = con.table("result").to_arrow_table()
con.close()
write_deltalake(job["target"], table, mode="overwrite")
print(table.num_rows)
"""

# The raw equivalent of ``tessera read ONE --limit 10``: DuckDB over the current version's Parquet files.
RAW_READ = r"""
import sys
import duckdb
from deltalake import DeltaTable
files = DeltaTable(sys.argv[1]).file_uris()
for row in duckdb.sql(f"SELECT * FROM read_parquet({files!r}) LIMIT 10").fetchall():
    print(row)
"""


def _table(mesh: ScaleMesh, address: str) -> str:
    from tessera.storage import table_uri

    domain, name = address.split(".")
    return table_uri(str(mesh.root / "data"), domain, name, 1)  # every generated contract is 1.0.0


def _raw_job(mesh: ScaleMesh, address: str, scratch: Path) -> Path:
    from deltalake import DeltaTable

    product = mesh.by_address()[address]
    inputs: dict[str, list[str]] = {}
    for port in product.inputs:
        if port.startswith("source."):
            _, system, table = port.split(".")
            inputs[port] = [str(mesh.root / f"sources/{system}/{table}.parquet")]
        else:
            inputs[port] = DeltaTable(_table(mesh, port)).file_uris()
    job = scratch / f"raw-{len(mesh.products)}.json"
    job.write_text(json.dumps({"sql": product.sql, "inputs": inputs, "target": str(scratch / "raw_table")}))
    return job


def bench_processes(mesh: ScaleMesh, args: argparse.Namespace, scratch: Path) -> dict[str, float]:
    """validate, plan, build ONE --full-refresh, lineage X --downstream and read ONE --limit 10, each a fresh
    process beside its raw baseline in the same run; the build needs its inputs, so the mesh is applied and
    the chain up to ONE built first (not timed here)."""
    root, size = mesh.root, len(mesh.products)
    n = 3 if size <= 2000 else 2
    label = f"{size:,} products"
    yaml_files = len(list(root.rglob("*.yaml")))
    floor = timed([sys.executable, "-c", READ_YAML, str(root)], n)
    validate = timed(cli(root, "validate"), n)  # the first run writes the mesh index, the others use it
    print(
        f"validate ({label}, mesh index kept; bench_index.py times it cold and after an edit): reading the "
        f"{yaml_files} YAML files {floor:.2f}s, tessera validate "
        f"{validate:.2f}s, ratio {validate / floor:.2f}x ({verdict(validate / floor, 1.5)}: target <= 1.5x)"
    )
    plan = timed(cli(root, "plan"), n)
    print(
        f"plan ({label}, catalog empty): reading the YAML files {floor:.2f}s, tessera plan {plan:.2f}s, "
        f"ratio {plan / floor:.2f}x (validate's target: <= 1.5x)"
    )
    by = mesh.by_address()
    one = args.product or next(a for a in reversed(mesh.spine) if by[a].shape == "enrich_events")
    start = time.perf_counter()
    run(cli(root, "apply"), timeout=3600)
    applied = time.perf_counter() - start
    start = time.perf_counter()
    run(cli(root, "build", f"+{one}", "--jobs", "2"), timeout=3600)
    print(
        f"    (set-up, not judged: apply {applied:.1f}s, build of {one} and its upstream "
        f"{time.perf_counter() - start:.1f}s)"
    )
    job = _raw_job(mesh, one, scratch)
    raw_times, our_times = [], []
    for _ in range(args.repeat):  # interleaved, so drift hits both alike
        raw_times.append(timed([sys.executable, "-c", RAW_BUILD, str(job)], 1))
        our_times.append(timed(cli(root, "build", one, "--full-refresh", "--jobs", "1"), 1))
    raw, build = min(raw_times), min(our_times)
    print(
        f"build one ({label}, {one}: {by[one].shape}, whole process): raw DuckDB CREATE TABLE AS + "
        f"write_deltalake {raw:.2f}s, tessera build --full-refresh {build:.2f}s, ratio {build / raw:.1f}x, "
        f"{build - raw:+.2f}s ({verdict(build - raw, 0.3)}: target <= raw + 0.3 s)"
    )
    if args.profile and build - raw > 0.3:
        print(f"  profile of tessera build {one} --full-refresh:")
        profile_process(["-C", str(root), "build", one, "--full-refresh", "--jobs", "1"], 30)
    base = timed([sys.executable, "-c", "pass"], 5)
    lineage = timed(cli(root, "lineage", mesh.spine[0], "--downstream"), n)
    print(
        f"lineage ({label}, {mesh.spine[0]} --downstream, whole process): python -c pass {base:.3f}s, "
        f"tessera lineage {lineage:.2f}s, ratio {lineage / base:.0f}x ({verdict(lineage, 0.5)}: target <= 0.5 s)"
    )
    raw_read = timed([sys.executable, "-c", RAW_READ, _table(mesh, one)], n)
    read = timed(cli(root, "read", one, "--limit", "10"), n)
    print(
        f"read one ({label}, {one} --limit 10, whole process): raw DuckDB over the Delta files "
        f"{raw_read:.2f}s, tessera read {read:.2f}s, ratio {read / raw_read:.2f}x "
        f"({verdict(read / raw_read, 1.2)}: target <= 1.2x, as tessera query)"
    )
    return {"plan": plan, "build": build - raw, "lineage": lineage, "read": read / raw_read}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--products", default="1000,10000", help="mesh sizes, comma-separated (default: 1000,10000)"
    )
    parser.add_argument("--rows", type=int, default=4000, help="rows of each domain's source table")
    parser.add_argument("--product", help="the product to build (default: the spine's last join)")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of the single build (best of)")
    parser.add_argument(
        "--build-rows",
        type=int,
        default=500_000,
        help="source rows of the mesh the in-process single build is judged on",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="generate each mesh once under bench/.data/ (keyed by size) and reuse it; its catalog and "
        "tables are removed before every run",
    )
    parser.add_argument(
        "--whole-only", action="store_true", help="only the whole-process rows (d), at every size"
    )
    parser.add_argument("--profile", action="store_true", help="profile every command that misses its target")
    args = parser.parse_args()
    sizes = [int(n) for n in str(args.products).split(",") if n.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            start = time.perf_counter()
            if args.reuse:
                mesh = reused_scale_mesh(size, args.rows)
            else:
                mesh = make_scale_mesh(Path(tmp) / f"mesh-{size}", products=size, rows=args.rows)
            mesh.root = mesh.root.resolve()
            print(
                f"== {len(mesh.products):,} products in {len({p.domain for p in mesh.products})} domains "
                f"({len(mesh.roots)} roots over {args.rows}-row sources), "
                f"{'ready' if args.reuse else 'generated'} in {time.perf_counter() - start:.1f}s",
                flush=True,
            )
            scratch = Path(tmp) / f"scratch-{size}"
            scratch.mkdir()
            figures = bench_processes(mesh, args, scratch)
            if args.whole_only or size != sizes[0]:
                continue  # the in-process rows below are of the first (smallest) mesh only
            bench_extraction(mesh, args, figures["plan"])
            build_spine(mesh)
            bench_lineage(mesh, args)
            fixed = bench_build(mesh, args, scratch, judged=False)
            sized_root = Path(tmp) / "sized"
            start = time.perf_counter()
            sized = make_scale_mesh(sized_root, products=40, rows=args.build_rows)
            print(
                f"sized mesh: {len(sized.products)} products over {args.build_rows}-row sources, generated "
                f"in {time.perf_counter() - start:.1f}s"
            )
            build_spine(sized)
            ratio = bench_build(sized, args, Path(tmp), judged=True)
            print(
                f"build one product (in process): {ratio:.2f}x the raw build at {args.build_rows}-row sources "
                f"({verdict(ratio, 1.3)}: target <= 1.3x); {fixed:.2f}x at 4,000-row sources, where the raw "
                "build takes ~25 ms and Tessera's fixed cost per build dominates"
            )


if __name__ == "__main__":
    main()
