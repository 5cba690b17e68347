"""The tests mirror the source (docs/architecture.md, "Layers"): each test module sits in ``tests/<name>/``
where ``src/tessera/<name>`` is a package (or a top-level module such as ``sdk.py``), whole-repo tests (import
graph, docs, installs) in ``tests/architecture/``; the shared kits are ``tests/fixtures/`` and the one
``tests/conftest.py`` at the root keeps its pytest fixtures visible to every folder."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WHOLE_REPO = "architecture"  # tests of the repository as a whole, not of one package
FIXTURES = "fixtures"  # shared kits and data files; never a test module


def source_names(src: Path) -> set[str]:
    """First-level packages and modules of ``src`` (``tessera``): the names a test folder may take."""
    names = {p.name for p in src.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    names |= {p.stem for p in src.glob("*.py") if not p.name.startswith("_")}
    return names


def misplaced(tests: Path, src: Path) -> list[str]:
    """Each test module, folder or kit of ``tests`` that breaks the mirrored layout, with why."""
    allowed = source_names(src) | {WHOLE_REPO}
    problems: list[str] = []
    for path in sorted(tests.rglob("*.py")):
        relative = path.relative_to(tests)
        parts = relative.parts
        if parts[0] == FIXTURES or "node_modules" in parts:
            if path.name.startswith("test_"):
                problems.append(f"{relative}: a test module among the shared fixtures")
            continue
        if len(parts) == 1:
            if path.name not in {"__init__.py", "conftest.py"}:
                problems.append(
                    f"{relative}: at the root of tests/ (tests go in a package's folder, kits in fixtures/)"
                )
            continue
        if len(parts) > 2:
            problems.append(
                f"{relative}: nested below tests/{parts[0]}/ (the folders mirror first-level packages)"
            )
        elif parts[0] not in allowed:
            problems.append(f"{relative}: tests/{parts[0]}/ is named after no package of src/tessera")
        elif path.name == "conftest.py":
            problems.append(f"{relative}: one conftest.py, at the root of tests/")
        elif path.name != "__init__.py" and not path.name.startswith("test_"):
            problems.append(f"{relative}: a helper beside the tests (shared kits live in tests/fixtures/)")
    for folder in sorted(p for p in tests.iterdir() if p.is_dir() and p.name in allowed | {FIXTURES}):
        if not (folder / "__init__.py").is_file():
            problems.append(
                f"tests/{folder.name}/: no __init__.py (its modules import as tests.{folder.name}.*)"
            )
    return problems


def test_every_test_module_lives_in_the_folder_of_a_source_package() -> None:
    assert misplaced(REPO / "tests", REPO / "src" / "tessera") == []


def test_the_check_names_each_misplaced_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "engine").mkdir(parents=True)
    (src / "engine" / "__init__.py").write_text("")
    (src / "sdk.py").write_text("")
    tests = tmp_path / "tests"
    for name in (
        "__init__.py",
        "conftest.py",
        "test_flat.py",
        "kit.py",
        "engine/__init__.py",
        "engine/test_ok.py",
        "engine/helper.py",
        "engine/conftest.py",
        "engine/deep/test_nested.py",
        "sdk/test_sdk.py",
        "enigne/__init__.py",
        "enigne/test_typo.py",
        "architecture/__init__.py",
        "architecture/test_repo.py",
        "fixtures/__init__.py",
        "fixtures/kit.py",
        "fixtures/test_lost.py",
    ):
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        (tests / name).write_text("")
    assert misplaced(tests, src) == [
        "engine/conftest.py: one conftest.py, at the root of tests/",
        "engine/deep/test_nested.py: nested below tests/engine/ (the folders mirror first-level packages)",
        "engine/helper.py: a helper beside the tests (shared kits live in tests/fixtures/)",
        "enigne/__init__.py: tests/enigne/ is named after no package of src/tessera",
        "enigne/test_typo.py: tests/enigne/ is named after no package of src/tessera",
        "fixtures/test_lost.py: a test module among the shared fixtures",
        "kit.py: at the root of tests/ (tests go in a package's folder, kits in fixtures/)",
        "test_flat.py: at the root of tests/ (tests go in a package's folder, kits in fixtures/)",
        "tests/sdk/: no __init__.py (its modules import as tests.sdk.*)",
    ]
