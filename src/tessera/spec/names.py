"""Naming rules shared by the mesh files, and locations (paths or URIs) resolved against the mesh root."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tessera.model.address import NAME_PATTERN

__all__ = [
    "DEFAULT_STORAGE",
    "ENV_CATALOG",
    "RESERVED_DOMAINS",
    "is_uri",
    "mesh_data_folders",
    "name_problem",
    "resolve_location",
    "source_location_problem",
]

#: Environment variable that overrides ``catalog`` in mesh.yaml.
ENV_CATALOG = "TESSERA_CATALOG_URL"

#: Where product tables live when mesh.yaml names no ``storage``: a folder in the mesh.
DEFAULT_STORAGE = "data"

#: Names a domain may not take: they collide with source addresses and engine catalogs/schemas.
RESERVED_DOMAINS = frozenset({"source", "main", "memory", "system", "temp"})
_SNAKE = re.compile(rf"^{NAME_PATTERN}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def name_problem(name: str, what: str) -> str | None:
    """Why ``name`` cannot name a ``what`` (domain, product, source system, ...), or None when it can."""
    if not _SNAKE.match(name):
        return f"{what} name {name!r} is not lower snake_case ([a-z][a-z0-9_]*)"
    if what == "domain" and name in RESERVED_DOMAINS:
        return f"domain name {name!r} is reserved ({', '.join(sorted(RESERVED_DOMAINS))})"
    return None


def is_uri(location: str) -> bool:
    return bool(_URI.match(location))


def resolve_location(location: str, root: Path) -> str:
    """A URI stays as written; a path becomes absolute, relative ones against the mesh ``root``."""
    if is_uri(location):
        return location
    return os.path.normpath(root / Path(location).expanduser())


def mesh_data_folders(root: Path) -> list[Path]:
    """The folders of the mesh at ``root`` that hold its catalog, keys and product data — ``.tessera/`` and a
    local storage root — which no command that reads a user-named file may open: products are read through
    the reader, whose grants apply (docs/architecture.md, "The one door"). An unreadable mesh.yaml counts as the
    default storage."""
    from tessera.spec.yaml_lines import read_yaml

    folders = [(root / ".tessera").resolve()]
    doc, _, problems = read_yaml(root / "mesh.yaml", str(root / "mesh.yaml"))  # bounded: size, nodes, aliases
    storage = doc.get("storage") if isinstance(doc, dict) and not problems else None
    location = resolve_location(storage if isinstance(storage, str) and storage else DEFAULT_STORAGE, root)
    if not is_uri(location) or location.startswith("file://"):
        folders.append(Path(location.removeprefix("file://")).resolve())
    return folders


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def source_location_problem(location: str, root: Path, storage: str) -> str | None:
    """Why a source table's resolved location may not be read by a build, else None. A local source lies inside
    the mesh folder (symlinks resolved), outside ``.tessera/`` and outside the storage root: products are read
    as input ports, whose grants apply, never as files (docs/governance.md, "Threat model"). Object stores are
    the store's credentials' to decide."""
    if is_uri(location) and not location.startswith("file://"):
        return None
    path = location.removeprefix("file://")
    fixed = []
    for part in Path(path).parts:  # the folder a glob pattern lies in
        if any(ch in part for ch in "*?["):
            break
        fixed.append(part)
    real = os.path.realpath(os.path.join(*fixed)) if fixed else os.path.realpath(path)
    mesh = os.path.realpath(root)
    if not _inside(real, mesh):
        return f"{location!r} is outside the mesh folder: a local source must lie inside it (or be an object-store URI)"
    if _inside(real, os.path.realpath(root / ".tessera")):
        return f"{location!r} is under .tessera/, which holds the catalog and keys: no source may read it"
    if not is_uri(storage) or storage.startswith("file://"):
        stored = os.path.realpath(storage.removeprefix("file://"))
        if _inside(real, stored) or _inside(stored, real):
            return (
                f"{location!r} reaches into the storage root ({storage}): read a product as an input port "
                "(domain.product), which applies its grants, not as a source file"
            )
    return None
