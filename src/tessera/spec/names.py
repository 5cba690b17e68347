"""Naming rules shared by the mesh files, and locations (paths or URIs) resolved against the mesh root."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tessera.model.address import NAME_PATTERN

__all__ = ["DEFAULT_STORAGE", "RESERVED_DOMAINS", "is_uri", "name_problem", "resolve_location"]

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
