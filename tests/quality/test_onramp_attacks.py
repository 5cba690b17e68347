"""The on-ramp attacked as a hostile file author and a curious user would: a contract's SQL rules that try to
read the host's files or write new ones, a "read-only" PostgreSQL test that a second statement would turn into
a writer, and bare contracts whose servers reach a mesh's published data from a team's folder, through a glob
or a symbolic link. Everything through the real CLI, on real files and servers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from tests.conftest import _pg_available
from tests.fixtures.meshkit import run_cli

PG = "host=127.0.0.1 port=5432 user=postgres dbname=test"


run = run_cli


def contract(server: dict[str, Any], rules: list[str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "name": "t",
        "properties": [
            {"name": "id", "logicalType": "integer"},
            {"name": "email", "logicalType": "string"},
        ],
    }
    if rules:
        obj["quality"] = [{"type": "sql", "query": q, "mustBe": 0} for q in rules]
    return {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "t",
        "name": "t",
        "version": "1.0.0",
        "status": "active",
        "servers": [{"server": "here", **server}],
        "schema": [obj],
    }


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def parquet(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.sql(f"COPY (SELECT 1 AS id, 'a@b.c' AS email) TO '{path}' (FORMAT parquet)")
    return path


# --- a contract's SQL rules on the local engine -------------------------------------------------------------


def test_a_contracts_sql_rule_can_neither_read_the_hosts_files_nor_write_new_ones(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("line\ntop secret\n")
    planted = tmp_path / "planted.csv"
    parquet(tmp_path / "d.parquet")
    rules = [
        f"SELECT count(*) FROM read_csv('{secret}')",
        f"COPY (SELECT 42 AS x) TO '{planted}'",
        f"ATTACH '{tmp_path / 'new.duckdb'}' AS other",
        "INSTALL httpfs",
    ]
    path = write(
        tmp_path / "c.yaml", contract({"type": "local", "path": "./d.parquet", "format": "parquet"}, rules)
    )
    result = run("test", str(path), "--output", "json")
    assert result.returncode == 1, result.stderr
    assert not planted.exists()
    assert not (tmp_path / "new.duckdb").exists()
    assert "Traceback" not in result.stderr
    import json

    checks = {c["name"]: c for c in json.loads(result.stdout)["results"]}
    assert checks["t.id.present"]["outcome"] == "passed"  # the data itself is still read
    for name in ("t.table.sql", "t.table.sql.2", "t.table.sql.3", "t.table.sql.4"):
        assert checks[name]["outcome"] == "error", checks[name]
        assert checks[name]["measured"] is None


def test_a_duckdb_server_whose_views_read_other_files_is_held_to_its_own_database(tmp_path: Path) -> None:
    secret = parquet(tmp_path / "elsewhere" / "secret.parquet")
    database = tmp_path / "db.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{secret}')")
    path = write(tmp_path / "c.yaml", contract({"type": "duckdb", "database": "db.duckdb"}))
    result = run("test", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


# --- PostgreSQL: read-only means one query ------------------------------------------------------------------


@pytest.fixture
def pg_schema() -> Iterator[str]:
    if not _pg_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 (database test) is not reachable")
    import psycopg

    schema = f"attack_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".t (id integer, email text)')
        conn.execute(f"INSERT INTO \"{schema}\".t VALUES (1, 'a@b.c')")
        conn.execute(f'CREATE TABLE "{schema}".victim (x integer)')
    try:
        yield schema
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_a_postgres_rule_cannot_commit_and_write_nor_copy_to_a_server_file(
    tmp_path: Path, pg_schema: str
) -> None:
    import psycopg

    server = {"type": "postgres", "host": "127.0.0.1", "port": 5432, "database": "test", "schema": pg_schema}
    target = f"/tmp/tessera_attack_{uuid.uuid4().hex}.txt"
    rules = [
        f"SELECT 0; COMMIT; DROP TABLE {pg_schema}.victim",
        f"COPY (SELECT 1) TO '{target}'",
        "SELECT count(*) FROM t WHERE id IS NULL;",  # a trailing semicolon is still one query
    ]
    path = write(tmp_path / "pg.yaml", contract(server, rules))
    result = run("test", str(path), "--output", "json", env={"PGUSER": "postgres"})
    assert result.returncode == 1, result.stderr
    with psycopg.connect(PG) as conn:
        found = conn.execute("SELECT to_regclass(%s)", [f"{pg_schema}.victim"]).fetchone()
    assert found is not None and found[0] is not None, "the rule dropped a table through a read-only test"
    assert not Path(target).exists()
    import json

    checks = {c["name"]: c for c in json.loads(result.stdout)["results"]}
    assert checks["t.table.sql"]["outcome"] == "error"
    assert checks["t.table.sql.2"]["outcome"] == "error"
    assert checks["t.table.sql.3"]["outcome"] == "passed", checks["t.table.sql.3"]


# --- one door: a bare contract never names a mesh's published data ------------------------------------------


@pytest.fixture
def mesh(tmp_path: Path) -> Path:
    result = run("init", "m", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "m"
    parquet(root / "data" / "sales" / "orders" / "part-0.parquet")  # as a published table's file
    parquet(root / ".tessera" / "hidden.parquet")
    return root


@pytest.mark.parametrize(
    ("where", "location"),
    [
        (".", "./**/*.parquet"),  # a glob whose prefix is the mesh's root
        (".", "./.tesser?/*.parquet"),  # a glob inside the first folder's name
        ("domains/x", "../../data/sales/orders/part-0.parquet"),  # a team's folder, not the mesh's root
        ("domains/x", "./link/sales/orders/*.parquet"),  # a symbolic link to the storage
    ],
)
def test_a_bare_contract_cannot_reach_the_meshs_published_data(mesh: Path, where: str, location: str) -> None:
    folder = mesh / where
    folder.mkdir(parents=True, exist_ok=True)
    (mesh / "domains" / "x").mkdir(parents=True, exist_ok=True)
    link = mesh / "domains" / "x" / "link"
    if not link.exists():
        link.symlink_to(mesh / "data")
    path = write(folder / "c.yaml", contract({"type": "local", "path": location, "format": "parquet"}))
    result = run("test", "c.yaml", cwd=folder)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "inside the mesh's storage" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.is_file()


def test_a_bare_contract_outside_the_mesh_cannot_name_its_storage_either(mesh: Path) -> None:
    outside = mesh.parent / "elsewhere"
    path = write(
        outside / "c.yaml",
        contract({"type": "local", "path": "../m/data/sales/orders/part-0.parquet", "format": "parquet"}),
    )
    result = run("test", str(path), cwd=outside)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "inside the mesh's storage" in result.stderr


# --- import and export: malformed and hostile files get one message, never a traceback ----------------------


def _deep_json_schema(depth: int) -> str:
    return '{"type":"object","properties":{"a":' * depth + '{"type":"string"}' + "}}" * depth


def _deep_avro(depth: int) -> str:
    head = '{"type":"record","name":"r%d","fields":[{"name":"a","type":'
    return "".join(head % i for i in range(depth)) + '"string"' + "}]}" * depth


@pytest.mark.parametrize(
    ("fmt", "name", "content"),
    [
        ("jsonschema", "deep.json", "[" * 100_000 + "]" * 100_000),  # deeper than the JSON decoder goes
        ("jsonschema", "nested.json", _deep_json_schema(400)),
        ("avro", "nested.avsc", _deep_avro(300)),  # read, then too deep for the contract's own check
        ("dbt", "deep.json", "[" * 100_000 + "]" * 100_000),
    ],
)
def test_import_of_a_file_nested_too_deeply_is_one_message(
    tmp_path: Path, fmt: str, name: str, content: str
) -> None:
    (tmp_path / name).write_text(content)
    result = run("import", fmt, name, "-o", "out.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "nested too deeply" in result.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_import_sql_of_a_binary_file_is_one_message(tmp_path: Path) -> None:
    (tmp_path / "junk.sql").write_bytes(bytes(range(256)) * 8)
    result = run("import", "sql", "junk.sql", cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "not UTF-8 text" in result.stderr


def test_export_sql_with_an_unknown_dialect_is_one_message_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", contract({"type": "local", "path": "./d.parquet", "format": "parquet"}))
    result = run(
        "export", "sql", str(path), "--dialect", "postgres; DROP TABLE x", "-o", "out.sql", cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "--dialect postgres; DROP TABLE x" in result.stderr
    assert not (tmp_path / "out.sql").exists()


# --- credentials: a PostgreSQL password is never shown ------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "postgresql://postgres@127.0.0.1:5432/test?password=s3cret&sslmode=disable",
        "host=127.0.0.1 password=s3cret dbname=test",  # a connection string where a URL belongs
        "postgresql://postgres:s3cret@[::1/test",  # a URL that does not parse
        "postgresql://postgres:s3cret@127.0.0.1:abc/test",  # a port that is not a number
    ],
)
def test_import_postgres_never_shows_the_password(tmp_path: Path, source: str) -> None:
    if not _pg_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 (database test) is not reachable")
    result = run("import", "postgres", source, "--table", "public.no_such_table_here", cwd=tmp_path)
    assert result.returncode in (1, 2), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    assert result.stderr.startswith("error: ")


# --- tessera import / new product: a profile never writes a secret column's values into the contract ---------


def test_an_inferred_contract_never_lists_the_values_of_a_secret_looking_column(tmp_path: Path) -> None:
    data = tmp_path / "accounts.parquet"
    duckdb.sql(
        "COPY (SELECT i AS id, 'hunter' || (i % 2) AS password, 'tok-' || (i % 3) AS api_token, "
        f"(i % 3)::VARCHAR AS status FROM range(500) t(i)) TO '{data}' (FORMAT parquet)"
    )
    result = run("import", "parquet", "accounts.parquet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hunter" not in result.stdout
    assert "tok-" not in result.stdout
    assert "validValues" in result.stdout  # the status column still gets its suggestion


# --- outputs: -o names a file; anything else is one message and nothing written -----------------------------


def test_import_and_export_refuse_an_output_that_is_not_a_regular_file(tmp_path: Path) -> None:
    parquet(tmp_path / "d.parquet")
    (tmp_path / "folder").mkdir()
    (tmp_path / "pipe").symlink_to("/dev/null")  # a device behind a link: replacing it would break the host
    contract_path = write(
        tmp_path / "c.yaml", contract({"type": "local", "path": "./d.parquet", "format": "parquet"})
    )
    for args in (
        ("import", "parquet", "d.parquet", "-o", "folder"),
        ("export", "odcs", str(contract_path), "-o", "folder"),
        ("export", "odcs", str(contract_path), "-o", "pipe"),
        ("import", "parquet", "d.parquet", "-o", "d.parquet/inside.yaml"),  # a file where a folder must be
    ):
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, args
        assert result.stderr.startswith("error: "), result.stderr
    assert Path("/dev/null").is_char_device()
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == []
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# --- tessera new product: says so when the first publish cannot pass ----------------------------------------


def test_new_product_from_personal_data_without_a_time_column_says_the_publish_needs_a_retention(
    tmp_path: Path,
) -> None:
    data = tmp_path / "people.parquet"
    duckdb.sql(
        "COPY (SELECT i AS id, 'person' || i || '@corp.com' AS email, 'Ann Lee ' || i AS full_name "
        f"FROM range(50) t(i)) TO '{data}' (FORMAT parquet)"
    )
    assert run("init", "m", cwd=tmp_path).returncode == 0
    mesh = tmp_path / "m"
    assert run("new", "domain", "sales", "--owner", "a@b.c", cwd=mesh).returncode == 0
    made = run("new", "product", "sales.people", "--from", str(data), cwd=mesh)
    assert made.returncode == 0, made.stderr
    assert run("apply", cwd=mesh).returncode == 0
    published = run("publish", "sales.people", "--from", str(data), cwd=mesh)
    if published.returncode != 0:  # then tessera new said why, instead of promising a first-try publish
        assert "retention" in published.stderr + published.stdout
        assert "warning:" in made.stdout and "retention" in made.stdout, made.stdout
        assert "next: tessera apply" not in made.stdout


def test_new_product_with_two_origins_says_give_one(tmp_path: Path) -> None:
    parquet(tmp_path / "d.parquet")
    assert run("init", "m", cwd=tmp_path).returncode == 0
    mesh = tmp_path / "m"
    assert run("new", "domain", "sales", "--owner", "a@b.c", cwd=mesh).returncode == 0
    both = run(
        "new", "product", "sales.x", "--from", str(tmp_path / "d.parquet"), "--input", "sales.y", cwd=mesh
    )
    assert both.returncode != 0
    assert "not several" in both.stderr, both.stderr


def test_a_postgres_servers_schema_is_one_name_never_a_server_setting(tmp_path: Path, pg_schema: str) -> None:
    import psycopg

    spaced = f"{pg_schema} two words"  # a real schema whose name has spaces still works
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{spaced}"')
        conn.execute(f'CREATE TABLE "{spaced}".t (id integer, email text)')
    try:
        base = {"type": "postgres", "host": "127.0.0.1", "port": 5432, "database": "test"}
        ok = write(tmp_path / "ok.yaml", contract({**base, "schema": spaced}))
        passed = run("test", str(ok), env={"PGUSER": "postgres"})
        assert passed.returncode == 0, passed.stdout + passed.stderr
        hostile = f"{pg_schema} -c bogus_setting_zz=1"
        bad = write(tmp_path / "bad.yaml", contract({**base, "schema": hostile}))
        refused = run("test", str(bad), env={"PGUSER": "postgres"})
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "configuration parameter" not in refused.stderr
        assert "command-line argument" not in refused.stderr
        assert "no table" in refused.stderr, refused.stderr
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{spaced}" CASCADE')


# --- reports: JUnit stays XML whatever a contract or its data holds -----------------------------------------


def test_junit_is_valid_xml_when_the_contract_and_the_data_hold_control_characters(tmp_path: Path) -> None:
    from xml.etree import ElementTree as ET

    duckdb.sql(
        "COPY (SELECT 1 AS id, 'bad' || chr(27) || chr(1) || ']]>' AS email) "
        f"TO '{tmp_path / 'd.parquet'}' (FORMAT parquet)"
    )
    doc = contract({"type": "local", "path": "./d.parquet", "format": "parquet"})
    doc["name"] = "shop\x01<x>"
    doc["schema"][0]["properties"][1]["logicalTypeOptions"] = {"pattern": "^[a-z]+@[a-z]+$"}
    path = write(tmp_path / "c.yaml", doc)
    result = run("test", str(path), "--output", "junit")
    assert result.returncode == 1, result.stderr
    root = ET.fromstring(result.stdout)
    assert root.find("testsuite") is not None
    assert "\\x01" in result.stdout
