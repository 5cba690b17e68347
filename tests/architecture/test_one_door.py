"""The one door holds by construction: only the modules listed here may open product data, each for a stated
reason, and every read for a reader goes through ``tessera.platform.reading.reader``. A new module that scans a table,
registers a release on an engine or runs the guarded query without being listed fails this test: route it
through the reader, or list it here with the reason it is not a read for a reader (docs/governance.md,
"Threat model")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "tessera"

#: Names whose use opens product data (imported from their modules, or called as methods).
OPENERS = {
    "register_release",
    "register_scan",
    "read_release",
    "query_releases",
    "read_release_as",
    "query_as",
    "run_checked",
    "secure_query",
    "quick_query",
    "scan",
    "file_uris",
    "to_pyarrow_dataset",
    "to_pyarrow_table",
}

#: Module → why it may open product data.
ALLOWED = {
    "platform/reading/reader.py": "the door itself",
    "platform/reading/releases.py": "the door's trusted reads (its only caller is the reader)",
    "platform/reading/secure.py": "the door's reads as a principal (its only caller is the reader)",
    "platform/reading/quick.py": "the door's trusted fast path (its only caller is the reader)",
    "access/secure_query.py": "the guard and the locked-down connection the door runs principals' SQL on",
    "storage/delta.py": "the table store: defines scans",
    "platform/publishing/transform_run.py": "a transform's inputs, on its own locked-down connection (the transform door)",
    "platform/publishing/publish.py": "the quality gate judges the table after an append or merge (a producer's action)",
    "platform/publishing/testing.py": "tessera test on published data needs publish on the product (a producer's action)",
    "platform/observability/monitor.py": "freshness and row counts for SLA status (numbers, never rows)",
    "platform/remediation/remediate.py": "retention and erasure rewrite tables (admin actions, audited)",
    "platform/remediation/rewrites.py": "the table steps retention and erasure share: counts and files of rows to delete (admin)",
    "platform/sharing/sharing_reads.py": "Delta Sharing: file lists and masked copies for a recipient's view",
    "platform/sharing/sharing_files.py": "Delta Sharing: serves only the files a signed, re-checked grant names",
    "platform/provisioning/repair.py": "rebuilds the catalog from Delta commit metadata (admin)",
    "platform/remediation/erasure.py": "finds the subject's rows to erase (admin, audited)",
    "interop/profile.py": "a Delta table the user names to infer a contract from; refused inside a mesh's "
    "storage root or .tessera/ (interop/infer.py refuse_mesh_data)",
    "platform/publishing/seed.py": "the seed's folder-less classes: a catalog file the local user opened, no grants to apply",
}


def _openers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tessera"):
            found |= {alias.name for alias in node.names if alias.name in OPENERS}
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in OPENERS:
                found.add(func.attr)
            elif isinstance(func, ast.Name) and func.id in OPENERS:
                found.add(func.id)
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_only_listed_modules_open_product_data(path: Path) -> None:
    name = str(path.relative_to(SRC))
    used = _openers(path)
    if name in ALLOWED:
        return
    assert not used, (
        f"{name} opens product data ({', '.join(sorted(used))}) outside the reader: read through "
        "tessera.platform.reading.reader.Reader, or list the module in tests/architecture/test_one_door.py with its reason"
    )


def test_the_door_internals_have_the_reader_as_only_caller() -> None:
    internals = {"tessera.platform.reading.quick"}
    trusted = {"read_release", "query_releases"}
    as_principal = {"query_as", "read_release_as", "filter_samples", "sample_access", "access_for", "reader"}
    for path in _modules():
        name = str(path.relative_to(SRC))
        if name in (
            "platform/reading/reader.py",
            "platform/reading/secure.py",
            "platform/reading/releases.py",
            "platform/reading/quick.py",
        ):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in internals:
                raise AssertionError(f"{name} imports {node.module}: only the reader may")
            if isinstance(node, ast.ImportFrom) and node.module == "tessera.platform.reading.secure":
                bad = {a.name for a in node.names} & as_principal
                assert not bad, f"{name} imports {bad} from secure: only the reader may"
            if isinstance(node, ast.ImportFrom) and node.module == "tessera.platform.reading.releases":
                bad = {a.name for a in node.names} & trusted
                assert not bad, f"{name} imports {bad} from reading: only the reader may"


def test_the_allow_list_names_real_modules() -> None:
    for name in ALLOWED:
        assert (SRC / name).is_file(), f"{name} is listed but does not exist"
