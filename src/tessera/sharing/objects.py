"""Reading the files of tables on object storage (S3 and the other delta-rs stores) for recipients: sizes,
byte ranges and whole files, through delta-rs's own object store client with the mesh's storage options, so
the server needs no other credentials than the ones it publishes with."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from tessera.sharing.model import SharingError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ObjectFiles", "is_remote"]

CHUNK = 4 * 1024 * 1024


def is_remote(uri: str) -> bool:
    return "://" in uri and not uri.startswith("file://")


class ObjectFiles:
    """Read-only access to the files under one object store root (the mesh's storage): nothing outside it."""

    def __init__(self, root: str, options: Mapping[str, str]) -> None:
        from deltalake.fs import DeltaStorageHandler

        self.root = root.rstrip("/")
        self._handler: Any = DeltaStorageHandler(self.root, dict(options) or None)

    def _relative(self, uri: str) -> str:
        if not uri.startswith(self.root + "/") or "/../" in uri:
            raise SharingError("PERMISSION_DENIED", "the file is not in this mesh's storage")
        return uri[len(self.root) + 1 :]

    def size(self, uri: str) -> int | None:
        """The file's size in bytes; None when it is not there."""
        from pyarrow.fs import FileType

        info = self._handler.get_file_info([self._relative(uri)])[0]
        return None if info.type != FileType.File else int(info.size)

    def read(self, uri: str, start: int, end: int) -> bytes:
        """Bytes ``start`` up to (not including) ``end``."""
        handle = self._handler.open_input_file(self._relative(uri))
        try:
            handle.seek(start)
            return bytes(handle.read(end - start))
        finally:
            handle.close()

    def chunks(self, uri: str, start: int, end: int) -> Iterator[bytes]:
        handle = self._handler.open_input_file(self._relative(uri))
        try:
            handle.seek(start)
            at = start
            while at < end:
                data = bytes(handle.read(min(CHUNK, end - at)))
                if not data:
                    return
                at += len(data)
                yield data
        finally:
            handle.close()

    def table(self, uri: str) -> pa.Table:
        """The whole file as Arrow."""
        import pyarrow.parquet as pq

        handle = self._handler.open_input_file(self._relative(uri))
        try:
            return pq.read_table(handle)
        finally:
            handle.close()
