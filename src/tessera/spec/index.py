"""The mesh index: ``<mesh>/.tessera/index``, what was made from a mesh's files, kept under their digests.

Every value is stored in a table under a name (a product folder, a domain) with the exact key of what it was
computed from — the digests of the bytes read (``tessera.spec.files``), and every other input the computation
reads — and is used only when that key is asked again, so a stale index can never change a result
(docs/architecture.md, "The mesh index"). Everything in a key also includes ``salt()``: this Tessera's code
and bundled schemas, the Python version and the home folder (``~`` in a storage path).

The file is a pickle, which runs code when loaded, so a file is loaded only if it carries a MAC made with a key
that never leaves this user's account (``~/.cache/tessera/index.key``, created 0600): an index copied from a
repository, an archive or another user is foreign, fails the check and is ignored like a corrupt one. A file
that is truncated, garbage, a folder or of another format is rebuilt silently; an index that cannot be written
(a read-only mesh folder) is no index. Writes go to a temporary file renamed over the old one, so concurrent
commands never see half a file, and never through a link (a cloned mesh may hold ``.tessera`` as one, to
another repository's ``.git``). ``TESSERA_NO_INDEX=1`` (or ``tessera --no-index``) turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.util
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ENV_NO_INDEX", "Index", "key_of", "open_index", "salt"]

#: Environment variable that turns the index off (``1``); ``tessera --no-index`` sets it.
ENV_NO_INDEX = "TESSERA_NO_INDEX"
_MAGIC = b"tessera mesh index 1\n"
_MAC = 32
_SALT: list[bytes] = []
_LIBRARIES = ("yaml", "jsonschema", "sqlglot", "duckdb", "cel")


def salt() -> bytes:
    """A digest of what every cached value also depends on: the code and bundled files of this Tessera
    (each file's path, size and mtime), the libraries that parse and check (their installed files), the Python
    version and the home folder."""
    if not _SALT:
        digest = hashlib.blake2b(digest_size=20)
        digest.update(f"{sys.version}\0{os.path.expanduser('~')}\0".encode())
        package = Path(__file__).resolve().parent.parent
        for folder, subfolders, names in sorted(os.walk(package)):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(names):
                if name.endswith((".py", ".json", ".yaml", ".yml")):
                    info = os.stat(os.path.join(folder, name))
                    digest.update(f"{folder}/{name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
        for name in _LIBRARIES:  # what parses and checks: an upgrade can change results
            found = importlib.util.find_spec(name)
            if found is not None and found.origin:
                info = os.stat(found.origin)
                digest.update(f"{found.origin}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
        _SALT.append(digest.digest())
    return _SALT[0]


def key_of(*parts: bytes | str) -> bytes:
    """The key of a value made from ``parts`` (digests, names, options) by this Tessera (``salt()``)."""
    digest = hashlib.blake2b(salt(), digest_size=20)
    for part in parts:
        digest.update(b"\0" + (part.encode() if isinstance(part, str) else part))
    return digest.digest()


def _mac_key() -> bytes | None:
    """This user's index key, made on first use; None when there is no private place to keep one."""
    try:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
        folder = Path(cache) / "tessera"
        path = folder / "index.key"
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temp = tempfile.mkstemp(dir=folder, prefix=".index.key.")  # 0600
            try:
                os.write(fd, os.urandom(32))
                os.close(fd)
                os.link(temp, path)  # never replaces a key another process made meanwhile
            except FileExistsError:
                pass
            finally:
                os.unlink(temp)
        key = path.read_bytes()
        info = path.stat()
    except (OSError, RuntimeError):
        return None
    if len(key) != 32 or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None  # not ours, or readable by others: someone else could sign an index
    return key


class Index:
    """The tables of one mesh's index, loaded whole; ``save`` writes it back if anything was put."""

    def __init__(self, path: Path, key: bytes, tables: dict[str, dict[str, tuple[bytes, Any]]]) -> None:
        self.path = path
        self._key = key
        self._tables = tables
        self._dirty = False
        #: What was computed rather than found, by table: tests read it to see that the index is used.
        self.misses: dict[str, int] = {}

    def get(self, table: str, name: str, key: bytes) -> Any | None:
        """The value stored for ``name`` if it was made from exactly ``key``, else None."""
        found = self._tables.get(table, {}).get(name)
        if found is not None and hmac.compare_digest(found[0], key):
            return found[1]
        self.misses[table] = self.misses.get(table, 0) + 1
        return None

    def put(self, table: str, name: str, key: bytes, value: Any) -> None:
        self._tables.setdefault(table, {})[name] = (key, value)
        self._dirty = True

    def keep(self, table: str, names: Mapping[str, object] | set[str]) -> None:
        """Forget the values of ``table`` whose names are not in ``names`` (folders that are gone)."""
        entries = self._tables.get(table, {})
        gone = [n for n in entries if n not in names]
        for name in gone:
            del entries[name]
        self._dirty |= bool(gone)

    def save(self) -> None:
        """Write the index if anything changed; a failure to write is not an error (no index next time)."""
        if not self._dirty:
            return
        payload = pickle.dumps((salt(), self._tables), protocol=pickle.HIGHEST_PROTOCOL)
        mac = _mac(self._key, payload)
        temp = None
        try:
            folder = self.path.parent
            folder.mkdir(mode=0o700, exist_ok=True)
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return  # a link to elsewhere (a cloned mesh can hold one): never written through
            _ignore(folder / ".gitignore")
            fd, temp = tempfile.mkstemp(dir=folder, prefix=".index.")  # 0600
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC + mac + payload)
            os.replace(temp, self.path)
            temp = None
            self._dirty = False
        except OSError:
            pass
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)


def _ignore(path: Path) -> None:
    """A ``.gitignore`` so the index is never committed, even where the mesh's own is missing: created only
    where no file or link is (``O_EXCL`` never follows a link), so it never writes outside the mesh."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as out:
        out.write("# this machine's state of the mesh\n*\n")


def _mac(key: bytes, payload: bytes | memoryview) -> bytes:
    """Keyed BLAKE2b (a MAC by design, and faster than HMAC-SHA256 over tens of MB)."""
    digest = hashlib.blake2b(_MAGIC, key=key, digest_size=_MAC)
    digest.update(payload)
    return digest.digest()


def open_index(root: Path, environ: Mapping[str, str] | None = None) -> Index | None:
    """The index of the mesh in ``root`` (empty when there is none yet or it cannot be trusted), or None when
    it is turned off or this user has no key."""
    env = os.environ if environ is None else environ
    if env.get(ENV_NO_INDEX, "") not in ("", "0"):
        return None
    key = _mac_key()
    if key is None:
        return None
    path = root / ".tessera" / "index"
    return Index(path, key, _load(path, key))


def _load(path: Path, key: bytes) -> dict[str, dict[str, tuple[bytes, Any]]]:
    try:  # a regular file only, never through a link: a link to /dev/zero or a FIFO must not stop a command
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:  # none yet, a link, unreadable
        return {}
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # a folder or a FIFO in its place
            return {}
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(info.st_size)
    except OSError:
        return {}
    finally:
        os.close(fd)
    head = len(_MAGIC) + _MAC
    if len(data) < head or not data.startswith(_MAGIC):
        return {}
    payload = memoryview(data)[head:]
    if not hmac.compare_digest(_mac(key, payload), data[len(_MAGIC) : head]):
        return {}  # foreign, or damaged: never unpickled
    try:
        made_by, tables = pickle.loads(payload)
    except Exception:  # a file we signed but cannot read (another Python's pickle): rebuilt
        return {}
    if made_by != salt() or not isinstance(tables, dict):
        return {}
    return tables
