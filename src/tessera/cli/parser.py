"""The command tree. Handlers are imported lazily (``_lazy``), and given the command line, only the command
being run has its arguments built (``build_parser(argv)``): the others are a name and a help line, which is
all ``tessera --help`` shows, so parsing costs next to nothing."""

from __future__ import annotations

import argparse

from tessera.version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn

__all__ = ["build_parser"]


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], Any]:
    def handler(args: argparse.Namespace) -> Any:
        from importlib import import_module

        return getattr(import_module(f"tessera.cli.{module}"), name)(args)

    return handler


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _strict(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strict",
        action="store_true",
        help="refuse what the standards' schemas refuse but Tessera reads with a warning (e.g. "
        "datacontract-cli's server keys)",
    )


def _safe_csv(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--safe-csv",
        action="store_true",
        help="with --format csv: prefix cells starting with = + - @ (formulas in a spreadsheet) with '",
    )


#: The global options that take a value (argparse also takes a long one's unambiguous prefix: ``--me``).
_VALUED = ("--mesh", "--token")


def command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, as argparse will read it: the first word that is not a global option nor
    its value; None when there is none or a help or ``--`` comes first (``tessera --help validate``)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--", "-h") or (len(arg) > 2 and "--help".startswith(arg)):
            return None  # the whole help, or argparse's invalid choice '--': every command is named
        if not arg.startswith("-") or arg == "-":
            return arg
        valued = arg == "-C" or (len(arg) > 2 and "=" not in arg and any(o.startswith(arg) for o in _VALUED))
        i += 2 if valued else 1
    return None


class _Unbuilt:
    """Stands for the parser of a command that is not being run: every call builds nothing and returns it,
    so the tree below reads the same whether a command is built or not."""

    def __getattr__(self, name: str) -> Callable[..., _Unbuilt]:
        return lambda *args, **kwargs: self

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        """Not reached: ``command_of`` reads the command line as argparse does."""
        raise SystemExit("tessera: could not tell which command to run; see tessera --help")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole tree; given ``argv``, the arguments of its command only (every command keeps its name and
    help line)."""
    only = command_of(argv) if argv is not None else None
    parser = _Parser(
        prog="tessera",
        description="Tessera: a self-serve data mesh. Data products as code, contract-gated publishing to Delta "
        "Lake, a catalog, and one SDK and CLI.",
    )
    parser.add_argument("-C", "--mesh", metavar="DIR", help="the mesh folder (default: $TESSERA_MESH or .)")
    parser.add_argument(
        "--token",
        metavar="TOKEN",
        help="act as the token's principal (default: $TESSERA_TOKEN; none: trusted local)",
    )
    parser.add_argument(
        "--no-index",
        action="store_true",
        help="read every mesh file, without the mesh index in .tessera/index (default: $TESSERA_NO_INDEX)",
    )
    parser.add_argument("--version", action="version", version=f"tessera {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_parser)  # type: ignore[call-overload]

    unbuilt: list[tuple[str, str]] = []

    def cmd(name: str, module: str, func: str, help_: str) -> argparse.ArgumentParser:
        if argv is not None and name != only:
            unbuilt.append((name, help_))
            return _Unbuilt()  # type: ignore[return-value]
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=_lazy(module, func))
        return p

    p = cmd("init", "mesh_cmds", "init", "create a mesh folder (empty, or the example with --example)")
    p.add_argument("dir", help="folder to create")
    p.add_argument("--example", action="store_true", help="write the example mesh with generated source data")
    p.add_argument("--scale", type=float, default=1.0, help="example data size factor (default 1.0)")
    _new(cmd)
    p = cmd("validate", "mesh_cmds", "validate", "check every mesh file; all problems at once")
    p.add_argument(
        "contract", nargs="?", help="check this ODCS contract file (outside any mesh) instead of the mesh"
    )
    _strict(p)
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
    p.add_argument(
        "--server", metavar="NAME", help="a contract file's server to test (default: the first usable one)"
    )
    p.add_argument(
        "--check-id", action="append", default=[], metavar="ID", help="only the quality rules of this id"
    )
    p.add_argument(
        "--dimension", action="append", default=[], metavar="D", help="only checks of this dimension"
    )
    p.add_argument("--tag", action="append", default=[], metavar="T", help="only quality rules with this tag")
    p.add_argument("--output", choices=("text", "json", "junit"), default="text")
    _strict(p)
    p = cmd("read", "read_cmds", "read", "read a product version")
    p.add_argument("address", help="ADDRESS[@2.1.0|@2|@v17]")
    p.add_argument("--format", choices=("table", "csv", "json", "parquet"), default="table")
    _safe_csv(p)
    p.add_argument("--limit", type=int)
    p.add_argument("--columns", help="comma-separated column names")
    p.add_argument(
        "--all-columns",
        action="store_true",
        help="also the provenance columns (_product_name, _product_version, _domain, _publish_timestamp)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (required for parquet)")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p.add_argument(
        "--as",
        dest="as_principal",
        metavar="PRINCIPAL",
        help="with PRINCIPAL's grants, masks and row filters",
    )
    p = cmd("query", "read_cmds", "query", "SQL over products named by address (select * from sales.orders)")
    p.add_argument("sql")
    p.add_argument(
        "--as",
        dest="as_principal",
        metavar="PRINCIPAL",
        help="with PRINCIPAL's grants, masks and row filters",
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    _safe_csv(p)
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
    p.add_argument(
        "--sort", choices=("relevance", "popular"), default="relevance", help="popular: most used first"
    )
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
        "slo", "slo_cmds", "slo", "SLOs: objective, attainment, error budget left and burn rate per product"
    )
    p.add_argument("product", nargs="?", metavar="ADDRESS", help="one product (default: all)")
    p.add_argument(
        "--window", metavar="SPAN", help="the rolling window: 28d, 4w, 36h (default: mesh.yaml's, 28d)"
    )
    _json(p)
    p = cmd(
        "run-scheduler", "ops_cmds", "run_scheduler", "build products on their schedules and monitor SLAs"
    )
    p.add_argument("--once", action="store_true", help="build what is due now, then exit")
    p = cmd(
        "serve",
        "serve_cmds",
        "serve",
        "serve the REST API, web catalog, Delta Sharing and /metrics; run the schedules in the background",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    p.add_argument("--no-scheduler", action="store_true", help="do not run the products' schedules")
    p.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="serve a mesh that does not enforce access on a non-loopback address (anyone reaching it reads all)",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="a host name to answer to besides loopback names and IP addresses (repeatable; *.example.com)",
    )
    p = cmd("contract", "mesh_cmds", "contract_diff", "compare two contracts: `contract diff OLD NEW`")
    p.add_argument("action", choices=("diff",))
    p.add_argument("old", help="contract file, or ADDRESS for its last published contract")
    p.add_argument("new", help="contract file, or ADDRESS for the contract in the mesh folder")
    _json(p)
    p = cmd(
        "consumers",
        "consumers_cmds",
        "consumers",
        "who relies on a product and on what: `consumers ADDRESS`; `consumers register NAME --of ADDRESS "
        "--owner OWNER --file FILE`, `consumers unregister NAME --of ADDRESS` (external consumers)",
    )
    p.add_argument("words", nargs="+", metavar="ADDRESS | register NAME | unregister NAME")
    p.add_argument("--of", metavar="ADDRESS[@MAJOR]", help="the product the consumer reads (a major pins it)")
    p.add_argument("--owner", help="whom to ask about the consumer (a user or a team)")
    p.add_argument("--file", metavar="FILE", help="its expectations: an ODCS fragment (properties, quality)")
    _json(p)
    p = cmd(
        "repair",
        "mesh_cmds",
        "repair",
        "rebuild the catalog's version records from the Delta commit metadata",
    )
    _json(p)
    p = cmd(
        "doctor", "ops_cmds", "doctor", "which engine, storage and catalog the mesh uses; is each reachable"
    )
    _json(p)
    _interop(cmd)
    _governance(cmd)
    _access(cmd)
    _notifications(cmd)
    from tessera.cli.share_cmds import add_share_parser

    add_share_parser(cmd)
    if argv is not None and only not in sub.choices:  # --help, or a word that is no command: name them all
        for name, help_ in unbuilt:
            sub.add_parser(name, help=help_, listed_only=True)
    return parser


def _parser(*, listed_only: bool = False, **kwargs: Any) -> Any:
    """A command's parser; none for a command only listed (by ``--help`` or an invalid-choice error)."""
    return _Unbuilt() if listed_only else _Parser(**kwargs)


class _Parser(argparse.ArgumentParser):
    """argparse, with a misspelt command or choice answered by the closest one (exit 2, as argparse's own)."""

    def error(self, message: str) -> NoReturn:
        import re

        found = re.match(r"argument (\S+): invalid choice: '?(.*?)'? \(choose from (.*)\)$", message, re.S)
        if found is None:
            super().error(message)
        from tessera.model.suggest import did_you_mean

        where, word = found[1], found[2]
        choices = [c.strip().strip("'") for c in found[3].split(",")]
        hint = did_you_mean(word, (repr(c) for c in choices)) or f" (choose from {', '.join(choices)})"
        if self.prog == "tessera" and where == "COMMAND":
            self.exit(2, f"error: unknown command {word!r}{hint}\n")
        self.exit(
            2,
            f"error: {self.prog}: invalid {where if where.startswith('-') else where.lower()} {word!r}{hint}\n",
        )


def _interop(cmd: Callable[[str, str, str, str], argparse.ArgumentParser]) -> None:
    imports = "avro, csv, dbt, dcs, delta, json, jsonschema, odcs, parquet, postgres, sql"
    p = cmd("import", "interop_cmds", "import_", "write an ODCS contract (and a product) from another format")
    p.add_argument("format", metavar="FORMAT", help=imports)
    p.add_argument(
        "source", metavar="SOURCE", help="the file to read (for postgres: postgresql://host:port/db)"
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="where to write (default: stdout); with --product a folder"
    )
    p.add_argument(
        "--product",
        action="store_true",
        help="write a product folder: contract.odcs.yaml, product.odps.yaml and transform.sql (dbt)",
    )
    p.add_argument("--dialect", help="SQL dialect of a DDL file or dbt project (sqlglot's names)")
    p.add_argument("--table", help="the table to take: [schema.]name for postgres, one of several in a file")
    p.add_argument("--model", help="dbt: the one model to import")
    p.add_argument("--name", help="the contract's name (default: from the source)")
    p.add_argument("--domain", help="with --product: the products' domain")
    p.add_argument("--owner", metavar="EMAIL", help="with --product: the product owner")
    p = cmd("export", "interop_cmds", "export_", "write an ODCS contract in another format")
    p.add_argument("format", metavar="FORMAT", help="avro, dbt, dcs, html, jsonschema, odcs, sql")
    p.add_argument("contract", metavar="CONTRACT", help="the ODCS contract file")
    p.add_argument("-o", "--output", metavar="FILE", help="where to write (default: stdout)")
    p.add_argument(
        "--dialect", default="duckdb", help="sql, dbt: the SQL dialect of column types (default duckdb)"
    )
    p.add_argument(
        "--lossy", action="store_true", help="write even when the format cannot express every field (warns)"
    )


def _new(cmd: Callable[[str, str, str, str], argparse.ArgumentParser]) -> None:
    p = cmd(
        "new",
        "new_cmds",
        "new",
        "write a domain (`new domain NAME --owner EMAIL`) or a product (`new product DOMAIN.NAME --from FILE`)",
    )
    p.add_argument("kind", choices=("domain", "product"))
    p.add_argument("name", help="the domain's NAME, or the product's DOMAIN.NAME")
    p.add_argument("--owner", metavar="EMAIL", help="owner (domain: required; product: default the domain's)")
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--from",
        dest="source",
        metavar="FILE",
        help="infer the contract from this data (parquet, csv, json, delta)",
    )
    source.add_argument(
        "--from-dbt",
        dest="dbt_model",
        metavar="MODEL",
        help="a dbt model: its columns, tests and compiled SQL",
    )
    p.add_argument(
        "--manifest",
        metavar="FILE",
        default="target/manifest.json",
        help="with --from-dbt: the dbt manifest (default: target/manifest.json)",
    )
    p.add_argument(
        "--input",
        dest="inputs",
        action="append",
        metavar="ADDRESS",
        help="an input (DOMAIN.NAME or source.SYSTEM.TABLE): a transform.sql selecting its columns (repeatable)",
    )
    p.add_argument(
        "--format",
        choices=("parquet", "csv", "json", "delta"),
        help="the --from data's format (default: its suffix)",
    )


def _governance(cmd: Callable[[str, str, str, str], argparse.ArgumentParser]) -> None:
    p = cmd("govern", "gov_cmds", "govern", "evaluate every policy on every product; exit 1 on violations")
    p.add_argument("products", nargs="*", metavar="ADDRESS", help="products to evaluate (default: all)")
    p.add_argument("--fix", action="store_true", help="first apply retention (delete expired rows, vacuum)")
    _json(p)
    p = cmd(
        "policy", "gov_cmds", "policy", "`policy list`; `policy test [NAME...]` runs each policy's test cases"
    )
    p.add_argument("action", choices=("list", "test"))
    p.add_argument("names", nargs="*", metavar="NAME", help="policies (default: all)")
    _json(p)
    p = cmd(
        "erase",
        "remediate_cmds",
        "erase",
        "right to erasure: delete a data subject from every product holding them",
    )
    p.add_argument("--subject", required=True, metavar="KEY=VALUE", help="e.g. customer_id=C123")
    p.add_argument("--dry-run", action="store_true", help="report what would be erased; change nothing")
    _json(p)


def _notifications(cmd: Callable[[str, str, str, str], argparse.ArgumentParser]) -> None:
    events = (
        "comma-separated events (default: all): version.published, major.published, deprecation.announced, "
    )
    events += "retirement.upcoming, retired, sla.opened, sla.resolved, quality.refused, slo.burn"
    p = cmd("subscribe", "notify_cmds", "subscribe", "follow a product: be notified of its events")
    p.add_argument("address")
    p.add_argument("--events", metavar="EVENT,...", help=events)
    p.add_argument("--principal", help="who follows (default: the token's principal; others: admins)")
    p = cmd("unsubscribe", "notify_cmds", "unsubscribe", "stop following a product")
    p.add_argument("address")
    p.add_argument("--principal", help="who stops following (default: the token's principal)")
    p = cmd("subscriptions", "notify_cmds", "subscriptions", "who follows which product, for which events")
    p.add_argument("--principal")
    p.add_argument("--address", metavar="ADDRESS")
    _json(p)
    p = cmd(
        "notifications",
        "notify_cmds",
        "notifications",
        "the notification outbox (queued, sent, failed); `notifications deliver` sends what is due",
    )
    p.add_argument("action", nargs="?", choices=("list", "deliver"), default="list")
    p.add_argument("--address", metavar="ADDRESS")
    p.add_argument("--status", choices=("queued", "sent", "failed"))
    p.add_argument("--recipient", metavar="PRINCIPAL")
    _json(p)


def _access(cmd: Callable[[str, str, str, str], argparse.ArgumentParser]) -> None:
    p = cmd(
        "principal",
        "access_cmds",
        "principal",
        "users, service principals and groups: add, list, remove, email",
    )
    p.add_argument("action", choices=("add", "list", "remove", "email"))
    p.add_argument("name", nargs="?")
    p.add_argument("--kind", choices=("user", "service", "group"), default="user")
    p.add_argument("--display-name", metavar="TEXT")
    p.add_argument(
        "--email", metavar="ADDRESS", help="where notifications go (add, email; email without it clears)"
    )
    _json(p)
    p = cmd(
        "group",
        "access_cmds",
        "group",
        "group membership: `group add GROUP MEMBER`, `group remove`, `group list`",
    )
    p.add_argument("action", choices=("add", "remove", "list"))
    p.add_argument("group")
    p.add_argument("member", nargs="?")
    _json(p)
    p = cmd(
        "grant",
        "access_cmds",
        "grant",
        "grant read|publish|admin (or a role) on mesh, domain:NAME or ADDRESS",
    )
    p.add_argument(
        "privilege",
        help="read, publish, admin, or a role: product-owner, technical-lead, data-steward, consumer",
    )
    p.add_argument("scope", help="mesh, domain:NAME, or a product ADDRESS")
    p.add_argument("principal")
    p.add_argument("--row-filter", metavar="SQL", help="a predicate over the product's columns (read grants)")
    p.add_argument("--clearance", action="store_true", help="sees sensitive columns unmasked")
    p.add_argument("--expires", metavar="DAYS", type=int, help="the grant lapses after DAYS days")
    _json(p)
    p = cmd("revoke", "access_cmds", "revoke", "revoke a grant: by id, or PRIVILEGE SCOPE PRINCIPAL")
    p.add_argument("what", nargs="+", metavar="ID | PRIVILEGE SCOPE PRINCIPAL")
    p = cmd("grants", "access_cmds", "grants", "list grants (live; --all adds revoked and expired)")
    p.add_argument("--principal")
    p.add_argument("--scope")
    p.add_argument("--all", action="store_true")
    _json(p)
    p = cmd(
        "token",
        "access_cmds",
        "token",
        "API tokens: `token create PRINCIPAL`, `token revoke ID`, `token list`",
    )
    p.add_argument("action", choices=("create", "revoke", "list"))
    p.add_argument("target", nargs="?", metavar="PRINCIPAL|ID")
    p.add_argument("--days", type=int, help="lifetime in days (default: mesh.yaml access.tokenDays, else 90)")
    p.add_argument("--label")
    _json(p)
    p = cmd("access", "access_cmds", "access", "access requests: request, list, approve, reject")
    p.add_argument("action", choices=("request", "list", "approve", "reject"))
    p.add_argument("target", nargs="?", metavar="ADDRESS|ID")
    p.add_argument("--purpose", help="why the access is needed (request)")
    p.add_argument("--as", dest="as_principal", metavar="PRINCIPAL", help="request on behalf of PRINCIPAL")
    p.add_argument("--reason", help="why (reject, approve)")
    p.add_argument("--expires", metavar="DAYS", type=int, help="the approved grant lapses after DAYS days")
    p.add_argument("--row-filter", metavar="SQL", help="the approved grant's row filter")
    p.add_argument("--status", choices=("pending", "approved", "rejected", "all"), default="pending")
    _json(p)
    p = cmd("usage", "usage_cmds", "usage", "reads, queries, readers and rows read per product (audit log)")
    p.add_argument("address", nargs="?", help="one product (default: every product used in the window)")
    p.add_argument("--since", metavar="DATE", help="ISO date or datetime, or 7d / 12h ago (default: 28 days)")
    _json(p)
    p = cmd("audit", "access_cmds", "audit", "the hash-chained audit log; `audit verify` proves it untouched")
    p.add_argument("action", nargs="?", choices=("list", "verify"), default="list")
    p.add_argument("--since", metavar="DATE", help="ISO date or datetime, or 7d / 12h ago")
    p.add_argument("--limit", type=int, default=100)
    _json(p)
