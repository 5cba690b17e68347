"""read, query, history, quality, catalog."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tessera.cli.render import count, figure, moment, plain, print_json, print_table, to_jsonable

__all__ = ["catalog", "history", "lineage", "quality", "query", "read"]

#: The widest a data cell prints in a terminal table; longer ones end in an ellipsis (``--format csv`` and
#: ``--json`` carry every character).
CELL_LIMIT = 40

#: The provenance columns every published row carries (``storage/schema.py``, METADATA_COLUMNS): ``tessera
#: read`` leaves them out unless ``--all-columns`` or ``--columns`` names them.
PROVENANCE = ("_product_name", "_product_version", "_domain", "_publish_timestamp")


def _emit(table: Any, fmt: str, output: str | None = None, *, safe_csv: bool = False) -> None:
    import pyarrow.csv as pacsv

    if fmt == "csv" and safe_csv:
        from tessera.platform.csv_cells import neutralise_table

        table = neutralise_table(table)

    if fmt == "parquet":
        import pyarrow.parquet as pq

        if not output:
            from tessera.errors import DataError

            raise DataError("--format parquet needs --output FILE")
        pq.write_table(table, output)
        print(f"wrote {table.num_rows} rows to {output}", file=sys.stderr)
        return
    stream = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        if fmt == "csv":
            import io

            buffer = io.BytesIO()
            pacsv.write_csv(table, buffer)
            stream.write(buffer.getvalue().decode())
        elif fmt == "json":
            import json

            for row in table.to_pylist():
                stream.write(json.dumps(to_jsonable(row), default=str) + "\n")
        else:
            shown = table.slice(0, 200).to_pylist()
            print_table(None, table.schema.names, (list(r.values()) for r in shown), cell_limit=CELL_LIMIT)
            if table.num_rows > 200:
                print(
                    f"… {table.num_rows} rows in all (showing 200; use --limit or --format csv)",
                    file=sys.stderr,
                )
    finally:
        if output:
            stream.close()


def read(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    with Mesh(args.mesh) as mesh:
        table = mesh.read(
            args.address, columns=columns, limit=args.limit, as_principal=getattr(args, "as_principal", None)
        )
    hidden = [] if columns or args.all_columns else [c for c in PROVENANCE if c in table.schema.names]
    if hidden:
        table = table.drop_columns(hidden)
        if not args.json and args.format == "table" and sys.stderr.isatty():
            print(f"({len(hidden)} provenance columns hidden; --all-columns shows them)", file=sys.stderr)
    _emit(table, "json" if args.json else args.format, args.output, safe_csv=args.safe_csv)
    return 0


def query(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tessera.platform.reading.reader import fast_query

    fmt = "json" if args.json else args.format
    principal = getattr(args, "as_principal", None)
    rows = None if principal is not None else fast_query(Path(args.mesh).resolve(), args.sql)
    if rows is not None:
        _emit_rows(rows, fmt, safe_csv=args.safe_csv)
        return 0
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        table = mesh.query(args.sql, as_principal=principal)
    _emit(table, fmt, safe_csv=args.safe_csv)
    return 0


def _emit_rows(rows: list[dict[str, Any]], fmt: str, *, safe_csv: bool = False) -> None:
    """Rows as dicts (the fast query path, no Arrow needed)."""
    if fmt == "json":
        import json

        sys.stdout.writelines(json.dumps(to_jsonable(row), default=str) + "\n" for row in rows)
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        if rows:
            writer.writerow(rows[0].keys())
        if safe_csv:
            from tessera.platform.csv_cells import neutralise_value

            writer.writerows([neutralise_value(v) for v in r.values()] for r in rows)
        else:
            writer.writerows(r.values() for r in rows)
    else:
        headers = list(rows[0].keys()) if rows else []
        print_table(None, headers, (list(r.values()) for r in rows[:200]), cell_limit=CELL_LIMIT)


def history(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        rows = mesh.product(args.address).history()
    if args.json:
        print_json(rows)
    elif not rows:
        print(f"{args.address} has no published version yet")
    else:
        print_table(
            f"History of {args.address}",
            ["release", "contract", "rows", "operation", "published at"],
            [
                (
                    r["release"],
                    r["contract_version"],
                    count(r["rows"]),
                    r["operation"],
                    moment(r["published_at"]),
                )
                for r in rows
            ],
        )
    return 0


def quality(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        runs = mesh.product(args.address).quality(args.limit)
    if args.json:
        print_json(runs)
    elif not runs:
        print(f"{args.address} has no quality runs yet")
    else:
        latest = runs[0]
        print_table(
            f"Latest run {latest['run_id'][:12]} of {args.address}: {latest['outcome']}",
            ["", "check", "measured", "expected", "severity", "message"],
            [
                (
                    "✓" if c["outcome"] == "passed" else "✗",
                    c["name"],
                    figure(c["measured"]),
                    c["threshold"],
                    c["severity"],
                    "" if c["outcome"] == "passed" else c["message"],
                )
                for c in sorted(latest["checks"], key=lambda c: c["name"])
            ],
        )
        print_table(
            f"Quality runs of {args.address}",
            ["run", "outcome", "published", "rows", "checks", "at"],
            [
                (
                    r["run_id"][:12],
                    r["outcome"],
                    "yes" if r["published"] else "no",
                    count(r["row_count"]),
                    len(r["checks"]),
                    moment(r["started_at"]),
                )
                for r in runs
            ],
        )
    return 0


def catalog(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        if args.action == "search":
            found = mesh.search_result(args.term or "", sort=args.sort)
            hits = found["results"]
            if not hits and not args.json:
                from tessera.model.suggest import closest

                addresses = mesh.addresses()
                names = {a.rsplit(".", 1)[-1]: a for a in addresses}
                near = closest(args.term or "", [*names, *addresses])
                hint = f"; did you mean {names.get(near[0], near[0])}?" if near else ""
                print(f"no products match {args.term!r}{hint}")
                return 0
            if args.json:
                print_json(
                    [
                        {
                            k: h[k]
                            for k in ("address", "score", "matched", "description", "owner", "tags", "uses")
                            if k in h
                        }
                        for h in hits
                    ]
                )
            else:
                print_table(
                    f"Search: {args.term}",
                    ["product", "score", "matched", "description"],
                    [
                        (h["address"], h["score"], ", ".join(h["matched"]), (h["description"] or "")[:70])
                        for h in hits
                    ],
                )
                for term, words in found["corrections"].items():
                    print(plain(f"no product has {term!r}: showing {', '.join(words)} instead"))
            return 0
        if args.action == "show":
            if not args.term:
                from tessera.errors import AddressError

                raise AddressError("catalog show needs an ADDRESS")
            row = mesh.show(args.term)
            if args.json:
                print_json(row)
            else:
                _show(row)
            return 0
        summary = mesh.catalog_summary()
    if args.json:
        print_json(summary)
    else:
        print_table(
            f"Catalog of {summary['mesh']}: {summary['counts']['domains']} domains, "
            f"{summary['counts']['products']} products, {summary['counts']['versions']} versions, "
            f"{summary['counts']['quality_runs']} quality runs",
            ["product", "owner", "contract", "latest", "rows", "quality", "versions"],
            [
                (
                    p["address"],
                    p["owner"],
                    p["contract"],
                    p["latest"],
                    count(p["rows"]),
                    p["quality"],
                    p["versions"],
                )
                for p in summary["products"]
            ],
        )
    return 0


def _shown(value: Any) -> str:
    """A value of ``catalog show``: a dash for nothing (never ``None``), yes/no for a flag."""
    if value is None or value in ("", []):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return plain(", ".join(map(str, value)) if isinstance(value, list) else value)


def _show(row: dict[str, Any]) -> None:
    get = row.get
    print(f"{_shown(get('address'))}  (contract {_shown(get('contract_version'))}, {_shown(get('status'))})")
    if get("description"):
        print(f"  {plain(get('description'))}")
    print(
        f"  owner: {_shown(get('owner'))}   write mode: {_shown(get('write_mode'))}   "
        f"updates: {_shown(get('update_frequency'))}"
    )
    for role in get("roles") or []:
        print(f"  {_shown(role.get('role'))}: {_shown(role.get('username'))}")
    print(f"  upstream: {_shown(get('upstream'))}   downstream: {_shown(get('downstream'))}")
    print(f"  storage: {_shown(get('storage_uri'))}")
    print_table(
        "Columns",
        ["column", "type", "required", "key", "classification", "description"],
        [
            (
                c.get("name"),
                c.get("physical_type") or c.get("logical_type") or "–",
                "yes" if c.get("required") else "",
                "yes" if c.get("primary_key") else "",
                c.get("classification") or "",
                c.get("description") or "",
            )
            for c in get("columns") or []
        ],
    )


def lineage(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    direction = "upstream" if args.upstream else "downstream" if args.downstream else "both"
    with Mesh(args.mesh) as mesh:
        graph = mesh.lineage(args.node, direction=direction, depth=args.depth, as_of=args.as_of)
    fmt = "json" if args.json else args.format
    if fmt == "json":
        print_json(graph.as_dict())
    elif fmt == "mermaid":
        print(plain(graph.mermaid()))
    elif fmt == "dot":
        print(plain(graph.dot()))
    else:
        print(plain(graph.text()))
    return 0
