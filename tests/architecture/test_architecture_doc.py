"""docs/architecture.md stays true to the code: every module it names exists, its diagram of the layers places
every first-level package the import-graph test knows, and its walk of one publish goes from the CLI to the
Delta commit."""

from __future__ import annotations

import re
from pathlib import Path

from tests.architecture.test_import_graph import KNOWN, LAYERS, layer_of

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "tessera"
DOC = (REPO / "docs" / "architecture.md").read_text()
CONTRIBUTING = (REPO / "CONTRIBUTING.md").read_text()

#: A path in backticks: ``src/tessera/platform/publishing/publish.py``, ``platform/publishing/publish.py``, ``cli/*_cmds.py``,
#: ``platform/observability/slo.py::announce_burns``, ``tests/architecture/test_one_door.py``, ``tests/fixtures/interop/``.
_PATH = re.compile(r"`((?:src/tessera/)?[\w*]+(?:/[\w*.]+)*(?:\.py|/))(?:::\w+)?`")


def _exists(path: str) -> bool:
    for base in (REPO, SRC, REPO / "src"):
        if any(base.glob(path.rstrip("/"))) if "*" in path else (base / path).exists():
            return True
    return False


def _named(text: str) -> list[str]:
    """Modules and files named by their path (a lone ``folder/`` may be a mesh's folder, not the repo's)."""
    return sorted({m[1] for m in _PATH.finditer(text) if "/" in m[1].rstrip("/")})


def test_every_module_the_docs_name_exists() -> None:
    missing = [p for p in _named(DOC) + _named(CONTRIBUTING) if not _exists(p)]
    assert not missing, (
        f"named in docs/architecture.md or CONTRIBUTING.md but not in the repository: {missing}"
    )


def test_the_check_finds_a_module_that_does_not_exist() -> None:
    assert _named("see `platform/publishing/publish.py` and `src/tessera/platform/nowhere.py::run`") == [
        "platform/publishing/publish.py",
        "src/tessera/platform/nowhere.py",
    ]
    assert (
        _exists("platform/publishing/publish.py")
        and _exists("cli/*_cmds.py")
        and not _exists("platform/nowhere.py")
    )


def test_the_layer_diagram_places_every_package() -> None:
    diagram = DOC.split("## Layers", 1)[1].split("```mermaid", 1)[1].split("```", 1)[0]
    packages = {layer_of(m) for m in KNOWN} - {"__main__"}
    assert packages <= LAYERS.keys()
    missing = sorted(p for p in packages if not re.search(rf"\b{re.escape(p)}\b", diagram))
    assert not missing, f"the Layers diagram leaves out {missing}"


def test_the_publish_walk_goes_from_the_cli_to_the_delta_commit() -> None:
    walk = DOC.split("### One publish, end to end", 1)[1].split("\n#", 1)[0]
    modules = re.findall(r"`(src/tessera/[\w/]+\.py)`", walk)
    assert (
        modules[0].startswith("src/tessera/cli/") and "src/tessera/platform/publishing/publish.py" in modules
    )
    assert "src/tessera/storage/delta.py" in modules and "src/tessera/catalog/records.py" in modules
    assert modules.index("src/tessera/storage/delta.py") > modules.index(
        "src/tessera/platform/publishing/publish.py"
    )
    assert all((REPO / m).is_file() for m in modules), [m for m in modules if not (REPO / m).is_file()]
