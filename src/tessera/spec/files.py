"""The files a mesh is loaded from, each read once: its bytes and their digest, for the mesh index.

``MeshFiles.scan(root)`` walks what ``load_mesh`` reads — ``mesh.yaml``, each ``domains/<d>/`` folder's files
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
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the walk
    except FileNotFoundError:
        return None
    except OSError as exc:
        if not os.path.isfile(path):
            return None
        reason = exc.strerror or str(exc)
        return _File(None, 0, b"error:" + reason.encode(), reason)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > MAX_FILE_BYTES:
            return _File(None, info.st_size, b"size:%d" % info.st_size)
        chunks = [os.read(fd, info.st_size + 1)]
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 20))
        data = b"".join(chunks)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _File(None, 0, b"error:" + reason.encode(), reason)
    finally:
        os.close(fd)
    return _File(data, len(data), hashlib.blake2b(data, digest_size=20).digest())


@dataclass(slots=True)
class MeshFiles:
    """Every file the loader reads in mesh ``root``, by path relative to it (``domains/sales/domain.yaml``):
    absent files are not in ``files``. ``domains`` and ``products`` list the folders in walk order."""

    root: Path
    files: dict[str, _File] = field(default_factory=dict)
    domains: list[str] = field(default_factory=list)
    products: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def scan(cls, root: Path) -> MeshFiles:
        found = cls(root)
        found._take("mesh.yaml")
        for domain in folders(root / "domains"):
            found.domains.append(domain)
            for name in FOLDER_FILES:
                found._take(f"domains/{domain}/{name}")
            products = folders(root / "domains" / domain / "products")
            found.products[domain] = products
            for product in products:
                for name in FOLDER_FILES:
                    found._take(f"domains/{domain}/products/{product}/{name}")
        return found

    def _take(self, relative: str) -> None:
        read = _read(os.path.join(self.root, relative))
        if read is not None:
            self.files[relative] = read

    def digest(self, folder: str, names: tuple[str, ...]) -> bytes:
        """One digest of the files ``names`` in ``folder`` (relative): their presence and their content."""
        digest = hashlib.blake2b(folder.encode(), digest_size=20)
        for name in names:
            found = self.files.get(f"{folder}/{name}" if folder != "." else name)
            digest.update(b"\0" + name.encode() + b"\0" + (found.digest if found is not None else b"-"))
        return digest.digest()

    def reader(self) -> FileReader:
        return FileReader(self)


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
