"""A newcomer's path: from an empty folder to a published product with the README's "Bring your own data"
commands, run as real processes; ``tessera new`` refusals; owners become principals on apply."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import tessera
from tessera.errors import TesseraError

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def shipments(rows: int = 2_000) -> pa.Table:
    """Realistic shipments: ids, a customer email with some nulls, timestamps, statuses, amounts."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    statuses = ("created", "in_transit", "delivered", "returned")
    return pa.table(
        {
            "shipment_id": pa.array([f"SH{i:07d}" for i in range(rows)]),
            "order_id": pa.array([100_000 + i // 2 for i in range(rows)], pa.int64()),
            "customer_email": [
                None if i % 25 == 0 else f"customer{i % 700}@example.com" for i in range(rows)
            ],
            "carrier": [("dhl", "ups", "gls")[i % 3] for i in range(rows)],
            "status": [statuses[i % 4] for i in range(rows)],
            "shipped_at": pa.array(
                [start + timedelta(minutes=7 * i) for i in range(rows)], pa.timestamp("us", "UTC")
            ),
            "delivered_at": pa.array(
                [None if i % 4 < 2 else start + timedelta(minutes=7 * i, days=2) for i in range(rows)],
                pa.timestamp("us", "UTC"),
            ),
            "weight_kg": pa.array([0.5 + (i % 40) / 4 for i in range(rows)], pa.float64()),
            "amount": pa.array([Decimal(499 + i % 3000) / 100 for i in range(rows)], pa.decimal128(10, 2)),
        }
    )


def readme_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Bring your own data", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "no bash block in the README's Bring your own data section"
    out = []
    for line in block[1].splitlines():
        out += [p.strip() for p in line.split("  #", 1)[0].split("&&") if p.strip()]
    return out


def test_bring_your_own_data_succeeds_first_time(tmp_path: Path) -> None:
    """The README's commands, as written, from an empty folder: every one exits 0 the first time."""
    commands = readme_commands()
    assert commands[:2] == ["tessera init m", "cd m"]
    assert "tessera publish logistics.shipments --from shipments.parquet" in commands
    cwd = tmp_path
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    for command in commands:
        args = shlex.split(command)
        if args[0] == "cd":
            cwd = cwd / args[1]
            pq.write_table(shipments(), cwd / "shipments.parquet")  # the newcomer's own file
            continue
        assert args[0] == "tessera"
        result = run(*args[1:], cwd=cwd)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        results[args[1] if args[1] != "new" else f"new {args[2]}"] = result
    assert "2,000 rows" in results["publish"].stdout and "quality passed" in results["publish"].stdout
    # validate flags the description placeholders with file:line, and does not block
    todo = results["validate"].stderr
    assert "product.odps.yaml:" in todo and "description.purpose: TODO: describe what shipments holds" in todo
    assert "domain.yaml:" in todo and "TODO: describe the logistics domain" in todo
    # every built-in policy passes on what was written
    governed = run("govern", "--json", cwd=cwd)
    assert governed.returncode == 0, governed.stdout + governed.stderr
    # the owner is a principal now: a token can be made for them
    token = run("token", "create", "a@b.c", cwd=cwd)
    assert token.returncode == 0 and token.stdout.strip().startswith("tsk_"), token.stderr
    read = run("read", "logistics.shipments", "--json", "--limit", "3", cwd=cwd)
    assert read.returncode == 0 and len([json.loads(x) for x in read.stdout.splitlines()]) == 3
    contract = yaml.safe_load((cwd / "domains/logistics/products/shipments/contract.odcs.yaml").read_text())
    props = {p["name"]: p for p in contract["schema"][0]["properties"]}
    assert props["customer_email"]["classification"] == "pii" and "required" not in props["customer_email"]
    assert props["shipment_id"]["primaryKey"] and not props["order_id"].get("unique")
    assert {"property": "retention", "element": "shipments.shipped_at"}.items() <= next(
        s for s in contract["slaProperties"] if s["property"] == "retention"
    ).items()


@pytest.fixture
def newcomer_mesh(tmp_path: Path) -> Path:
    assert run("init", "m", cwd=tmp_path).returncode == 0
    root = tmp_path / "m"
    pq.write_table(shipments(200), root / "shipments.parquet")
    assert run("new", "domain", "logistics", "--owner", "a@b.c", cwd=root).returncode == 0
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "domains").rglob("*")) if p.is_file()
    }


def test_new_refuses_to_overwrite_and_writes_nothing(newcomer_mesh: Path) -> None:
    root = newcomer_mesh
    first = run("new", "product", "logistics.shipments", "--from", "shipments.parquet", cwd=root)
    assert first.returncode == 0, first.stderr
    before = _files(root)
    again = run("new", "product", "logistics.shipments", "--from", "shipments.parquet", cwd=root)
    assert (
        again.returncode == 1
        and "does not overwrite" in again.stderr
        and "nothing was written" in again.stderr
    )
    domain = run("new", "domain", "logistics", "--owner", "x@y.z", cwd=root)
    assert domain.returncode == 1 and "domain logistics exists" in domain.stderr
    # a product folder holding a transform someone wrote by hand is not touched either
    (root / "domains/logistics/products/returns").mkdir(parents=True)
    (root / "domains/logistics/products/returns/contract.odcs.yaml").write_text("# mine\n")
    mine = run("new", "product", "logistics.returns", "--from", "shipments.parquet", cwd=root)
    assert mine.returncode == 1 and "contract.odcs.yaml already exists" in mine.stderr
    assert not (root / "domains/logistics/products/returns/product.odps.yaml").exists()
    assert _files(root) == {**before, "domains/logistics/products/returns/contract.odcs.yaml": b"# mine\n"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["domain", "Logistics", "--owner", "a@b.c"], "domain name 'Logistics' is not lower snake_case"),
        (["domain", "source", "--owner", "a@b.c"], "is reserved"),
        (["domain", "billing", "--owner", "not an email"], "is not an email address"),
        (["domain", "billing"], "needs --owner EMAIL"),
        (["product", "logistics.Ship-ments", "--from", "shipments.parquet"], "is not lower snake_case"),
        (["product", "shipments", "--from", "shipments.parquet"], "is not a product address DOMAIN.NAME"),
        (["product", "billing.invoices", "--from", "shipments.parquet"], "tessera new domain billing"),
        (["product", "logistics.shipments"], "--from FILE, --from-dbt MODEL or --input"),
        (["product", "logistics.shipments", "--from", "missing.parquet"], "no file"),
        (["product", "logistics.shipments", "--from", "shipments.xlsx"], "cannot tell its format"),
        (["product", "logistics.shipments", "--from-dbt", "stg_shipments"], "no dbt manifest at"),
        (["product", "logistics.shipments", "--input", "sales.orders"], "no such product"),
    ],
)
def test_new_refusals_are_one_clear_message(newcomer_mesh: Path, args: list[str], needle: str) -> None:
    before = _files(newcomer_mesh)
    result = run("new", *args, cwd=newcomer_mesh)
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert _files(newcomer_mesh) == before


def test_new_product_refuses_published_data_and_unsnake_columns(newcomer_mesh: Path) -> None:
    root = newcomer_mesh
    assert (
        run("new", "product", "logistics.shipments", "--from", "shipments.parquet", cwd=root).returncode == 0
    )
    assert run("apply", cwd=root).returncode == 0
    assert run("publish", "logistics.shipments", "--from", "shipments.parquet", cwd=root).returncode == 0
    published = next((root / "data/logistics/shipments").rglob("*.parquet"))
    copy = run("new", "product", "logistics.copy", "--from", str(published), cwd=root)
    assert copy.returncode == 1 and "lies inside the mesh" in copy.stderr
    pq.write_table(pa.table({"Shipment ID": [1, 2]}), root / "odd.parquet")
    odd = run("new", "product", "logistics.odd", "--from", "odd.parquet", cwd=root)
    assert odd.returncode == 1 and "'Shipment ID'" not in odd.stderr and "Shipment ID" in odd.stderr
    assert not (root / "domains/logistics/products/odd").exists()
    assert not (root / "domains/logistics/products/copy").exists()


def test_new_product_from_inputs_builds(newcomer_mesh: Path) -> None:
    """--input: the contract is the inputs' columns, transform.sql selects them, and it builds first time."""
    root = newcomer_mesh
    assert (
        run("new", "product", "logistics.shipments", "--from", "shipments.parquet", cwd=root).returncode == 0
    )
    made = run("new", "product", "logistics.deliveries", "--input", "logistics.shipments", cwd=root)
    assert made.returncode == 0, made.stderr
    folder = root / "domains/logistics/products/deliveries"
    sql = (folder / "transform.sql").read_text()
    assert sql.startswith("-- TODO: describe what this transform does")
    assert "    shipment_id,\n" in sql and "FROM logistics.shipments" in sql
    product = yaml.safe_load((folder / "product.odps.yaml").read_text())
    assert product["inputPorts"] == [
        {"name": "logistics.shipments", "version": "1.0.0", "contractId": "logistics-shipments"}
    ]
    contract = yaml.safe_load((folder / "contract.odcs.yaml").read_text())
    upstream = yaml.safe_load((root / "domains/logistics/products/shipments/contract.odcs.yaml").read_text())
    assert contract["schema"][0]["properties"] == upstream["schema"][0]["properties"]
    assert contract["id"] == "logistics-deliveries" and contract["domain"] == "logistics"
    validate = run("validate", cwd=root)
    assert validate.returncode == 0 and "transform.sql:1" in validate.stderr, validate.stderr
    assert run("apply", cwd=root).returncode == 0
    assert run("publish", "logistics.shipments", "--from", "shipments.parquet", cwd=root).returncode == 0
    built = run("build", "logistics.deliveries", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    count = run("query", "select count(*) as n from logistics.deliveries", "--json", cwd=root)
    assert json.loads(count.stdout) == {"n": 200}


def test_new_product_from_a_source_and_a_join(newcomer_mesh: Path) -> None:
    root = newcomer_mesh
    (root / "sources/carriers").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {"shipment_id": [f"SH{i:07d}" for i in range(200)], "eta_days": [i % 5 for i in range(200)]}
        ),
        root / "sources/carriers/etas.parquet",
    )
    domain = root / "domains/logistics/domain.yaml"
    doc = yaml.safe_load(domain.read_text())
    doc["sourceSystems"] = [
        {
            "name": "carriers",
            "tables": [{"name": "etas", "path": "sources/carriers/etas.parquet", "format": "parquet"}],
        }
    ]
    domain.write_text(yaml.safe_dump(doc))
    assert (
        run("new", "product", "logistics.shipments", "--from", "shipments.parquet", cwd=root).returncode == 0
    )
    made = run(
        "new", "product", "logistics.tracked", "--input", "logistics.shipments", "--input",
        "source.carriers.etas", cwd=root,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    sql = (root / "domains/logistics/products/tracked/transform.sql").read_text()
    assert "JOIN source.carriers.etas AS i2 USING (shipment_id)" in sql and "i2.eta_days" in sql
    props = yaml.safe_load((root / "domains/logistics/products/tracked/contract.odcs.yaml").read_text())
    names = [p["name"] for p in props["schema"][0]["properties"]]
    assert names[-1] == "eta_days" and names.count("shipment_id") == 1
    assert not any(p.get("primaryKey") for p in props["schema"][0]["properties"])  # a join may repeat rows
    assert run("apply", cwd=root).returncode == 0
    assert run("publish", "logistics.shipments", "--from", "shipments.parquet", cwd=root).returncode == 0
    built = run("build", "logistics.tracked", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr


def test_apply_makes_the_people_in_mesh_files_principals(newcomer_mesh: Path) -> None:
    root = newcomer_mesh
    assert (
        run("new", "product", "logistics.shipments", "--from", "shipments.parquet", cwd=root).returncode == 0
    )
    path = root / "domains/logistics/products/shipments/product.odps.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["team"]["members"] += [
        {"username": "sam@b.c", "name": "Sam", "role": "technical lead"},
        {"username": "Not A Login", "role": "data steward"},  # free text: no principal can be named so
    ]
    path.write_text(yaml.safe_dump(doc))
    with tessera.open(root) as mesh:
        steps = [s for s in mesh.plan().steps if s.target == "principal"]
        assert [(s.name, s.detail) for s in steps] == [
            ("a@b.c", "owner of domain logistics"),
            ("sam@b.c", "technical lead of logistics.shipments"),
        ]
        mesh.access.add_principal("ops@b.c", "group")  # an existing principal is left as it is
        mesh.apply()
        people = {p.name: (p.kind, p.display_name) for p in mesh.access.principals()}
        assert people == {"a@b.c": ("user", None), "sam@b.c": ("user", "Sam"), "ops@b.c": ("group", None)}
        assert mesh.plan().empty
        added = [e for e in mesh.access.audit() if e.action == "principal.add"]
        assert {e.subject for e in added} >= {"a@b.c", "sam@b.c"}
        # a name apply made a user can still become a group while it holds nothing (a team mailbox) ...
        assert mesh.access.add_principal("a@b.c", "group").kind == "group"
        # ... but not once it holds a token, a grant or a membership
        mesh.access.create_token("sam@b.c")
        with pytest.raises(TesseraError, match="already exists as a user"):
            mesh.access.add_principal("sam@b.c", "group")


def test_data_in_a_storage_root_outside_the_mesh_is_refused_with_dash_c(
    newcomer_mesh: Path, tmp_path: Path
) -> None:
    """A storage root elsewhere on disk, and the command run from another folder with -C."""
    mesh_yaml = newcomer_mesh / "mesh.yaml"
    storage = tmp_path / "elsewhere"
    mesh_yaml.write_text(mesh_yaml.read_text().replace("storage: data", f"storage: {storage}"))
    (storage / "logistics/shipments/v1").mkdir(parents=True)
    pq.write_table(shipments(10), storage / "logistics/shipments/v1/part-0.parquet")
    result = run(
        "-C", str(newcomer_mesh), "new", "product", "logistics.copy", "--from",
        str(storage / "logistics/shipments/v1/part-0.parquet"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1 and "lies inside the mesh" in result.stderr, result.stderr
    assert not (newcomer_mesh / "domains/logistics/products/copy").exists()


def test_new_product_from_a_dbt_model(newcomer_mesh: Path) -> None:
    """`--from-dbt MODEL` takes the model's columns, tests and compiled SQL, with its refs as input ports."""
    root = newcomer_mesh
    manifest = REPO / "tests/fixtures/interop/dbt/jaffle_duckdb.manifest.json"
    args = ["new", "product", "logistics.orders", "--from-dbt", "orders", "--manifest", str(manifest)]
    result = run(*args, cwd=root)
    assert result.returncode == 0, result.stderr
    folder = root / "domains/logistics/products/orders"
    contract = yaml.safe_load((folder / "contract.odcs.yaml").read_text())
    names = [p["name"] for p in contract["schema"][0]["properties"]]
    assert names[:2] == ["order_id", "customer_id"] and contract["schema"][0]["name"] == "orders"
    product = yaml.safe_load((folder / "product.odps.yaml").read_text())
    assert {p["name"] for p in product["inputPorts"]} == {"logistics.stg_orders", "logistics.stg_payments"}
    assert "logistics.stg_orders" in (folder / "transform.sql").read_text()
    unknown = run(
        "new", "product", "logistics.other", "--from-dbt", "nope", "--manifest", str(manifest), cwd=root
    )
    assert unknown.returncode == 2 and "no model named 'nope'" in unknown.stderr


# -- the walk-through's polish: errors that say what to type, output a newcomer can read --------------------------

READ_ORDERS = "dana@example.com"


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small mesh of ``tests/fixtures/meshkit.py`` with sales.orders published; dana may read sales.orders only,
    rows of DE only."""
    from tests.fixtures.meshkit import make_mesh, orders_table

    root = make_mesh(tmp_path_factory.mktemp("walk") / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table())
        mesh.access.add_principal(READ_ORDERS)
        mesh.access.grant("read", "sales.orders", READ_ORDERS, row_filter="country = 'DE'")
    return root


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run("-C", str(root), *args, cwd=root)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select amont from sales.orders", "no column 'amont' in sales.orders; did you mean column amount?"),
        ("select o.amont from sales.orders o", "no column 'amont' in table o; did you mean column amount?"),
        ("select * from sales.order", "no product 'sales.order' in this mesh; did you mean sales.orders?"),
        ("select * from sale.orders", "no product 'sale.orders' in this mesh; did you mean sales.orders?"),
        ("select * from orders", "no product 'orders' in this mesh; did you mean sales.orders?"),
        (
            "selec * from sales.orders",
            "the SQL does not parse: syntax error at or near 'selec'; did you mean SELECT?",
        ),
        ("select foo(amount) from sales.orders", "no function foo()"),
    ],
)
def test_query_errors_name_the_unknown_and_the_closest(walked: Path, sql: str, message: str) -> None:
    """`tessera query` (its fast path), and the SDK's full trusted path: a QueryError, never DuckDB's own."""
    from tessera.errors import QueryError

    result = cli(walked, "query", sql)
    assert result.returncode == 1 and f"error: {message}" in result.stderr, result.stderr
    assert " Error: " not in result.stderr  # no "Binder Error:", "Catalog Error:", "Parser Error:"
    with tessera.open(walked) as mesh, pytest.raises(QueryError) as raised:
        mesh.query(sql)
    assert str(raised.value).startswith(message.split(";", maxsplit=1)[0]) and message in str(raised.value)


def test_a_principals_query_errors_suggest_only_what_it_may_read(walked: Path) -> None:
    from tessera.errors import AccessDeniedError, QueryError

    with tessera.open(walked) as mesh:
        as_dana = {"as_principal": READ_ORDERS}
        with pytest.raises(QueryError) as column:
            mesh.query("select amont from sales.orders", **as_dana)
        assert str(column.value) == (  # the author's SQL, not the one the guard generated
            "no column 'amont' in sales.orders; did you mean column amount?\n  in: select amont from sales.orders"
        )
        with pytest.raises(
            QueryError, match=r"no product 'sales.order' in this mesh; did you mean sales\.orders\?"
        ):
            mesh.query("select * from sales.order", **as_dana)
        with pytest.raises(QueryError) as unseen:  # crm.customers exists, but dana may not read it
            mesh.query("select * from crm.customer", **as_dana)
        assert "crm.customers" not in str(unseen.value) and "did you mean" not in str(unseen.value)
        with pytest.raises(AccessDeniedError):  # the guard is as strict as before
            mesh.query("select * from crm.customers", **as_dana)
        with pytest.raises(QueryError, match="values hidden"):  # a value under a row filter stays hidden
            mesh.query("select * from sales.orders where amount = 'abc'", **as_dana)
    result = cli(walked, "query", "selec 1", "--as", READ_ORDERS)
    assert result.returncode == 1 and "did you mean SELECT?" in result.stderr, result.stderr


def test_rest_query_errors_are_400_with_the_suggestion(walked: Path) -> None:
    import warnings

    from tessera.server import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with TestClient(create_app(walked), base_url="http://127.0.0.1") as client:
        answer = client.post("/api/v1/query", json={"sql": "select amont from sales.orders"})
    assert answer.status_code == 400, answer.text
    assert "did you mean column amount?" in answer.json()["detail"]


@pytest.mark.parametrize(
    "args",
    [
        ("read", "sales.order"),
        ("history", "sales.order"),
        ("catalog", "show", "sales.order"),
        ("lineage", "sales.order"),
        ("build", "sales.order"),
        ("quality", "sales.order"),
        ("status", "sales.order"),
        ("test", "sales.order"),
    ],
)
def test_a_misspelt_address_suggests_the_closest_product(walked: Path, args: tuple[str, ...]) -> None:
    result = cli(walked, *args)
    assert result.returncode == 1 and "'sales.order'" in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith("did you mean sales.orders?"), result.stderr


def test_a_misspelt_column_suggests_the_closest(walked: Path) -> None:
    for args in (
        ("read", "sales.orders", "--columns", "amont"),
        ("read", "sales.orders", "--columns", "amont", "--as", READ_ORDERS),
    ):
        result = cli(walked, *args)
        assert result.returncode == 1 and "no column 'amont'; did you mean column amount?" in result.stderr
    lineage = cli(walked, "lineage", "sales.orders.amont")
    assert lineage.returncode == 1 and "did you mean sales.orders.amount?" in lineage.stderr, lineage.stderr


def test_a_misspelt_command_suggests_the_closest(walked: Path) -> None:
    for args, message in [
        (("buld",), "error: unknown command 'buld'; did you mean 'build'?"),
        (("catalog", "shwo"), "error: tessera catalog: invalid action 'shwo'; did you mean 'show'?"),
        (("xyzzy",), "error: unknown command 'xyzzy' (choose from init, new, validate"),
    ]:
        result = cli(walked, *args)
        assert result.returncode == 2 and result.stderr.startswith(message), result.stderr
        assert "usage:" not in result.stderr


def test_read_hides_the_provenance_columns_and_cuts_long_cells(walked: Path) -> None:
    from tessera.storage.schema import METADATA_COLUMNS

    provenance = {name for name, _ in METADATA_COLUMNS}
    rows = [
        json.loads(x)
        for x in cli(walked, "read", "sales.orders", "--limit", "2", "--json").stdout.splitlines()
    ]
    assert len(rows) == 2 and not provenance & set(rows[0]) and "amount" in rows[0]
    every = json.loads(cli(walked, "read", "sales.orders", "--limit", "1", "--all-columns", "--json").stdout)
    assert provenance <= set(every)
    table = cli(walked, "read", "sales.orders", "--limit", "2").stdout
    assert "order_id" in table and "_product_name" not in table and "_publish" not in table
    csv = cli(walked, "read", "sales.orders", "--limit", "1", "--format", "csv").stdout
    assert "_domain" not in csv.splitlines()[0] and "email" in csv.splitlines()[0]
    named = json.loads(
        cli(walked, "read", "sales.orders", "--limit", "1", "--columns", "_domain", "--json").stdout
    )
    assert named == {"_domain": "sales"}  # asked for by name: shown
    long = "select repeat('x', 100) as long_text"
    shown = cli(walked, "query", long).stdout
    assert "x" * 39 + "…" in shown and "x" * 40 not in shown
    assert json.loads(cli(walked, "query", long, "--json").stdout) == {"long_text": "x" * 100}


def test_serve_says_the_port_is_busy_before_serving(walked: Path) -> None:
    import socket

    pytest.importorskip("uvicorn")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(walked, "serve", "--port", str(port), "--no-scheduler")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"error: port {port} is in use on 127.0.0.1" in result.stderr and "--port" in result.stderr
    assert "serving" not in result.stdout


def test_figures_are_rounded_for_a_reader() -> None:
    from datetime import timedelta
    from decimal import Decimal

    from tessera.cli.render import count, figure, moment, span

    assert [span(timedelta(seconds=s)) for s in (12, 60 * 12, 3600 * 3 + 60 * 12, 3600 * 3, 86400 * 2 + 3600 * 5)] == [
        "12 s", "12 min", "3 h 12 min", "3 h", "2 d 5 h",
    ]  # fmt: skip
    assert span(None) == "" and count(12345) == "12,345" and count(None) == ""
    assert moment("2026-12-07T09:32:03.980035+01:00") == "2026-12-07 08:32:03 UTC" and moment(None) == ""
    assert [figure(v) for v in (0.0, 1.0, 3.9164458513259888, 0.98333, 12345.0, 1234.567, Decimal("4.73"))] == [
        "0", "1", "3.92", "0.983", "12,345", "1,235", "4.73",
    ]  # fmt: skip


def test_status_and_catalog_read_plainly(walked: Path) -> None:
    status = cli(walked, "status").stdout
    assert re.search(r"sales\.orders\s+│ ok\s+│ \d+ (s|min)\s+│", status), status  # published just now
    assert not re.search(r"\d+h \d+m|\d+d \d+h", status)
    search = cli(walked, "catalog", "search", "ordrs")
    assert search.returncode == 0 and "no product has 'ordrs': showing orders instead" in search.stdout
    catalog = cli(walked, "catalog").stdout
    assert re.search(r"sales\.orders .*│ 100 ", catalog), catalog
    for address in ("sales.orders", "crm.customers", "sales.daily"):  # published, and never built
        shown = cli(walked, "catalog", "show", address)
        assert shown.returncode == 0 and "None" not in shown.stdout and "True" not in shown.stdout, (
            shown.stdout
        )


def test_readme_exit_codes_match_the_code() -> None:
    """The README's table of exit codes names every error class on the row of its ``exit_code``, and the CLI's
    other codes (2 for a command line argparse refuses, 130 when interrupted) are in it too."""
    import argparse
    import inspect

    import tessera.errors as errors
    from tessera.cli import errors as cli_errors

    readme = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| (\d+) \|(.*?)\|(.*?)\|$", readme, re.M)
    assert rows, "no exit code table in the README"
    table = {int(code): set(re.findall(r"`(\w+Error)`", names)) for code, _, names in rows}
    assert set(table) == {0, 1, 2, 3, 4, 130}
    classes = {
        name: cls
        for name in errors.__all__
        if isinstance(cls := getattr(errors, name), type) and issubclass(cls, errors.TesseraError)
    }
    listed = {name for names in table.values() for name in names}
    assert listed <= set(classes), listed - set(classes)
    for code, names in table.items():
        for name in names:
            assert classes[name].exit_code == code, (
                f"README: {name} exits {code}; code: {classes[name].exit_code}"
            )
    unlisted = {n for n, c in classes.items() if c.exit_code != 1 and n not in listed}
    assert not unlisted, f"not in the README's exit code table: {unlisted}"
    assert table[3] == {"AccessDeniedError"} and table[4] == {"AuthenticationError"}
    assert "return 130" in inspect.getsource(cli_errors.run_handled)
    with pytest.raises(SystemExit) as refused:
        argparse.ArgumentParser().error("x")
    assert refused.value.code == 2


def test_explain_keeps_other_errors_and_never_offers_an_internal_name() -> None:
    from tessera.engine.sql_errors import explain

    plain = {"products": ["sales.orders"], "columns": {"sales.orders": ["amount"]}}
    assert explain("Conversion Error: Could not convert string 'x' to INT32", "select 1", **plain) is None
    alias = explain(
        'Binder Error: Referenced table "od" not found!\nCandidate tables: "__tessera_raw_0_ab12", "o"',
        "select od.amount from sales.orders o",
        **plain,
    )
    assert alias is not None and alias.startswith("no table or alias 'od' in the query; did you mean o?")
    assert "__tessera" not in alias
    table = explain(
        'Catalog Error: Table with name orderz does not exist!\nDid you mean "__tessera_x"?', "q", **plain
    )
    assert table is not None and "__tessera" not in table and "did you mean sales.orders?" in table
