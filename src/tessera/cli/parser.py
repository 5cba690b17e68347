"""The command tree. Handlers are imported lazily (``_lazy``) so parsing costs nothing."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["build_parser"]


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], Any]:
    def handler(args: argparse.Namespace) -> Any:
        from importlib import import_module

        return getattr(import_module(f"tessera.cli.{module}"), name)(args)

    return handler


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tessera",
        description="Tessera: a self-serve data mesh. Data products as code, contract-gated publishing to Delta "
        "Lake, a catalog, and one SDK and CLI.",
    )
    parser.add_argument("-C", "--mesh", metavar="DIR", help="the mesh folder (default: $TESSERA_MESH or .)")
    parser.add_argument("--version", action="version", version="tessera 0.1.0")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def cmd(name: str, module: str, func: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=_lazy(module, func))
        return p

    p = cmd("init", "mesh_cmds", "init", "create a mesh folder (empty, or the example with --example)")
    p.add_argument("dir", help="folder to create")
    p.add_argument("--example", action="store_true", help="write the example mesh with generated source data")
    p.add_argument("--scale", type=float, default=1.0, help="example data size factor (default 1.0)")
    p = cmd("validate", "mesh_cmds", "validate", "check every mesh file; all problems at once")
    _json(p)
    p = cmd("plan", "mesh_cmds", "plan", "show what apply would change in the catalog and storage")
    _json(p)
    p = cmd(
        "apply", "mesh_cmds", "apply", "register domains, products, contracts and storage (undone on failure)"
    )
    _json(p)
    p = cmd("build", "data_cmds", "build", "run transforms in dependency order and publish through the gates")
    p.add_argument(
        "products",
        nargs="*",
        metavar="SELECTOR",
        help="products to build (default: all): ADDRESS, ADDRESS+ (and downstream), +ADDRESS (and upstream), "
        "domain:NAME, tag:NAME",
    )
    p.add_argument("--full-refresh", action="store_true", help="rebuild even what is unchanged")
    p.add_argument(
        "--jobs", type=int, help="worker processes for independent products (default: CPUs, max 4)"
    )
    _json(p)
    p = cmd("publish", "data_cmds", "publish", "publish a file as a product's new version through the gates")
    p.add_argument("address")
    p.add_argument("--from", dest="source", required=True, metavar="FILE", help="parquet, csv or json file")
    _json(p)
    p = cmd(
        "test", "data_cmds", "test", "run the quality gate only: on a product, or on a bare ODCS contract"
    )
    p.add_argument("target", help="ADDRESS[@version] or a contract.odcs.yaml file")
    p.add_argument("--data", metavar="FILE", help="test this file instead of the published data / the server")
    p.add_argument("--output", choices=("text", "json", "junit"), default="text")
    p = cmd("read", "read_cmds", "read", "read a product version")
    p.add_argument("address", help="ADDRESS[@2.1.0|@2|@v17]")
    p.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table")
    p.add_argument("--limit", type=int)
    p.add_argument("--columns", help="comma-separated column names")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (required for parquet)")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p = cmd("query", "read_cmds", "query", "SQL over products named by address (select * from sales.orders)")
    p.add_argument("sql")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    _json(p)
    p = cmd("history", "read_cmds", "history", "published versions of a product")
    p.add_argument("address")
    _json(p)
    p = cmd("quality", "read_cmds", "quality", "recent quality runs of a product")
    p.add_argument("address")
    p.add_argument("--limit", type=int, default=5)
    _json(p)
    p = cmd(
        "catalog",
        "read_cmds",
        "catalog",
        "what the catalog holds; `catalog search TEXT`, `catalog show ADDRESS`",
    )
    p.add_argument("action", nargs="?", choices=("list", "search", "show"), default="list")
    p.add_argument("term", nargs="?", help="search text or address")
    _json(p)
    p = cmd("lineage", "read_cmds", "lineage", "where a product or column comes from, and what reads it")
    p.add_argument("node", help="ADDRESS, ADDRESS.column, source.SYSTEM.TABLE[.column]")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--upstream", action="store_true", help="only where it comes from")
    way.add_argument("--downstream", action="store_true", help="only what reads it")
    p.add_argument("--depth", type=int, help="hops to follow (default: all)")
    p.add_argument(
        "--as-of", dest="as_of", metavar="VERSION", help="column lineage as of a version (@v3, 1.2.0)"
    )
    p.add_argument("--format", choices=("text", "json", "mermaid", "dot"), default="text")
    _json(p)
    p = cmd(
        "status", "ops_cmds", "status", "SLA status per product: freshness, quality, availability; incidents"
    )
    p.add_argument("products", nargs="*", metavar="ADDRESS", help="products to check (default: all)")
    p.add_argument("--incidents", action="store_true", help="list incidents (open and resolved) instead")
    p.add_argument(
        "--fail-on-breach", action="store_true", help="exit 1 when any product is in breach (for CI)"
    )
    _json(p)
    p = cmd(
        "run-scheduler", "ops_cmds", "run_scheduler", "build products on their schedules and monitor SLAs"
    )
    p.add_argument("--once", action="store_true", help="build what is due now, then exit")
    p = cmd("contract", "mesh_cmds", "contract_diff", "compare two contracts: `contract diff OLD NEW`")
    p.add_argument("action", choices=("diff",))
    p.add_argument("old", help="contract file, or ADDRESS for its last published contract")
    p.add_argument("new", help="contract file, or ADDRESS for the contract in the mesh folder")
    _json(p)
    p = cmd(
        "repair",
        "mesh_cmds",
        "repair",
        "rebuild the catalog's version records from the Delta commit metadata",
    )
    _json(p)
    return parser
