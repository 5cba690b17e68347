"""Table locations as the catalog keeps them: relative to the mesh's storage root.

A table under the storage root is recorded as its path below the root (``sales/orders/v1``), so a mesh folder
that is moved or copied, or a bucket prefix that changes, reads its own tables and never another copy's; a table
outside the root is recorded whole. Callers never see the recorded form: ``Catalog`` (opened with the mesh's
storage root) hands every location back joined to the root, and every write through ``Catalog.transaction``
takes it apart again here. A catalog opened without a root (the seed's standalone catalogs) keeps locations as
they are given.

Catalogs written before locations were relative hold absolute paths of Tessera's layout
(``<root>/<domain>/<product>/v<major>``); migration 0005 rewrites those under the current root
(``legacy_relative``), and any other absolute location is read as it is."""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath

from sqlalchemy import Connection

__all__ = ["STORAGE_OPTION", "is_relative", "legacy_relative", "root_of", "stored", "usable"]

#: The execution option by which a catalog transaction carries its storage root to the record writers.
STORAGE_OPTION = "tessera_storage"


def is_relative(location: str) -> bool:
    """A recorded location below the storage root (not a URI, not an absolute path)."""
    return (
        "://" not in location
        and not PurePosixPath(location).is_absolute()
        and not PureWindowsPath(location).is_absolute()
    )


def stored(location: str, root: str | None) -> str:
    """How the catalog records ``location``: relative when it lies under ``root``, else whole."""
    if root is None or not location:
        return location
    base = root.rstrip("/")
    if location.startswith(base + "/"):
        return location[len(base) + 1 :]
    return location


def usable(location: str, root: str | None) -> str:
    """A recorded location as callers use it: joined to ``root`` when relative."""
    if root is None or not location or not is_relative(location):
        return location
    return f"{root.rstrip('/')}/{location}"


def root_of(conn: Connection) -> str | None:
    """The storage root the catalog transaction ``conn`` was opened with (None: locations stay as given)."""
    root = conn.get_execution_options().get(STORAGE_OPTION)
    return root if isinstance(root, str) else None


def legacy_relative(location: str, address: str) -> str | None:
    """An absolute location of Tessera's table layout for ``address`` as the part below its storage root
    (``/old/mesh/data/sales/orders/v1`` → ``sales/orders/v1``); None for anything else."""
    if is_relative(location):
        return None
    domain, _, name = address.partition(".")
    if not domain or not name:
        return None
    match = re.search(rf"/({re.escape(domain)}/{re.escape(name)}/v[0-9]+)/?$", location)
    return match[1] if match else None
