"""The mesh index (docs/architecture.md, "The mesh index"): ``tessera validate`` as a whole process on the
generated scale mesh (``scale_mesh.py``) at 1,000 and 10,000 products, every figure measured in this run:

* reading the YAML files alone (every ``*.yaml`` parsed by PyYAML's C loader, as ``bench_scale`` does): the
  raw baseline the ratios are against; and reading + hashing every mesh file, the index's own floor;
* cold: the first ``tessera validate`` (no index yet; it writes one), and ``--no-index``;
* unchanged: ``tessera validate`` again (target <= 0.5 s);
* one changed file: a product's description edited before each run (target <= 0.5 s + that file's work).

    /work/venv/bin/python bench/bench_index.py [--products 1000 10000] [--no-cold]

The meshes are generated once under ``bench/.data/index-mesh-N/`` and kept (10,000 products take a while);
the edited file is put back as it was.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from common import READ_YAML  # noqa: E402

TESSERA = str(Path(sys.executable).parent / "tessera")
DATA = HERE / ".data"


# What the index cannot avoid: reading and hashing every file of the mesh folders.
READ_HASH = r"""
import hashlib, pathlib, sys
for p in (pathlib.Path(sys.argv[1]) / "domains").rglob("*"):
    if p.suffix in (".yaml", ".sql", ".py") and p.is_file():
        hashlib.blake2b(p.read_bytes(), digest_size=20).digest()
"""


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(
            f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    return done


def timed(cmd: list[str], n: int = 3, before: object = None) -> float:
    best = float("inf")
    for _ in range(n):
        if callable(before):
            before()
        start = time.perf_counter()
        run(cmd)
        best = min(best, time.perf_counter() - start)
    return best


def mesh(products: int) -> Path:
    """The scale mesh of ``products`` products, generated once and kept."""
    from scale_mesh import make_scale_mesh

    root = DATA / f"index-mesh-{products}"
    if not (root / "mesh.yaml").is_file():
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        print(f"generating {products} products under {root} (once)...", flush=True)
        make_scale_mesh(partial, products=products)
        partial.rename(root)
    return root


def bench(products: int, cold: bool) -> None:
    root = mesh(products)
    validate = [TESSERA, "-C", str(root), "validate"]
    index = root / ".tessera" / "index"
    floor = timed([sys.executable, "-c", READ_YAML, str(root)])
    hashing = timed([sys.executable, "-c", READ_HASH, str(root)])
    if cold:
        fresh = timed([TESSERA, "--no-index", "-C", str(root), "validate"], n=1)
        first = timed(validate, n=1, before=lambda: index.unlink(missing_ok=True))
    else:
        run(validate)  # the index, if it is not there yet
    warm = timed(validate)
    target = next(root.glob("domains/*/products/*/product.odps.yaml"))
    kept = target.read_bytes()
    turn = iter(range(1_000_000))

    def edit() -> None:
        target.write_bytes(kept.replace(b"purpose: ", f"purpose: edit {next(turn)} ".encode(), 1))

    try:
        one = timed(validate, before=edit)
    finally:
        target.write_bytes(kept)
    run(validate)
    yamls = sum(1 for _ in root.rglob("*.yaml"))
    print(
        f"index, {products} products: reading the {yamls} YAML files alone {floor:.2f}s (raw baseline); "
        f"reading + hashing every mesh file {hashing:.2f}s"
    )
    if cold:
        print(
            f"  cold: tessera validate --no-index {fresh:.2f}s, ratio {fresh / floor:.2f}x; first tessera validate "
            f"(writes the index, {index.stat().st_size / 1e6:.0f} MB) {first:.2f}s, ratio {first / floor:.2f}x"
        )
    print(
        f"  unchanged: tessera validate {warm:.2f}s, ratio {warm / floor:.2f}x "
        f"({'met' if warm <= 0.5 else 'NOT met'}: target <= 0.5 s; {warm / hashing:.2f}x reading + hashing)"
    )
    print(
        f"  one changed file: tessera validate {one:.2f}s, ratio {one / floor:.2f}x "
        f"(+{one - warm:.2f}s over unchanged; target <= 0.5 s + that file's work)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--no-cold", action="store_true", help="skip the cold runs (minutes at 10,000 products)"
    )
    args = parser.parse_args()
    for products in args.products:
        bench(products, cold=not args.no_cold)


if __name__ == "__main__":
    main()
