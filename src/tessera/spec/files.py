"""The files a mesh is loaded from, each read once: its bytes and their digest, for the mesh index.

``MeshFiles.walk(root)`` walks what ``load_mesh`` reads — ``mesh.yaml``, each ``domains/<d>/`` folder's files
and each ``domains/<d>/products/<p>/`` folder's — and reads every file whole (bounded like every mesh file:
a file past ``MAX_FILE_BYTES`` is not read, its size stands for it). The loader then parses these very bytes,
so what the index stores under a digest is what was made from those bytes, even if a file changes meanwhile
(docs/architecture.md, "The mesh index"). Neither size nor mtime is trusted: an edit can keep both.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from tessera.errors import Problem
from tessera.spec.bounds import MAX_FILE_BYTES, decode_text

__all__ = ["FOLDER_FILES", "PRODUCT_FILES", "FileReader", "MeshFiles", "folders"]

#: The files of a product folder that the loader and ``tessera validate`` read.
PRODUCT_FILES = ("product.odps.yaml", "contract.odcs.yaml", "transform.sql", "transform.py")
#: The files of a domain or product folder they read (``tessera validate``'s TODO notes read all five in both).
FOLDER_FILES = ("domain.yaml", *PRODUCT_FILES)


def folders(path: Path) -> list[str]:
    """The names of the sub-folders of ``path`` that hold mesh content (``.`` and ``_`` ones are skipped),
    sorted; none when ``path`` is not a folder."""
    try:
        with os.scandir(path) as entries:
            return sorted(e.name for e in entries if not e.name.startswith((".", "_")) and _is_dir(e))
    except OSError:
        return []


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class _File:
    """A regular file as read: its bytes (None when too big to read), size, digest, or why it was not read."""

    data: bytes | None
    size: int
    digest: bytes
    error: str | None = None


def _read(path: str) -> _File | None:
    """``path``'s content if it is a regular file (following links, as ``Path.is_file``), else None."""
    try:
        fd = os.open(path, _FLAGS)  # non-blocking: a FIFO must not stop the walk
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _unread(path, exc)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > MAX_FILE_BYTES:
            return _File(None, info.st_size, b"size:%d" % info.st_size)
        data = os.read(fd, info.st_size + 1)
        if len(data) > info.st_size:  # it grew since fstat: read the rest
            data += b"".join(iter(lambda: os.read(fd, 1 << 20), b""))
    except OSError as exc:
        return _unread(path, exc)
    finally:
        os.close(fd)
    return _File(data, len(data), _blake2b(data, digest_size=20).digest())


_FLAGS = os.O_RDONLY | os.O_NONBLOCK
_blake2b = hashlib.blake2b


def _unread(path: str, exc: OSError) -> _File | None:
    if not os.path.isfile(path):
        return None
    reason = exc.strerror or str(exc)
    return _File(None, 0, b"error:" + reason.encode(), reason)


@dataclass(slots=True)
class MeshFiles:
    """Every file the loader reads in mesh ``root``, by path relative to it (``domains/sales/domain.yaml``):
    absent files are not in ``files``. ``domains`` and ``products`` list the folders in walk order."""

    root: Path
    files: dict[str, _File] = field(default_factory=dict)
    domains: list[str] = field(default_factory=list)
    products: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def walk(cls, root: Path) -> MeshFiles:
        found = cls(root)
        files = found.files
        top = f"{root}/"
        for relative in _paths(root, found.domains, found.products):
            read = _read(top + relative)
            if read is not None:
                files[relative] = read
        return found

    def digest(self, folder: str, names: tuple[str, ...]) -> bytes:
        """One digest of the files ``names`` in ``folder`` (relative): their presence and their content."""
        prefix = f"{folder}/" if folder != "." else ""
        files = self.files
        parts = [folder.encode()]
        for name in names:
            found = files.get(prefix + name)
            parts.append(found.digest if found is not None else b"-")
        return _blake2b(b"\0".join(parts), digest_size=20).digest()

    def reader(self) -> FileReader:
        return FileReader(self)


def _paths(root: Path, domains: list[str], products: dict[str, list[str]]) -> list[str]:
    """The paths (relative to ``root``) of every file the loader may read, in its order; fills in the domain
    and product folders found. A folder is listed once rather than probed for each name it may not hold."""
    paths = ["mesh.yaml"]
    for domain in folders(root / "domains"):
        domains.append(domain)
        paths += _present(root, f"domains/{domain}")
        products[domain] = folders(root / "domains" / domain / "products")
        for product in products[domain]:
            paths += _present(root, f"domains/{domain}/products/{product}")
    return paths


def _present(root: Path, folder: str) -> list[str]:
    try:
        names = set(os.listdir(f"{root}/{folder}"))
    except OSError:
        return []
    return [f"{folder}/{name}" for name in FOLDER_FILES if name in names]


class FileReader:
    """What the loader asks of the disk, answered from the bytes a ``MeshFiles`` walk read (or, without
    one, from the disk itself): whether a file is there, and its text or the problem that stops it."""

    __slots__ = ("_files", "_root")

    def __init__(self, files: MeshFiles | None = None, root: Path | None = None) -> None:
        self._files = files
        self._root = files.root if files is not None else root

    def is_file(self, path: Path) -> bool:
        if self._files is None:
            return path.is_file()
        return self._relative(path) in self._files.files

    def text(self, path: Path, file: str) -> tuple[str | None, list[Problem]]:
        if self._files is None:
            from tessera.spec.bounds import read_text

            return read_text(path, file)
        found = self._files.files.get(self._relative(path))
        if found is None:
            return None, [Problem(file, None, "", "cannot be read: No such file or directory")]
        if found.error is not None:
            return None, [Problem(file, None, "", f"cannot be read: {found.error}")]
        return decode_text(found.data, found.size, file)

    def _relative(self, path: Path) -> str:
        assert self._root is not None
        return path.relative_to(self._root).as_posix()
