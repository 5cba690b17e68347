"""``tessera doctor``: which engine, storage and catalog a mesh uses, and whether each answers.

Only ``mesh.yaml`` is read (a mesh whose product files have problems can still be diagnosed), and each part
is tried for real: the catalog opened and queried, a probe object written to and removed from the storage
root, a query run on the engine, the lineage endpoint contacted. A failure is reported with what to check,
never raised: the point of the command is to say what is wrong."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tessera.errors import TesseraError

if TYPE_CHECKING:
    from tessera.model.product import MeshSettings

__all__ = ["Check", "diagnose"]


@dataclass(frozen=True, slots=True)
class Check:
    part: str  # engine | storage | catalog | lineage | notifications | identity
    kind: str  # duckdb, a cluster's URL scheme, local folder, s3, sqlite, postgresql, http …
    target: str  # what was tried (URL, folder), secrets left out
    ok: bool
    detail: str
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def diagnose(root: str | Path) -> list[Check]:
    """Every part of the mesh at ``root``, tried in turn (raises only when ``root`` is not a mesh)."""
    from tessera.spec import load_settings

    settings = load_settings(root)
    return [
        _catalog(settings),
        _storage(settings),
        _engine(settings),
        *_lineage(settings),
        *_notifications(settings),
        *_identity(settings),
    ]


def _timed(part: str, kind: str, target: str, probe: Callable[[], str]) -> Check:
    start = time.perf_counter()
    try:
        detail, ok = probe(), True
    except TesseraError as exc:
        detail, ok = str(exc), False
    except Exception as exc:  # the doctor reports whatever stops a part; it never fails itself
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        detail, ok = f"{type(exc).__name__}: {first.strip()}", False
    return Check(part, kind, target, ok, detail, round(time.perf_counter() - start, 3))


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: the open itself will say why
        return url


def _catalog(settings: MeshSettings) -> Check:
    url = settings.catalog_url
    kind = url.split(":", 1)[0].split("+", 1)[0]

    def probe() -> str:
        from sqlalchemy import text

        from tessera.catalog import Catalog
        from tessera.catalog.migrate import HEAD

        if url.startswith("sqlite:///") and ":memory:" not in url:  # looking must not create it
            path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
            if not path.parent.is_dir() and not path.is_relative_to(settings.root):
                raise TesseraError(f"the catalog's folder {path.parent} does not exist (mesh.yaml catalog)")
            if not path.exists():
                return f"not created yet: tessera apply creates it at {path}"
        catalog = Catalog.open(url, storage=settings.storage)
        try:
            with catalog.engine.connect() as conn:
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                products = conn.execute(text("SELECT count(*) FROM products")).scalar()
            return f"schema {revision} (this release {HEAD}), {products} products registered"
        finally:
            catalog.close()

    return _timed("catalog", kind, _redacted(url), probe)


def _storage(settings: MeshSettings) -> Check:
    root = settings.storage
    remote = "://" in root and not root.startswith("file://")
    kind = root.split("://", 1)[0] if remote else "local folder"
    name = f"_tessera_doctor_{uuid.uuid4().hex[:8]}"

    def local() -> str:
        folder = Path(root.removeprefix("file://"))
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / name
        probe.write_bytes(b"tessera doctor")
        probe.unlink()
        tables = sum(1 for _ in folder.glob("*/*/v*/_delta_log"))
        return f"writable; {tables} product tables"

    def object_store() -> str:
        import pyarrow as pa
        from deltalake import write_deltalake
        from deltalake.fs import DeltaStorageHandler
        from pyarrow.fs import FileSelector

        from tessera.storage.delta import store_error

        options = dict(settings.storage_options)
        files = DeltaStorageHandler(root, options or None)
        try:
            files.get_file_info_selector(FileSelector("", allow_not_found=True))  # the bucket answers a list
            # a write the way a publish writes (a tiny Delta table), then removed
            write_deltalake(f"{root.rstrip('/')}/{name}", pa.table({"probe": [1]}), storage_options=options)
            files.delete_dir(name)
        except OSError as exc:
            raise store_error(root, exc, options) from None
        encrypted = options.get("aws_server_side_encryption")
        return "writable" + (f"; server-side encryption {encrypted}" if encrypted else "")

    return _timed("storage", kind, root, object_store if remote else local)


def _engine_kind(name: str) -> str:
    """The engine's own name (``sc://host:port`` names one by its scheme), or the setting as written."""
    from tessera.engine import engine_class

    try:
        return engine_class(name).name
    except TesseraError:  # unknown, or a plugin that does not load: the probe says why
        return name


def _engine(settings: MeshSettings) -> Check:
    name = settings.engine
    kind = _engine_kind(name)

    def probe() -> str:
        from tessera.engine import create_engine

        engine = create_engine(name)
        try:
            [(answer,)] = engine.fetch_rows("SELECT 40 + 2")
            if answer != 42:
                raise TesseraError(f"engine {name!r} answered {answer!r} to SELECT 40 + 2")
            return f"{engine.name}: answers queries"
        finally:
            engine.close()

    return _timed("engine", kind, name, probe)


def _lineage(settings: MeshSettings) -> list[Check]:
    lineage = settings.lineage
    if lineage.get("transport") != "http" or not isinstance(lineage.get("url"), str):
        return []
    from tessera.lineage.transports import endpoint_url, expand_headers

    url = endpoint_url(str(lineage["url"]), str(lineage.get("endpoint") or "api/v1/lineage"))

    def probe() -> str:
        import urllib.error
        import urllib.request

        expand_headers(lineage.get("headers") or {})  # each variable a header names is set (values unshown)
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return f"reachable (HTTP {response.status})"
        except urllib.error.HTTPError as exc:  # it answered: the endpoint is there
            return f"reachable (HTTP {exc.code} on GET {url})"
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TesseraError(
                f"lineage endpoint {url} cannot be reached: {reason} (mesh.yaml lineage.url)"
            ) from None

    return [_timed("lineage", "http", url, probe)]


def _notifications(settings: MeshSettings) -> list[Check]:
    """With a ``notifications:`` block: the variables it names are set, and the SMTP server answers."""
    if not settings.notifications:
        return []
    from tessera.monitoring.channels import NotificationSettings

    configured = NotificationSettings.of(settings.notifications, settings.monitoring)

    def variables() -> str:
        problems = configured.problems()
        if problems:
            raise TesseraError("; ".join(problems))
        return f"{len(configured.channels)} channel(s); every variable mesh.yaml names is set"

    checks = [_timed("notifications", "settings", "mesh.yaml notifications", variables)]
    smtp = configured.smtp
    if smtp is not None:

        def probe() -> str:
            import smtplib

            with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as server:
                code, _ = server.noop()
            return f"SMTP answered {code}"

        checks.append(_timed("notifications", "smtp", f"{smtp.host}:{smtp.port}", probe))
    return checks


def _identity(settings: MeshSettings) -> list[Check]:
    """mesh.yaml ``auth.oidc``: the provider's discovery document and keys read as ``tessera serve`` reads them
    at startup, and the client secret's variable set (its value never shown)."""
    from tessera.access.oidc_config import oidc_config

    config = oidc_config(settings.auth)
    if config is None:
        return []

    def probe() -> str:
        from tessera.access.oidc import OidcProvider

        provider = OidcProvider.discover(config)
        return (
            f"issuer answers; {len(provider.keys())} signing keys; client {config.client_id!r}, secret in "
            f"${config.client_secret_env}"
        )

    return [_timed("identity", "openid connect", config.issuer, probe)]
