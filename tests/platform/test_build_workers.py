"""Build workers die with the build: ``kill -9`` of ``tessera build --jobs 2`` leaves no worker running and no
version published afterwards."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.meshkit import DAILY_CONTRACT, make_mesh, product_doc, write

SOURCE = {"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}
#: Each slow product says it started (a file named by its worker's pid), then takes SLOW_SECONDS.
SLOW = """\
import os
import time
from pathlib import Path


def transform(source_pos_orders):
    Path(os.environ["SLOW_MARKERS"], str(os.getpid())).write_text("started")
    time.sleep(float(os.environ["SLOW_SECONDS"]))
    return source_pos_orders.query(
        "o", "SELECT country, count(*) AS orders, sum(amount) AS revenue FROM o GROUP BY country"
    )
"""
SLOW_SECONDS = 6.0


def build_cmd(root: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tessera.cli",
        "-C",
        str(root),
        "build",
        "sales.slow_a",
        "sales.slow_b",
        "--jobs",
        "2",
    ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead, only not yet reaped by its new parent
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return os.name != "posix" or not Path("/proc").is_dir()


def _slow_mesh(root: Path) -> Path:
    make_mesh(root)
    for name in ("slow_a", "slow_b"):
        contract = copy.deepcopy(DAILY_CONTRACT)
        contract.update(id=f"sales-{name}", name=name)
        contract["schema"][0]["name"] = name
        base = root / "domains/sales/products" / name
        write(base / "contract.odcs.yaml", contract)
        write(base / "product.odps.yaml", product_doc("sales", name, contract, [SOURCE]))
        (base / "transform.py").write_text(SLOW)
    return root


def test_kill_9_of_a_build_kills_its_workers_and_nothing_publishes_after(tmp_path: Path) -> None:
    root = _slow_mesh(tmp_path / "mesh")
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {**os.environ, "SLOW_MARKERS": str(markers), "SLOW_SECONDS": str(SLOW_SECONDS)}
    build = subprocess.Popen(
        build_cmd(root),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        guard = time.monotonic() + 120
        while len(list(markers.iterdir())) < 2:  # both workers are inside their transforms
            assert build.poll() is None, "the build ended before its workers started"
            assert time.monotonic() < guard, "the workers did not start within the guard time"
            time.sleep(0.1)
        started = time.monotonic()
        workers = [int(p.name) for p in markers.iterdir()]
        assert all(_alive(pid) for pid in workers)
        os.kill(build.pid, signal.SIGKILL)
        build.wait(timeout=30)
        while any(_alive(pid) for pid in workers):
            assert time.monotonic() < started + SLOW_SECONDS, f"workers outlived the build: {workers}"
            time.sleep(0.1)
        # past the moment the transforms would have returned and published: still nothing
        time.sleep(max(0.0, started + SLOW_SECONDS + 3 - time.monotonic()))
        for name in ("slow_a", "slow_b"):
            assert not (root / "data/sales" / name / "v1/_delta_log").exists(), name
    finally:
        if build.poll() is None:
            build.kill()
            build.wait(timeout=30)
        for marker in markers.iterdir():
            if _alive(int(marker.name)):
                os.kill(int(marker.name), signal.SIGKILL)


def test_a_build_with_workers_still_publishes(tmp_path: Path) -> None:
    root = _slow_mesh(tmp_path / "mesh")
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {**os.environ, "SLOW_MARKERS": str(markers), "SLOW_SECONDS": "0"}
    done = subprocess.run(
        build_cmd(root),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert os.getpid() not in {int(p.name) for p in markers.iterdir()}
    for name in ("slow_a", "slow_b"):
        assert (root / "data/sales" / name / "v1/_delta_log").is_dir(), name
