"""``tessera doctor``: each part of a mesh tried for real, each failure named with what to check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tessera.cli import main
from tests.fixtures.meshkit import make_mesh
from tests.fixtures.serverkit import free_port


def _set(root: Path, **changes: object) -> None:
    path = root / "mesh.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), **changes}))


def _doctor(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, dict[str, object]]]:
    code = main(["--mesh", str(root), "doctor", "--json"])
    return code, {c["part"]: c for c in json.loads(capsys.readouterr().out)}


def test_an_embedded_mesh_is_healthy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_mesh(tmp_path / "mesh")
    code, checks = _doctor(root, capsys)
    assert code == 0 and "tessera apply creates it" in str(checks["catalog"]["detail"])
    assert not (root / ".tessera/catalog.db").exists()  # looking created nothing
    assert main(["--mesh", str(root), "apply"]) == 0
    capsys.readouterr()
    code, checks = _doctor(root, capsys)
    assert code == 0
    assert (checks["catalog"]["kind"], checks["storage"]["kind"], checks["engine"]["kind"]) == (
        "sqlite",
        "local folder",
        "duckdb",
    )
    assert all(c["ok"] for c in checks.values())
    assert "schema" in str(checks["catalog"]["detail"])
    assert not list((root / "data").glob("_tessera_doctor_*"))  # the probe is removed


def test_postgresql_catalog(tmp_path: Path, catalog_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_mesh(tmp_path / "mesh", catalog=catalog_url)
    code, checks = _doctor(root, capsys)
    assert code == 0 and checks["catalog"]["ok"]
    assert checks["catalog"]["kind"] == catalog_url.split(":", 1)[0].split("+", 1)[0]


def test_each_failure_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_mesh(tmp_path / "mesh")
    dead = free_port()
    _set(
        root,
        catalog=f"postgresql+psycopg://nobody:secret@127.0.0.1:{dead}/test",
        engine=f"sc://127.0.0.1:{free_port()}",
        lineage={"transport": "http", "url": f"http://127.0.0.1:{free_port()}"},
    )
    code, checks = _doctor(root, capsys)
    assert code == 1
    assert not checks["catalog"]["ok"] and "secret" not in json.dumps(checks)  # the password is not shown
    assert str(dead) in str(checks["catalog"]["target"])
    assert not checks["lineage"]["ok"] and "lineage.url" in str(checks["lineage"]["detail"])
    assert not checks["engine"]["ok"] and checks["engine"]["kind"] == "spark"
    assert "engine" in str(checks["engine"]["detail"])
    assert checks["storage"]["ok"]  # the parts that work still say so

    assert main(["--mesh", str(root), "doctor"]) == 1
    out = capsys.readouterr()
    assert "FAILED" in out.out and "Traceback" not in out.err


def test_a_mistyped_sqlite_path_is_reported_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_mesh(tmp_path / "mesh")
    missing = tmp_path / "nowhere" / "catalog.db"
    _set(root, catalog=f"sqlite:///{missing}")
    code, checks = _doctor(root, capsys)
    assert code == 1 and "does not exist" in str(checks["catalog"]["detail"])
    assert not missing.parent.exists()  # the doctor created nothing
    _set(root, catalog=f"sqlite:///{tmp_path / 'fresh.db'}")
    code, checks = _doctor(root, capsys)
    assert code == 0 and "tessera apply creates it" in str(checks["catalog"]["detail"])
    assert not (tmp_path / "fresh.db").exists()
