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

REPO = Path(__file__).resolve().parents[1]


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
    assert "2000 rows" in results["publish"].stdout and "quality passed" in results["publish"].stdout
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
