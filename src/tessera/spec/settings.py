"""``mesh.yaml`` → ``MeshSettings``: storage and catalog resolved against the mesh root and environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tessera.errors import Problem, SpecError
from tessera.model.bounds import limit_problems
from tessera.model.product import MeshSettings
from tessera.model.slo import slo_problems
from tessera.spec.names import DEFAULT_STORAGE, ENV_CATALOG, resolve_location
from tessera.spec.schemas import schema_errors
from tessera.spec.yaml_lines import LineMap, Report, read_yaml

__all__ = [
    "DEFAULT_STORAGE",
    "ENV_CATALOG",
    "check_settings",
    "load_settings",
    "not_a_mesh",
    "resolve_catalog_url",
]

_SQLITE = re.compile(r"^(sqlite(?:\+\w+)?:///)(.*)$")
_S3 = ("s3://", "s3a://")


def check_settings(
    doc: Any, lines: LineMap, root: Path, environ: Mapping[str, str] | None = None
) -> tuple[MeshSettings, list[Problem]]:
    """Validate mesh.yaml and read it (best effort when it has problems)."""
    report = Report("mesh.yaml", lines)
    if not isinstance(doc, dict):
        report.add((), "mesh.yaml must be a mapping with at least a name")
        doc = {}
    else:
        for key, message in schema_errors("mesh", doc):
            report.add(key, message)
    limits = doc.get("limits") if isinstance(doc.get("limits"), dict) else {}
    for bad, why in limit_problems(limits):
        report.add(("limits", bad), why)
    slo = doc.get("slo") if isinstance(doc.get("slo"), dict) else {}
    for where, why in slo_problems(slo):
        report.add(("slo", *where), why)
    lineage = doc.get("lineage") if isinstance(doc.get("lineage"), dict) else {}
    if lineage.get("transport") == "http" and not lineage.get("url"):
        report.add(("lineage", "transport"), "transport http needs url: (the Marquez/DataHub base URL)")
    from tessera.spec.lineage_settings import lineage_problems

    for key, message in lineage_problems(lineage):
        report.add(("lineage", *key), message)
    notifications = doc.get("notifications") if isinstance(doc.get("notifications"), dict) else {}
    channels: list[Any] = notifications["channels"] if isinstance(notifications.get("channels"), list) else []
    names = [c.get("name") if isinstance(c, dict) else None for c in channels]
    for i, name in enumerate(names):
        if name is not None and name in names[:i]:
            report.add(
                ("notifications", "channels", i, "name"), f"channel {name!r} is named twice; names are unique"
            )
    env = os.environ if environ is None else environ
    storage = doc.get("storage")
    catalog = env.get(ENV_CATALOG) or doc.get("catalog")
    options = doc.get("storageOptions")
    location = resolve_location(storage if isinstance(storage, str) and storage else DEFAULT_STORAGE, root)
    encryption = doc["encryption"] if isinstance(doc.get("encryption"), dict) else {}
    store_options = {str(k): str(v) for k, v in options.items()} if isinstance(options, dict) else {}
    safety = {} if any(k.lower() in _S3_COMMIT_SAFETY for k in store_options) else _commit_safety(location)
    remote = _REMOTE_DEFAULTS if "://" in location and not location.startswith("file://") else {}
    store_options = {**remote, **_encryption_options(encryption, location, report), **safety, **store_options}
    settings = MeshSettings(
        name=doc["name"] if isinstance(doc.get("name"), str) else root.name,
        root=root,
        storage=location,
        catalog_url=resolve_catalog_url(catalog if isinstance(catalog, str) and catalog else None, root),
        engine=doc["engine"] if isinstance(doc.get("engine"), str) else "duckdb",
        storage_options=store_options,
        lineage=doc["lineage"] if isinstance(doc.get("lineage"), dict) else {},
        monitoring=doc["monitoring"] if isinstance(doc.get("monitoring"), dict) else {},
        governance=doc["governance"] if isinstance(doc.get("governance"), dict) else {},
        access=doc["access"] if isinstance(doc.get("access"), dict) else {},
        limits=doc["limits"] if isinstance(doc.get("limits"), dict) else {},
        server=doc["server"] if isinstance(doc.get("server"), dict) else {},
        auth=doc["auth"] if isinstance(doc.get("auth"), dict) else {},
        encryption=encryption,
        transforms=doc["transforms"] if isinstance(doc.get("transforms"), dict) else {},
        notifications=doc["notifications"] if isinstance(doc.get("notifications"), dict) else {},
        slo=slo,
    )
    return settings, report.problems


#: Options by which delta-rs makes concurrent commits to S3 safe; when mesh.yaml sets none of them, S3's
#: conditional put (``If-None-Match``, supported by AWS S3, MinIO, Ceph and moto) is asked for.
_S3_COMMIT_SAFETY = (
    "aws_conditional_put",
    "conditional_put",
    "aws_s3_locking_provider",
    "aws_copy_if_not_exists",
    "aws_s3_allow_unsafe_rename",
)


def _commit_safety(location: str) -> dict[str, str]:
    if not location.startswith(_S3):
        return {}
    return {"aws_conditional_put": "etag"}


#: An object store that cannot be reached fails within seconds, not after the client's three minutes of retries.
_REMOTE_DEFAULTS = {"connect_timeout": "5s", "max_retries": "3", "retry_timeout": "30s"}


def _encryption_options(encryption: Mapping[str, Any], location: str, report: Report) -> dict[str, str]:
    """The object store options that make S3 encrypt every object the mesh writes (``sse-s3``/``sse-kms``);
    explicit ``storageOptions`` win. Server-side encryption on storage that is not S3 is a problem."""
    at_rest, key = encryption.get("atRest"), encryption.get("kmsKeyId")
    if key is not None and at_rest != "sse-kms":
        report.add(("encryption", "kmsKeyId"), "kmsKeyId is only used with atRest: sse-kms")
    if at_rest not in ("sse-s3", "sse-kms"):
        return {}
    if not location.startswith(_S3):
        report.add(
            ("encryption", "atRest"),
            f"{at_rest} is S3 server-side encryption but storage is {location!r}; "
            "use atRest: filesystem for a local or mounted volume that is encrypted",
        )
        return {}
    if at_rest == "sse-s3":
        return {"aws_server_side_encryption": "AES256"}
    options = {"aws_server_side_encryption": "aws:kms"}
    if isinstance(key, str):
        options["aws_sse_kms_key_id"] = key
    return options


def resolve_catalog_url(url: str | None, root: Path) -> str:
    """``None`` → SQLite at ``<root>/.tessera/catalog.db``; a relative ``sqlite:///`` path → in ``root``."""
    if not url:
        return f"sqlite:///{root / '.tessera' / 'catalog.db'}"
    match = _SQLITE.match(url)
    if match and match[2] and not match[2].startswith(("/", ":memory:")) and not match[2].startswith("file:"):
        path, _, query = match[2].partition("?")
        return f"{match[1]}{os.path.normpath(root / path)}" + (f"?{query}" if query else "")
    return url


def not_a_mesh(base: Path) -> SpecError:
    """The error for a folder that has no ``mesh.yaml``, saying how to make one."""
    what = "does not exist" if not base.exists() else "is not a Tessera mesh: it has no mesh.yaml"
    hint = "run `tessera init` to create a mesh (or `tessera init --example` for the example mesh)"
    return SpecError([Problem(str(base), None, "", f"{base} {what}; {hint}")])


def load_settings(root: str | Path, *, environ: Mapping[str, str] | None = None) -> MeshSettings:
    """Only ``mesh.yaml``: enough to open the catalog and storage without reading every product file."""
    base = Path(root).expanduser().resolve()
    if not (base / "mesh.yaml").is_file():
        raise not_a_mesh(base)
    doc, lines, found = read_yaml(base / "mesh.yaml", "mesh.yaml")
    settings, problems = check_settings(doc if not found else {"name": base.name}, lines, base, environ)
    if found or problems:
        raise SpecError([*found, *problems])
    return settings
