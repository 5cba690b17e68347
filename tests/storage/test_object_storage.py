"""Object storage: a mesh whose products live in an S3 bucket (a moto S3 server on loopback, started here)
publishes, reads, queries, vacuums and erases through delta-rs; concurrent publishers do not lose commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import tessera
from tests.fixtures.meshkit import make_mesh, orders_table
from tests.fixtures.s3kit import moto_server
from tests.fixtures.serverkit import free_port

pytest.importorskip("moto.server", reason="moto[server] is needed for the S3 tests")
boto3 = pytest.importorskip("boto3", reason="boto3 is needed for the S3 tests")

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "tessera",
    "AWS_SECRET_ACCESS_KEY": "tessera-secret",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=CREDENTIALS["AWS_REGION"],
    )


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"lake-{uuid.uuid4().hex[:12]}"
    _client(s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_mesh(tmp_path: Path, s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test mesh with its tables in the bucket; the credentials come from the environment, the endpoint
    from mesh.yaml (never from the catalog)."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    root = make_mesh(tmp_path / "mesh")
    doc = yaml.safe_load((root / "mesh.yaml").read_text())
    doc.update(
        storage=f"s3://{bucket}/mesh",
        storageOptions={"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ALLOW_HTTP": "true"},
        encryption={"atRest": "sse-s3"},
    )
    (root / "mesh.yaml").write_text(yaml.safe_dump(doc))
    return root


def _keys(endpoint: str, bucket: str) -> list[str]:
    pages = _client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def test_build_read_query_history_on_s3(s3_mesh: Path, s3_endpoint: str, bucket: str) -> None:
    with tessera.open(s3_mesh) as mesh:
        mesh.apply()
        built = mesh.build()
        assert {o.address: o.status for o in built} == {
            "sales.orders": "published",
            "sales.daily": "published",
            "crm.customers": "skipped",
        }, [(o.address, o.message) for o in built]
        assert mesh.read("sales.orders").num_rows == orders_table().num_rows
        assert mesh.read("sales.orders@v0", columns=["order_id"]).num_rows == orders_table().num_rows
        total = mesh.query("select count(*) n, sum(amount) s from sales.orders")
        assert total["n"][0].as_py() == orders_table().num_rows
        daily = mesh.query("select sum(orders) n from sales.daily")
        assert daily["n"][0].as_py() == orders_table().num_rows
        history = mesh.product("sales.orders").history()
        assert history and history[0]["delta_version"] == 0
    keys = _keys(s3_endpoint, bucket)
    assert any(k.startswith("mesh/sales/orders/v1/_delta_log/") for k in keys)
    assert not (s3_mesh / "data").exists()  # nothing was written locally
    head = _client(s3_endpoint).head_object(
        Bucket=bucket, Key=next(k for k in keys if k.endswith(".parquet"))
    )
    assert head.get("ServerSideEncryption") == "AES256"


def test_masked_query_vacuum_and_erasure_on_s3(s3_mesh: Path, s3_endpoint: str, bucket: str) -> None:
    from datetime import UTC, datetime, timedelta

    with tessera.open(s3_mesh) as mesh:
        mesh.apply()
        mesh.build(["sales.orders"])
        mesh.build(["sales.orders"], full_refresh=True)  # v1: v0's files are history a vacuum may remove
        mesh.access.add_principal("ana@example.com")
        mesh.access.grant("read", "sales.orders", "ana@example.com", row_filter="country = 'FR'")
        seen = mesh.query("select email, country from sales.orders", as_principal="ana@example.com")
        assert set(seen["country"].to_pylist()) == {"FR"}
        assert not any(e and "@" in e for e in seen["email"].to_pylist())  # masked: no clearance

        erased = mesh.erase("email=u1@example.com")
        assert erased.rows_deleted == 1 and not erased.dry_run
        assert "u1@example.com" not in mesh.read("sales.orders").column("email").to_pylist()
        for version in mesh.ctx.catalog.versions("sales.orders"):
            try:
                rows = mesh.read(f"sales.orders@v{version['delta_version']}").column("email").to_pylist()
            except tessera.errors.NotFoundError as exc:  # vacuumed: no longer readable, and says so
                assert "no longer readable" in str(exc)
                continue
            assert "u1@example.com" not in rows

        later = datetime.now(UTC) + timedelta(days=365 * 11)  # every row is past its 10 years
        [fix] = [f for f in mesh.apply_retention(["sales.orders"]) if f.major == 1] or [None]
        assert fix is not None and fix.status in ("fixed", "unchanged")
        from tessera.platform.remediation.remediate import apply_retention

        [expired] = apply_retention(mesh.ctx, ["sales.orders"], now=later)
        assert expired.status == "fixed" and expired.rows_deleted == orders_table().num_rows - 1
        assert expired.files_removed > 0
        assert mesh.read("sales.orders").num_rows == 0
    parquet = [
        k
        for k in _keys(s3_endpoint, bucket)
        if k.startswith("mesh/sales/orders/v1/") and k.endswith(".parquet")
    ]
    live = {Path(u).name for u in _live_files(s3_mesh)}
    assert {Path(k).name for k in parquet} <= live  # the vacuum left only files the newest version uses


def _live_files(root: Path) -> list[str]:
    with tessera.open(root) as mesh:
        uri = mesh.ctx.table_uri(mesh.ctx.product("sales.orders"))
        return list(mesh.ctx.store.open(uri).file_uris())


def test_repair_finds_the_majors_in_the_bucket(s3_mesh: Path) -> None:
    with tessera.open(s3_mesh) as mesh:
        mesh.apply()
        mesh.build(["sales.orders"])
        uri = mesh.ctx.table_uri(mesh.ctx.product("sales.orders"))
        assert mesh.ctx.store.majors_on_disk(uri.rsplit("/", 1)[0]) == {1: uri}


def test_concurrent_publishers_on_s3_lose_no_commit(s3_mesh: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with tessera.open(s3_mesh) as mesh:
        mesh.apply()
        assert mesh.ctx.settings.storage_options["aws_conditional_put"] == "etag"

    def publish(i: int) -> int | None:
        with tessera.open(s3_mesh) as writer:
            try:
                return writer.publish("sales.orders", orders_table()).delta_version
            except tessera.errors.TransientError:
                return None

    with ThreadPoolExecutor(4) as pool:
        versions = [v for v in pool.map(publish, range(8)) if v is not None]
    assert versions and len(versions) == len(set(versions))
    with tessera.open(s3_mesh) as mesh:
        catalogued = sorted(v["delta_version"] for v in mesh.ctx.catalog.versions("sales.orders"))
        uri = mesh.ctx.table_uri(mesh.ctx.product("sales.orders"))
        assert catalogued == sorted(versions)
        assert mesh.ctx.store.latest_version(uri) == max(versions) == len(versions) - 1


def test_a_missing_bucket_or_unreachable_store_is_one_clear_error(
    s3_mesh: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tessera.cli import main

    with tessera.open(s3_mesh) as mesh:
        mesh.apply()
        mesh.build(["sales.orders"])
    path = s3_mesh / "mesh.yaml"
    good = path.read_text()
    doc = yaml.safe_load(good)
    doc["storage"] = "s3://no-such-bucket-tessera/mesh"
    path.write_text(yaml.safe_dump(doc))
    assert main(["--mesh", str(s3_mesh), "build", "sales.orders", "--full-refresh"]) == 1
    out = capsys.readouterr()
    assert "bucket 'no-such-bucket-tessera' does not exist" in out.out + out.err
    assert "Traceback" not in out.err

    doc = yaml.safe_load(good)
    doc["storageOptions"]["AWS_ENDPOINT_URL"] = dead = f"http://127.0.0.1:{free_port()}"  # nothing listens
    path.write_text(yaml.safe_dump(doc))
    assert main(["--mesh", str(s3_mesh), "read", "sales.orders"]) == 1
    out = capsys.readouterr()
    assert f"cannot reach the object store at {dead}" in out.err and "storageOptions" in out.err
    assert "Traceback" not in out.err
    path.write_text(good)  # nothing was half-written: the mesh reads as before
    with tessera.open(s3_mesh) as mesh:
        assert mesh.read("sales.orders").num_rows == orders_table().num_rows
        assert [v["delta_version"] for v in mesh.ctx.catalog.versions("sales.orders")] == [0]


def test_doctor_tries_the_bucket(s3_mesh: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tessera.cli import main

    assert main(["--mesh", str(s3_mesh), "doctor", "--json"]) == 0
    storage = next(c for c in json.loads(capsys.readouterr().out) if c["part"] == "storage")
    assert storage["ok"] and storage["kind"] == "s3" and "AES256" in storage["detail"]
    bucket = yaml.safe_load((s3_mesh / "mesh.yaml").read_text())["storage"].split("/")[2]
    endpoint = yaml.safe_load((s3_mesh / "mesh.yaml").read_text())["storageOptions"]["AWS_ENDPOINT_URL"]
    assert not [k for k in _keys(endpoint, bucket) if "_tessera_doctor_" in k]  # the probe is removed
    path = s3_mesh / "mesh.yaml"
    path.write_text(path.read_text().replace("storage: s3://lake-", "storage: s3://gone-"))
    assert main(["--mesh", str(s3_mesh), "doctor", "--json"]) == 1
    storage = next(c for c in json.loads(capsys.readouterr().out) if c["part"] == "storage")
    assert not storage["ok"] and "does not exist" in storage["detail"]


def test_refused_credentials_are_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store that checks credentials (moto with IAM authentication after the setup's first calls)."""
    import json

    from tessera.cli import main

    with moto_server(INITIAL_NO_AUTH_ACTION_COUNT="4") as endpoint:
        options = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        iam = boto3.client("iam", aws_access_key_id="setup", aws_secret_access_key="setup", **options)
        iam.create_user(UserName="tessera")
        key = iam.create_access_key(UserName="tessera")["AccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_user_policy(UserName="tessera", PolicyName="all", PolicyDocument=json.dumps(policy))
        secret = key["SecretAccessKey"]
        s3 = boto3.client("s3", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=secret, **options)
        s3.create_bucket(Bucket="locked")
        root = make_mesh(tmp_path / "mesh")
        doc = yaml.safe_load((root / "mesh.yaml").read_text())
        doc.update(
            storage="s3://locked/mesh",
            storageOptions={
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ALLOW_HTTP": "true",
                "AWS_REGION": "us-east-1",
            },
            encryption={"atRest": "sse-s3"},
        )
        (root / "mesh.yaml").write_text(yaml.safe_dump(doc))
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        assert main(["--mesh", str(root), "build", "sales.orders"]) == 1
        out = capsys.readouterr()
        assert "refused the credentials" in out.out + out.err and "Traceback" not in out.err
        assert "not-the-secret" not in out.out + out.err
        assert s3.list_objects_v2(Bucket="locked").get("KeyCount", 0) == 0  # nothing was written
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        with tessera.open(root) as mesh:
            assert [o.status for o in mesh.build(["sales.orders"])] == ["published"]
