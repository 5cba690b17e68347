"""Each command pays only for what it uses: ``tessera --help``, a bare ``tessera test`` and ``tessera query``
on a trusted local mesh load neither the web stack (FastAPI, Starlette, uvicorn, Jinja2) nor SQLAlchemy nor
the catalog; ``tessera read`` needs the catalog (which release an address names) and nothing of the web stack.
Each is run as a whole process that prints, after the command, every module it imported. Also here: the
command tree built for one command is the full tree's, and the quick type families equal Arrow's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import tessera
from tessera.cli.parser import build_parser, command_of
from tessera.model.contract import Column
from tessera.storage.families import PHYSICAL_FAMILIES, UNKNOWN, quick_family
from tessera.storage.schema import arrow_family, arrow_type
from tests.fixtures.meshkit import make_mesh, orders_table

#: Runs the CLI's main on argv[2:], then writes the imported modules' names to the file argv[1].
WRAPPER = """
import sys
from tessera.cli import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as out:
    out.write("\\n".join(sorted(sys.modules)))
sys.exit(code)
"""
WEB = {"fastapi", "starlette", "uvicorn", "jinja2"}
HEAVY = WEB | {"sqlalchemy", "tessera.catalog", "sqlglot"}


def imported(tmp_path: Path, *args: str, ok: tuple[int, ...] = (0,)) -> set[str]:
    listing = tmp_path / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(listing), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode in ok, done.stderr
    return set(listing.read_text().split())


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_mesh(tmp_path_factory.mktemp("imports") / "mesh")
    with tessera.open(root) as opened:
        opened.publish("sales.orders", orders_table())
    return root


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    found = imported(tmp_path, "--help")
    assert not found & (HEAVY | {"duckdb", "pyarrow", "yaml", "tessera.platform"})


def test_a_bare_contract_test_loads_no_catalog_arrow_nor_sql_parser(tmp_path: Path) -> None:
    data = tmp_path / "orders.parquet"
    pq.write_table(pa.table({"id": [1, 2, 2], "email": ["a@x.io", None, "c@x.io"]}), data)
    contract = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "orders",
        "name": "orders",
        "version": "1.0.0",
        "status": "active",
        "servers": [{"server": "local", "type": "local", "path": str(data), "format": "parquet"}],
        "schema": [
            {
                "name": "orders",
                "properties": [
                    {"name": "id", "logicalType": "integer", "physicalType": "bigint", "unique": True},
                    {"name": "email", "logicalType": "string", "physicalType": "varchar", "required": True},
                ],
                "quality": [{"type": "sql", "query": "SELECT count(*) FROM orders", "mustBe": 3}],
            }
        ],
    }
    path = tmp_path / "orders.odcs.yaml"
    path.write_text(yaml.safe_dump(contract, sort_keys=False))
    found = imported(tmp_path, "test", str(path), ok=(1,))  # id is not unique, an email is missing
    assert not found & (HEAVY | {"pyarrow", "tessera.storage.schema"})


def test_query_on_a_trusted_mesh_opens_no_catalog(tmp_path: Path, mesh: Path) -> None:
    found = imported(tmp_path, "-C", str(mesh), "query", "select count(*) from sales.orders", "--json")
    assert not found & HEAVY


def test_read_opens_the_catalog_but_no_web_stack(tmp_path: Path, mesh: Path) -> None:
    found = imported(tmp_path, "-C", str(mesh), "read", "sales.orders", "--limit", "2", "--json")
    assert "tessera.catalog" in found and not found & (WEB | {"sqlglot"})


def _commands(parser: object) -> dict[str, object]:
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")  # type: ignore[attr-defined]
    return dict(action.choices)


def test_the_tree_built_for_one_command_is_the_full_trees() -> None:
    full = build_parser()
    assert build_parser(["--help"]).format_help() == full.format_help()
    assert build_parser(["--help", "validate"]).format_help() == full.format_help()
    for name, parser in _commands(full).items():
        alone = _commands(build_parser(["-C", "x", name]))
        assert list(alone) == [name]
        assert alone[name].format_help() == parser.format_help(), name  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["--help"], None),
        (["query", "x"], "query"),
        (["-C", "query", "read"], "read"),
        (["-Cdir", "read"], "read"),
        (["--mesh", "m", "--token=t", "test", "c.yaml"], "test"),
        (["--me", "m", "--to", "t", "validate"], "validate"),
        (["--", "plan"], None),
        (["--help", "validate"], None),
        (["-C", "m", "--he", "query"], None),
        (["-h", "read"], None),
        (["--version"], None),
    ],
)
def test_the_command_is_read_as_argparse_reads_it(argv: list[str], command: str | None) -> None:
    assert command_of(argv) == command


@pytest.mark.parametrize(
    "physical",
    [*PHYSICAL_FAMILIES, "decimal(10,2)", "NUMERIC(38, 4)", "varchar(20)", "char(3)", "Double  Precision"],
)
@pytest.mark.parametrize("logical", ["string", "integer", "number", "date", "timestamp", "boolean", "object"])
def test_quick_type_families_are_arrows(physical: str, logical: str) -> None:
    column = Column("c", logical, physical_type=physical)  # type: ignore[arg-type]
    quick = quick_family(column)
    assert quick != UNKNOWN
    typ = arrow_type(column)
    assert quick == (arrow_family(typ) if typ is not None else None)


@pytest.mark.parametrize(("precision", "scale"), [(10, 2), (38, 0), (1, 5)])
def test_quick_decimal_families_are_arrows(precision: int, scale: int) -> None:
    column = Column("c", "number", precision=precision, scale=scale)
    typ = arrow_type(column)
    assert quick_family(column) == (arrow_family(typ) if typ is not None else None) == "number"


SERVER = """
import sys
from tessera.server.app import create_app
create_app(sys.argv[2])
with open(sys.argv[1], "w") as out:
    out.write("\\n".join(sorted(sys.modules)))
"""


def test_a_server_starts_without_the_data_stack(tmp_path: Path, mesh: Path) -> None:
    """``tessera serve`` idles on the catalog alone (docs/architecture.md, "Caches of the catalog"): Arrow,
    deltalake, DuckDB and sqlglot load with the first answer that needs them, not at start."""
    listing = tmp_path / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", SERVER, str(listing), str(mesh)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    found = set(listing.read_text().split())
    assert "fastapi" in found  # the listing is the server's
    assert not found & {"pyarrow", "deltalake", "duckdb", "sqlglot", "numpy", "pandas"}
