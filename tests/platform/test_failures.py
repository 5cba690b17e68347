"""Failures a user meets as one clear message, never a traceback, nothing half-written: a full disk during a
build, a deleted Delta log file, a token asked for 0 days; and the catalog's files are private."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tessera
from tests.fixtures.meshkit import make_mesh, orders_table

LOG = "data/sales/orders/v1/_delta_log"


def cli(*args: str, file_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process; with ``file_limit``, no file it writes may grow past that many bytes (the
    kernel's RLIMIT_FSIZE, with SIGXFSZ ignored: writes fail with EFBIG as on a full disk)."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        assert file_limit is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "2000"},  # paths unwrapped
        preexec_fn=limited if file_limit else None,
    )


def _clean_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "Traceback" not in out
    flat = " ".join(out.split())
    for needle in needles:
        assert needle in flat, out


def _commits(root: Path) -> list[str]:
    return sorted(p.name for p in (root / LOG).glob("*.json"))


def test_a_full_disk_during_build_is_one_message_and_nothing_is_published(tmp_path: Path) -> None:
    root = make_mesh(tmp_path / "mesh")
    big = orders_table(200_000)
    noise = pa.array([os.urandom(12).hex() + "@example.com" for _ in range(big.num_rows)])
    pq.write_table(
        big.set_column(big.schema.get_field_index("email"), "email", noise),
        root / "sources/pos/orders.parquet",
    )
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table(10))
        before = mesh.ctx.catalog.versions("sales.orders")
    files_before = sorted(p.name for p in (root / "data/sales/orders/v1").iterdir())
    result = cli("-C", str(root), "build", "sales.orders", "--full-refresh", file_limit=2_000_000)
    _clean_failure(result, "sales.orders", "the disk is full", "nothing was committed")
    assert _commits(root) == ["00000000000000000000.json"]
    assert sorted(p.name for p in (root / "data/sales/orders/v1").iterdir()) == files_before
    with tessera.open(root) as mesh:
        assert mesh.ctx.catalog.versions("sales.orders") == before
        assert mesh.read("sales.orders").num_rows == 10


@pytest.mark.parametrize("deleted", [0, 1])
def test_a_deleted_delta_log_file_is_one_clear_message(tmp_path: Path, deleted: int) -> None:
    root = make_mesh(tmp_path / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        for rows in (100, 50, 40):
            mesh.publish("sales.orders", orders_table(rows))
        before = mesh.ctx.catalog.versions("sales.orders")
    (root / LOG / f"{deleted:020d}.json").unlink()
    needles = (
        f"the Delta table at {root / 'data/sales/orders/v1'} cannot be read",
        f"commit file {deleted:020d}.json missing from its _delta_log",
        "tessera build --full-refresh",
    )
    _clean_failure(cli("-C", str(root), "repair"), *needles)
    _clean_failure(cli("-C", str(root), "build", "--full-refresh"), *needles)
    with tessera.open(root) as mesh:
        assert mesh.ctx.catalog.versions("sales.orders") == before  # nothing rewritten, nothing dropped
    assert len(_commits(root)) == 2


@pytest.mark.parametrize("days", ["0", "-3"])
def test_a_token_for_no_days_is_refused(mesh_dir: Path, days: str) -> None:
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        mesh.access.add_principal("eve@company.com")
    result = cli("-C", str(mesh_dir), "token", "create", "eve@company.com", "--days", days)
    _clean_failure(result, f"a token lives 1 day or more (got --days {days})")
    with tessera.open(mesh_dir) as mesh:
        assert mesh.access.tokens() == []


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_catalog_and_the_signing_key_are_private(tmp_path: Path) -> None:
    from tessera.sharing.signing import load_secret

    old = os.umask(0o022)
    try:
        root = make_mesh(tmp_path / "mesh")
        assert cli("-C", str(root), "apply").returncode == 0
        assert _mode(root / ".tessera") == 0o700
        assert _mode(root / ".tessera/catalog.db") == 0o600
        for extra in ("catalog.db-wal", "catalog.db-shm"):
            if (root / ".tessera" / extra).exists():
                assert _mode(root / ".tessera" / extra) == 0o600, extra
        load_secret(root)
        assert _mode(root / ".tessera/sharing.key") == 0o600
        other = make_mesh(tmp_path / "other")  # the key made first: the folder is still private
        load_secret(other)
        assert _mode(other / ".tessera") == 0o700
        assert _mode(other / ".tessera/sharing.key") == 0o600
        (root / ".tessera/catalog.db").chmod(0o644)  # a catalog made before: tightened when opened
        with tessera.open(root) as mesh:
            mesh.ctx.catalog.counts()
        assert _mode(root / ".tessera/catalog.db") == 0o600
    finally:
        os.umask(old)
