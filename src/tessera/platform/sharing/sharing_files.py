"""The file behind a signed Delta Sharing URL, decided again on every request.

A signed URL (``tessera.sharing.signing``) names a file, its recipient, the shared table and version, and the
view it was issued for. The file is served only when, at the moment of the request:

- the signature is good and the URL has not expired;
- the recipient exists and is neither revoked nor expired, still holds a grant on the share, the table is still
  in the share (the same product), and the recipient's principal still may read that product through the same
  view (raw files only while it needs no masking, a masked copy only of its current view) — so removing a
  table, revoking a share, a recipient or a read grant, or deleting the share stops every URL at once;
- the path, with ``..`` refused and symlinks resolved, is a Parquet data file of that product's table under the
  storage root (never its ``_delta_log``), or the copy in the masked-copy cache entry the grant names — never
  any other file, nothing else under ``.tessera/`` (the catalog, the signing key).

Every refusal is one protocol error (403, or 404 for a file gone) and one audit entry ``share.file.denied``:
actor ``recipient:NAME`` when the URL is signed, ``anonymous`` when it is not. Masked copies whose source file
is gone are purged by ``purge_masked_copies`` (erasure and retention call it)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from tessera.catalog import append_audit
from tessera.errors import NotFoundError, TesseraError
from tessera.platform.context import Context
from tessera.platform.sharing.sharing_reads import RecipientReads, source_exists
from tessera.sharing import store
from tessera.sharing.masked import cache_folder, purge
from tessera.sharing.model import SharingError
from tessera.sharing.objects import ObjectFiles, is_remote
from tessera.sharing.signing import FileGrant, load_secret, verify

__all__ = ["SignedFile", "open_file", "purge_masked_copies"]

log = logging.getLogger("tessera.platform.sharing.sharing_files")


@dataclass(frozen=True, slots=True)
class SignedFile:
    """A file a signed URL lets its holder download: a local ``path``, or an object store ``uri`` read through
    ``objects``."""

    name: str
    path: Path | None = None
    uri: str | None = None
    objects: ObjectFiles | None = None
    size: int = 0


def _denied(message: str) -> SharingError:
    return SharingError("PERMISSION_DENIED", message)


def open_file(ctx: Context, token: str, name: str) -> SignedFile:
    """The file a signed URL (``token``, then the file's ``name``) names, checked as the module says: 403 when
    it may not be served, 404 when it is gone (a vacuum or a purge removed it); each refusal audited."""
    grant: FileGrant | None = None
    try:
        grant = verify(load_secret(ctx.root), token)
        if grant.path.rstrip("/").rsplit("/", 1)[-1] != name:
            raise _denied("the file URL is not valid")
        return _open(ctx, grant)
    except SharingError as exc:
        _audit(ctx, grant, exc)
        raise


def _audit(ctx: Context, grant: FileGrant | None, exc: SharingError) -> None:
    """A refusal of a signed grant is one entry naming its recipient; a URL that is not validly signed comes
    from nobody, and is counted per source and minute by a server (``tessera.access.rejections``)."""
    if grant is None:
        from tessera.access.rejections import record_rejection

        try:
            record_rejection(ctx.catalog, "share.file.denied", "-", str(exc)[:120])
        except TesseraError:
            log.exception("could not audit a refused file request")
        return
    actor = f"recipient:{grant.recipient}" if grant is not None else "anonymous"
    subject = f"{grant.share}.{grant.table}" if grant is not None else "-"
    details = {"code": exc.code, "reason": str(exc)[:500]}
    if grant is not None:
        details["file"] = grant.path.rsplit("/", 1)[-1][:200]
    try:
        with ctx.catalog.transaction() as conn:
            append_audit(conn, actor, "share.file.denied", subject, details)
    except TesseraError:  # the refusal stands even when it cannot be written down
        log.exception("could not audit a refused file request")


def _open(ctx: Context, grant: FileGrant) -> SignedFile:
    try:
        recipient = store.get_recipient(ctx.catalog, grant.recipient)
    except NotFoundError:
        raise _denied("the recipient of this file URL does not exist") from None
    if not store.recipient_live(ctx.catalog, recipient.name):
        raise _denied("the recipient of this file URL was revoked or has expired")
    reads = RecipientReads(ctx, recipient)
    schema, _, table = grant.table.partition(".")
    try:
        item = reads.table(grant.share, schema, table)
        if item.major is not None and item.major != grant.major:
            raise _denied(f"{item.label} no longer serves major {grant.major}")
        release = reads.release_at(item, grant.major, grant.version)
        view = reads.view(item, release)
    except SharingError as exc:
        if exc.code != "RESOURCE_DOES_NOT_EXIST":
            raise
        raise _denied(f"this file URL is no longer valid: {exc}") from None
    if (view.fingerprint if view is not None else "") != grant.view:
        raise _denied(
            f"this file URL is no longer valid: what recipient {recipient.name} may read of {item.address} has "
            "changed; query the table again"
        )
    gone = SharingError("RESOURCE_DOES_NOT_EXIST", "the file is gone; query the table again")
    name = grant.path.rstrip("/").rsplit("/", 1)[-1]
    outside = _denied(f"the file URL does not name a file of {grant.share}.{grant.table}")
    if any(part in ("..", ".") for part in re.split(r"[/\\]", grant.path)):
        raise outside
    if is_remote(grant.path):
        return _remote(ctx, grant, release.table_uri, name, outside, gone)
    path = Path(grant.path)
    path = (path if path.is_absolute() else ctx.root / path).resolve()
    if grant.view:
        allowed = (cache_folder(ctx.root, item.address, grant.major) / grant.view).resolve()
        inside = path.parent == allowed
    else:
        table_root = Path(release.table_uri.removeprefix("file://")).resolve()
        storage = Path(ctx.settings.storage.removeprefix("file://")).resolve()
        inside = (
            path.is_relative_to(table_root)
            and table_root.is_relative_to(storage)
            and not path.is_relative_to((ctx.root / ".tessera").resolve())
            and "_delta_log" not in path.relative_to(table_root).parts[:1]
        )
    if not inside or path.suffix != ".parquet":
        raise outside
    if not path.is_file():
        raise gone
    return SignedFile(name, path=path, size=path.stat().st_size)


def _remote(
    ctx: Context, grant: FileGrant, table_uri: str, name: str, outside: SharingError, gone: SharingError
) -> SignedFile:
    """A file of a table on object storage: only the table's own data files (masked copies are local)."""
    root = table_uri.rstrip("/") + "/"
    rest = grant.path.removeprefix(root)
    if grant.view or not grant.path.startswith(root) or rest.startswith("_delta_log/"):
        raise outside
    if not rest.endswith(".parquet"):
        raise outside
    objects = ObjectFiles(ctx.settings.storage, ctx.settings.storage_options)
    size = objects.size(grant.path)
    if size is None:
        raise gone
    return SignedFile(name, uri=grant.path, objects=objects, size=size)


def purge_masked_copies(ctx: Context, address: str, major: int, table_uri: str) -> int:
    """Delete the masked copies of one major of a product whose source file is gone (after the vacuum of an
    erasure or a retention fix, the files that held the deleted rows): how many."""
    table_root = table_uri.removeprefix("file://")
    return purge(cache_folder(ctx.root, address, major), table_root, source_exists(ctx, table_root))
