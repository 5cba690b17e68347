"""What a Delta Sharing recipient reads: the shares granted to it, their schemas and tables, a table's version
and metadata, the files of a version (with signed URLs), and a file behind a signed URL.

A shared table is a product at one major's Delta table (``tessera.platform.reading.releases.resolve``), so the
protocol's table versions are that table's Delta versions. What the recipient sees follows the grants of its
principal (none: no clearance, no row filter): the table's own Parquet files when it may see every raw value,
else masked, filtered copies (``tessera.sharing.masked``). Every query is audited."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tessera.access.model import ReadAccess
from tessera.catalog import utc
from tessera.errors import NotFoundError
from tessera.platform.context import Context
from tessera.platform.reading.releases import Release, resolve
from tessera.sharing import store
from tessera.sharing.files import DataFile, delta_files, file_line, metadata_line, parquet_file
from tessera.sharing.masked import MaskedView, cache_folder, purge, view_for
from tessera.sharing.model import Recipient, Share, SharedTable, SharingError
from tessera.sharing.objects import ObjectFiles, is_remote
from tessera.sharing.predicates import parse_hints, prune
from tessera.sharing.signing import URL_SECONDS, FileGrant, load_secret, sign

__all__ = ["PROTOCOL_LINE", "QueryOptions", "RecipientReads", "parse_timestamp", "source_exists"]

PROTOCOL_LINE = '{"protocol":{"minReaderVersion":1}}'

#: Builds a file's URL from its signed token and a file name (the server knows its own address).
UrlFor = Callable[[str, str], str]


@dataclass(frozen=True, slots=True)
class QueryOptions:
    """The body of a query request, checked (by ``tessera.server.sharing_options``)."""

    version: int | None = None
    timestamp: datetime | None = None
    limit_hint: int | None = None
    json_predicate_hints: str | None = None


def parse_timestamp(text: str, key: str) -> datetime:
    """``2026-01-31T12:00:00Z``, ``2026-01-31 12:00:00[.f]`` (UTC unless it says otherwise)."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SharingError(
            "INVALID_PARAMETER_VALUE", f"{key} {text!r} is not a timestamp (yyyy-mm-dd hh:mm:ss, UTC)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Served:
    """One version as this recipient receives it."""

    release: Release
    schema_json: str
    partition_columns: list[str]
    files: list[DataFile]
    masked: tuple[str, ...]
    filtered: bool
    view: str = ""


def _not_found(what: str) -> SharingError:
    return SharingError("RESOURCE_DOES_NOT_EXIST", what)


class RecipientReads:
    def __init__(self, ctx: Context, recipient: Recipient) -> None:
        self.ctx = ctx
        self.recipient = recipient

    @classmethod
    def authenticate(cls, ctx: Context, token: str | None) -> RecipientReads:
        return cls(ctx, store.authenticate(ctx.catalog, token))

    # -- listing -----------------------------------------------------------------------------------------------
    def shares(self) -> list[Share]:
        return store.granted_shares(self.ctx.catalog, self.recipient.name)

    def share(self, name: str) -> Share:
        wanted = name.lower()
        for share in self.shares():
            if share.name == wanted:
                return share
        raise _not_found(
            f"share {name!r} does not exist or is not shared with recipient {self.recipient.name}"
        )

    def schemas(self, share: str) -> list[str]:
        return sorted({t.schema for t in self.tables(share)})

    def tables(self, share: str, schema: str | None = None) -> list[SharedTable]:
        found = store.list_tables(self.ctx.catalog, self.share(share).name)
        if schema is None:
            return found
        inside = [t for t in found if t.schema == schema.lower()]
        if not inside:
            raise _not_found(f"schema {schema!r} does not exist in share {share}")
        return inside

    def table(self, share: str, schema: str, table: str) -> SharedTable:
        for item in self.tables(share, schema):
            if item.name == table.lower():
                return item
        raise _not_found(f"table {table!r} does not exist in {share}.{schema}")

    # -- versions ----------------------------------------------------------------------------------------------
    def _release(self, item: SharedTable, version: int | None = None) -> Release:
        try:
            newest = resolve(self.ctx, item.address if item.major is None else f"{item.address}@{item.major}")
            if version is None:
                return newest
            return resolve(self.ctx, f"{item.address}@{newest.major}/v{version}")
        except NotFoundError as exc:
            raise _not_found(f"{item.share}.{item.schema}.{item.name}: {exc}") from None

    def release_at(self, item: SharedTable, major: int, version: int) -> Release:
        """One version of one major of the shared table's product (a URL's grant names both)."""
        try:
            return resolve(self.ctx, f"{item.address}@{major}/v{version}")
        except NotFoundError as exc:
            raise _not_found(f"{item.share}.{item.schema}.{item.name}: {exc}") from None

    def _versions(self, item: SharedTable, major: int) -> list[tuple[int, datetime]]:
        rows = self.ctx.catalog.versions(item.address, major)
        return sorted((int(r["delta_version"]), utc(r["published_at"]) or datetime.now(UTC)) for r in rows)

    def _at(self, item: SharedTable, when: datetime) -> int:
        major = self._release(item).major
        before = [v for v, at in self._versions(item, major) if at <= when]
        if not before:
            raise SharingError(
                "INVALID_PARAMETER_VALUE",
                f"{item.share}.{item.schema}.{item.name} has no version at {when}",
            )
        return before[-1]

    def version(self, share: str, schema: str, table: str, starting: str | None = None) -> int:
        """The table's current version; with ``starting``, the earliest version at or after that time."""
        item = self.table(share, schema, table)
        release = self._release(item)
        if starting is None:
            return release.delta_version
        when = parse_timestamp(starting, "startingTimestamp")
        after = [v for v, at in self._versions(item, release.major) if at >= when]
        if not after:
            raise SharingError(
                "INVALID_PARAMETER_VALUE", f"startingTimestamp {starting} is after the latest version"
            )
        return after[0]

    # -- what the recipient receives ---------------------------------------------------------------------------
    def _access(self, address: str) -> ReadAccess:
        principal = self.recipient.principal
        if principal is None:
            return ReadAccess(address)
        from tessera.access.grants import read_access

        access = read_access(self.ctx.catalog, self.ctx.spec, principal, address)
        if access is None:
            raise SharingError(
                "PERMISSION_DENIED",
                f"recipient {self.recipient.name} reads as {principal}, who may not read {address}",
            )
        return access

    def view(self, item: SharedTable, release: Release) -> MaskedView | None:
        """The masked view this recipient reads ``release`` through now; None for the table's own files. 403
        when its principal may not read the product."""
        from tessera.platform.reading.secure import release_columns  # the columns to mask a release by

        access = self._access(item.address)
        folder = cache_folder(self.ctx.root, release.address, release.major)
        return view_for(release_columns(self.ctx, release), access, folder)

    def _serve(self, item: SharedTable, release: Release, materialise: bool) -> _Served:
        uri = release.table_uri.removeprefix("file://")
        label = f"{item.share}.{item.schema}.{item.name}"
        table = self.ctx.store.open(release.table_uri, release.delta_version)
        protocol = table.protocol()
        if protocol.min_reader_version > 1 or protocol.reader_features:
            raise SharingError(
                "UNSUPPORTED_OPERATION",
                f"{label}: its Delta table needs reader features {protocol.reader_features or []}, which are "
                "not shared in this release",
            )
        partitions = list(table.metadata().partition_columns)
        files = delta_files(table, uri)
        remote = self._objects() if is_remote(uri) else None
        if remote is None:
            gone = any(not Path(f.path).is_file() for f in files)
        else:  # one listing-free probe per file: the version's files are few
            gone = any(remote.size(f.path) is None for f in files)
        if gone:
            raise SharingError(
                "RESOURCE_DOES_NOT_EXIST",
                f"{label}: version {release.delta_version} is no longer readable (retention or erasure removed "
                "its files); read a newer version",
            )
        exists = source_exists(self.ctx, uri)
        if materialise:
            purge(cache_folder(self.ctx.root, release.address, release.major), uri, exists)
        view = self.view(item, release)
        if view is None:
            return _Served(release, str(table.schema().to_json()), partitions, files, (), False)
        if partitions:
            raise SharingError(
                "UNSUPPORTED_OPERATION",
                f"{label}: a partitioned table cannot be masked or filtered for this recipient; share it to a "
                "recipient whose principal has clearance and no row filter",
            )
        import pyarrow as pa

        schema = view.schema_json(str(table.schema().to_json()), pa.schema(table.schema().to_arrow()))
        copies = []
        if materialise:
            for f in files:
                load = (lambda path=f.path: remote.table(path)) if remote is not None else None
                copies.append(
                    parquet_file(view.copy_of(f.path, load, exists, self.ctx.limits.for_transform()))
                )
        return _Served(release, schema, [], copies, view.masked, view.filtered, view.fingerprint)

    def _objects(self) -> ObjectFiles:
        return ObjectFiles(self.ctx.settings.storage, self.ctx.settings.storage_options)

    def metadata(self, share: str, schema: str, table: str) -> tuple[int, list[str]]:
        item = self.table(share, schema, table)
        served = self._serve(item, self._release(item), materialise=False)
        return served.release.delta_version, [PROTOCOL_LINE, self._metadata_line(item, served, None)]

    def _metadata_line(self, item: SharedTable, served: _Served, version: int | None) -> str:
        product = self.ctx.spec.product(item.address)
        return metadata_line(
            item.id,
            item.name,
            served.schema_json,
            served.partition_columns,
            description=product.description if product else None,
            version=version,
        )

    def query(
        self, share: str, schema: str, table: str, options: QueryOptions, url_for: UrlFor
    ) -> tuple[int, list[str]]:
        """The protocol and metadata lines, then one ``file`` line per file the version holds (fewer when the
        predicate hints or the limit hint allow): ``(version, lines)``."""
        item = self.table(share, schema, table)
        version = options.version
        if options.timestamp is not None:
            version = self._at(item, options.timestamp)
        release = self._release(item, version)
        served = self._serve(item, release, materialise=True)
        files = _limited(prune(served.files, parse_hints(options.json_predicate_hints)), options.limit_hint)
        secret = load_secret(self.ctx.root)
        expires = int(time.time()) + URL_SECONDS
        travel = version is not None
        stamp = int(release.published_at.timestamp() * 1000) if travel else None
        lines = [PROTOCOL_LINE, self._metadata_line(item, served, release.delta_version if travel else None)]
        for f in files:
            grant = FileGrant(
                self._stored_path(f.path),
                self.recipient.name,
                expires,
                item.share,
                f"{item.schema}.{item.name}",
                release.major,
                release.delta_version,
                served.view,
            )
            token = sign(secret, grant)
            url = url_for(token, f.name)
            at = release.delta_version if travel else None
            lines.append(file_line(f, url, expires * 1000, version=at, timestamp_ms=stamp))
        store.record_read(
            self.ctx.catalog,
            self.recipient.name,
            f"{item.share}.{item.schema}.{item.name}",
            {
                "address": item.address,
                "major": release.major,
                "version": release.delta_version,
                "files": len(files),
                # the rows handed out, by the files' statistics (None when a file's count is unknown)
                "rows": None
                if any(f.num_records is None for f in files)
                else sum(f.num_records or 0 for f in files),
                "masked": list(served.masked),
                "filtered": served.filtered,
                "principal": self.recipient.principal,
            },
        )
        return release.delta_version, lines

    def _stored_path(self, path: str) -> str:
        """A local file relative to the mesh when it is inside it (the URL need not show the server's
        folders); an object store URI as it is."""
        if is_remote(path):
            return path
        try:
            return str(Path(path).resolve().relative_to(self.ctx.root))
        except ValueError:
            return str(Path(path).resolve())


def source_exists(ctx: Context, table_root: str) -> Callable[[str], bool]:
    """Whether a file of the table at ``table_root`` (a folder or object store URI) is still there."""
    if not is_remote(table_root):
        return lambda path: Path(path).exists()
    remote = ObjectFiles(ctx.settings.storage, ctx.settings.storage_options)
    return lambda uri: remote.size(uri) is not None


def _limited(files: list[DataFile], limit: int | None) -> list[DataFile]:
    """Enough files, in order, to hold ``limit`` rows by their statistics (all when a count is unknown)."""
    if limit is None:
        return files
    out, rows = [], 0
    for f in files:
        if rows >= limit:
            break
        out.append(f)
        if f.num_records is None:
            return files
        rows += f.num_records
    return out
