"""``tessera init --example``: the seed's example mesh, ready to build.

Three domains (customer_experience, sales, finance), seven products with ODPS product files, ODCS contracts
and DuckDB transforms (the files under ``example/`` in this package, copied as they are), and generated source
data (``tessera.scaffold.data``).
"""

from __future__ import annotations

import shutil
from datetime import datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from tessera.scaffold.data import SOURCE_TABLES, generate_sources, source_sizes
from tessera.scaffold.empty import GITIGNORE, prepare_root

__all__ = ["EXAMPLE_PRODUCTS", "example_files", "write_example_mesh"]

#: The example's products in dependency order.
EXAMPLE_PRODUCTS: tuple[str, ...] = (
    "customer_experience.customers",
    "customer_experience.web_engagement",
    "sales.orders",
    "sales.sales_performance",
    "customer_experience.customer_360_view",
    "finance.invoices",
    "finance.revenue",
)
_SUFFIXES = (".yaml", ".sql")

README = """\
# Example mesh

The data mesh of the seed pattern, ready to build: three domains, seven data products, generated sources.

    mesh.yaml                         the mesh: name, storage, engine
    policies/                         global policies
    domains/<domain>/domain.yaml      owner, team and the source systems the domain owns
    domains/<domain>/products/<name>/ product.odps.yaml (ODPS), contract.odcs.yaml (ODCS), transform.sql
    sources/                          generated source data (Parquet)
    data/, .tessera/                  made by builds: the product tables and the catalog

Cross-domain inputs: sales.sales_performance reads customer_experience.customers,
customer_experience.customer_360_view reads sales.orders, finance.revenue reads sales.orders.

Try `tessera validate`, `tessera build`, then `tessera read customer_experience.customer_360_view`.
"""


def example_files() -> dict[str, str]:
    """The example's mesh files (no sources), as relative path -> text."""
    found: dict[str, str] = {}
    stack: list[tuple[str, Traversable]] = [("", files("tessera.scaffold").joinpath("example"))]
    while stack:
        prefix, node = stack.pop()
        for child in node.iterdir():
            relative = f"{prefix}{child.name}"
            if child.is_dir():
                stack.append((f"{relative}/", child))
            elif child.name.endswith(_SUFFIXES):
                found[relative] = child.read_text(encoding="utf-8")
    return dict(sorted(found.items()))


def write_example_mesh(root: Path, *, scale: float = 1.0, as_of: datetime | None = None) -> list[Path]:
    """Write the example mesh and its source data into ``root`` (new or empty); return the files written.

    ``scale`` multiplies the source sizes (1.0: 250,000 sessions, 200,000 orders); ``as_of`` anchors the
    source timestamps (default: now)."""
    root = Path(root)
    source_sizes(scale)
    existed = root.exists()
    prepare_root(root)
    written: list[Path] = []
    try:
        for relative, text in {**example_files(), "README.md": README, ".gitignore": GITIGNORE}.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(target)
        (root / "policies").mkdir(exist_ok=True)
        generate_sources(root, scale=scale, as_of=as_of)
    except BaseException:
        _undo(root, existed)
        raise
    written.extend(root / "sources" / system / f"{table}.parquet" for system, table in SOURCE_TABLES)
    return written


def _undo(root: Path, existed: bool) -> None:
    """Remove a half-written example: ``root`` was empty (or absent) before, so all it holds is ours."""
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    if not existed:
        root.rmdir()
