"""``tessera init``: an empty mesh folder (``mesh.yaml``, ``policies/``, ``domains/``)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tessera.errors import ProvisioningError

__all__ = ["GITIGNORE", "prepare_root", "write_empty_mesh"]

_HEADER = """\
# A Tessera mesh: domains in domains/<domain>/domain.yaml, products in domains/<domain>/products/<product>/,
# global policies in policies/. storage: where product tables go (a folder here, or a URI); engine: duckdb.
# Built-in policies gate every publish (`tessera policy list`). encryption: a declaration the
# encryption_at_rest policy checks: `filesystem` says the disk holding the storage folder is encrypted
# (FileVault, BitLocker, LUKS, an encrypted volume). Make it true, or change it: sse-s3 / sse-kms on S3.
"""

#: A new mesh's ``.gitignore``: ``.tessera/`` is this machine's state (the catalog, the mesh index, keys).
GITIGNORE = "# this machine's state of the mesh: the catalog, the mesh index, keys\n/.tessera/\n"


def prepare_root(root: Path) -> Path:
    """Create ``root`` for a new mesh; refuse a file or a folder that already holds anything."""
    if root.exists():
        if not root.is_dir():
            raise ProvisioningError(f"{root} is a file: choose a new or empty folder for the mesh.")
        if any(root.iterdir()):
            raise ProvisioningError(
                f"{root} is not empty: choose a new or empty folder for the mesh (nothing was written)."
            )
    root.mkdir(parents=True, exist_ok=True)
    return root


def write_empty_mesh(root: Path, *, name: str | None = None) -> list[Path]:
    """Write an empty mesh into ``root`` (new or empty); return the paths written.

    ``name`` defaults to the folder's name."""
    root = Path(root)
    prepare_root(root)
    mesh_name = name or root.resolve().name or "mesh"
    settings = {
        "name": mesh_name,
        "storage": "data",
        "engine": "duckdb",
        "encryption": {"atRest": "filesystem"},
    }
    mesh_file = root / "mesh.yaml"
    mesh_file.write_text(_HEADER + yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    written = [mesh_file, root / ".gitignore"]
    for folder in ("policies", "domains"):
        (root / folder).mkdir()
        written.append(root / folder)
    return written
