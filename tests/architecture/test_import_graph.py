"""The import graph of ``src/tessera`` has no cycles and its arrows point down the layers
(docs/architecture.md, "Layers").

Every module is parsed with ``ast``; every ``import`` and ``from … import`` of a Tessera module is an edge,
wherever it is written: at module level, inside a function (a lazy import), or under ``if TYPE_CHECKING:``.

- **Layers**: every edge counts, lazy and type-only ones too. A lazy import defers the cost, not the
  dependency: a middle layer that imports ``platform`` inside a function depends on it all the same.
- **Cycles**: module-level and lazy imports count; only ``if TYPE_CHECKING:`` imports are left out, since they
  never run and exist for annotations. A lazy import that closes a circle is the circle the laziness hides
  (retention and erasure each importing the other); the fix is a third module both import.

``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to ``a.b``. Importing a submodule is
not counted as importing its parent package's ``__init__``. A module named by a string (``importlib``, an
entry point) is not an edge: that is how a registry loads its plug-ins without depending on them.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

BASE, MIDDLE, PLATFORM, TOP = 0, 1, 2, 3
LAYER_NAMES = {BASE: "base", MIDDLE: "middle", PLATFORM: "platform", TOP: "adapters"}

#: Each first-level module or package of ``tessera`` and its layer; ``tessera`` is the package root. A module
#: may import from its own layer and the layers below, never above.
LAYERS = {
    "version": BASE,
    "errors": BASE,
    "problem_codec": BASE,
    "model": BASE,
    "spec": MIDDLE,
    "storage": MIDDLE,
    "engine": MIDDLE,
    "quality": MIDDLE,
    "lineage": MIDDLE,
    "catalog": MIDDLE,
    "governance": MIDDLE,
    "access": MIDDLE,
    "interop": MIDDLE,
    "monitoring": MIDDLE,
    "scaffold": MIDDLE,
    "scheduling": MIDDLE,
    "sharing": MIDDLE,
    "platform": PLATFORM,
    "cli": TOP,
    "server": TOP,
    "integrations": TOP,
    "remote": TOP,
    "sdk": TOP,
    "seed": TOP,
    "__main__": TOP,
    "tessera": TOP,
}

#: Edges left out of the cycle check, each with its reason; an entry that is no longer an edge fails
#: ``test_every_exemption_is_still_needed``, so this list only shrinks.
EXEMPT: dict[tuple[str, str], str] = {}


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    line: int
    lazy: bool
    type_only: bool


def modules(root: Path, package: str = "tessera") -> dict[str, Path]:
    """Module name → file, for every ``.py`` file of ``package`` under ``root``."""
    found: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def edges_of(name: str, path: Path, known: dict[str, Path], package: str = "tessera") -> list[Edge]:
    """The imports of Tessera modules in one module, each marked lazy (in a function) or type-only."""
    found: list[Edge] = []
    is_package = path.name == "__init__.py"

    def add(target: str | None, node: ast.stmt, lazy: bool, type_only: bool) -> None:
        if target is not None and target != name:
            found.append(Edge(name, target, node.lineno, lazy, type_only))

    def walk(node: ast.AST, lazy: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == package:
                        add(_resolve(alias.name, known), child, lazy, type_only)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = name if is_package else name.rpartition(".")[0]
                    for _ in range(child.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                if base.split(".")[0] == package:
                    for alias in child.names:
                        full = f"{base}.{alias.name}"
                        add(full if full in known else _resolve(base, known), child, lazy, type_only)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    walk(ast.Module(body=[stmt], type_ignores=[]), lazy, True)
                for stmt in child.orelse:
                    walk(ast.Module(body=[stmt], type_ignores=[]), lazy, type_only)
            else:
                inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                walk(child, inner, type_only)

    walk(ast.parse(path.read_text(), filename=str(path)), False, False)
    return found


def graph(root: Path, package: str = "tessera") -> tuple[dict[str, Path], list[Edge]]:
    known = modules(root, package)
    return known, [edge for name, path in known.items() for edge in edges_of(name, path, known, package)]


def cycles(
    names: list[str], edges: list[Edge], exempt: set[tuple[str, str]] | None = None
) -> list[list[Edge]]:
    """One shortest cycle through each strongly connected group of modules, as the edges that close it;
    type-only and exempt edges left out."""
    out: dict[str, list[Edge]] = {n: [] for n in names}
    for edge in edges:
        if not edge.type_only and (edge.source, edge.target) not in (exempt or set()):
            out[edge.source].append(edge)
    # Tarjan's strongly connected components, iteratively.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in names:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(out[node]):
                work.append((node, i + 1))
                target = out[node][i].target
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            for edge in out[node]:
                if edge.target in on_stack:
                    low[node] = min(low[node], low[edge.target])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    found = []
    for group in groups:
        first = min(group)
        paths: dict[str, list[Edge]] = {first: []}
        queue = deque([first])
        closing: list[Edge] | None = None
        while queue and closing is None:
            node = queue.popleft()
            for edge in sorted(out[node], key=lambda e: e.target):
                if edge.target == first:
                    closing = [*paths[node], edge]
                    break
                if edge.target in group and edge.target not in paths:
                    paths[edge.target] = [*paths[node], edge]
                    queue.append(edge.target)
        assert closing is not None
        found.append(closing)
    return found


def describe(cycle: list[Edge]) -> str:
    steps = [
        f"  {e.source} -> {e.target}  ({e.source.replace('.', '/')}.py:{e.line}{', lazy' if e.lazy else ''})"
        for e in cycle
    ]
    return "\n".join(steps)


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer_violations(edges: list[Edge]) -> list[str]:
    problems = []
    for edge in edges:
        source, target = LAYERS[layer_of(edge.source)], LAYERS[layer_of(edge.target)]
        if target > source:
            kind = "a type-only import" if edge.type_only else ("a lazy import" if edge.lazy else "an import")
            problems.append(
                f"{edge.source} ({LAYER_NAMES[source]}) has {kind} of {edge.target} "
                f"({LAYER_NAMES[target]}) at line {edge.line}"
            )
    return problems


KNOWN, EDGES = graph(SRC)


def test_every_module_has_a_layer() -> None:
    unplaced = sorted({layer_of(m) for m in KNOWN} - LAYERS.keys())
    assert not unplaced, (
        f"{unplaced}: place each in LAYERS here and in docs/architecture.md's Layers (which layer may import it?)"
    )


def test_no_import_cycles() -> None:
    found = cycles(sorted(KNOWN), EDGES, set(EXEMPT))
    assert not found, "import cycles (move what both sides need into a module both import):\n" + "\n\n".join(
        describe(c) for c in found
    )


def test_arrows_point_down_the_layers() -> None:
    problems = layer_violations(EDGES)
    assert not problems, "imports against the layers (docs/architecture.md, Layers):\n" + "\n".join(problems)


def test_every_exemption_is_still_needed() -> None:
    present = {(e.source, e.target) for e in EDGES if not e.type_only}
    stale = sorted(set(EXEMPT) - present)
    assert not stale, f"no longer imported, remove from EXEMPT: {stale}"


def test_only_the_catalog_queries_its_tables() -> None:
    """ruff's banned-api holds this in the editor; this holds it for every folder, the adapters too."""
    users = {e.source for e in EDGES if e.target == "tessera.catalog.tables"}
    outside = sorted(u for u in users if not u.startswith("tessera.catalog"))
    assert not outside, f"{outside}: query through a Catalog method or a catalog/*.py function"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checks_find_a_lazy_cycle_and_an_upward_import(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "tessera/__init__.py": "",
            "tessera/platform/__init__.py": "",
            "tessera/platform/a.py": "from tessera.platform.b import f\n",
            "tessera/platform/b.py": "def f():\n    from tessera.platform import a\n",
            "tessera/platform/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from tessera.platform import a\n",
            "tessera/model/__init__.py": "",
            "tessera/model/m.py": "def g():\n    import tessera.platform.c\n",
        },
    )
    known, edges = graph(tmp_path)
    found = cycles(sorted(known), edges)
    assert [[(e.source, e.target, e.lazy) for e in c] for c in found] == [
        [
            ("tessera.platform.a", "tessera.platform.b", False),
            ("tessera.platform.b", "tessera.platform.a", True),
        ]
    ]
    assert "tessera/platform/b.py:2, lazy" in describe(found[0])
    assert not cycles(sorted(known), edges, {("tessera.platform.b", "tessera.platform.a")})
    assert layer_violations(edges) == [
        "tessera.model.m (base) has a lazy import of tessera.platform.c (platform) at line 2"
    ]


@pytest.mark.parametrize(
    "module", ["tessera.platform.remediation.remediate", "tessera.platform.remediation.erasure"]
)
def test_retention_and_erasure_share_a_module_not_each_other(module: str) -> None:
    other = {"tessera.platform.remediation.remediate", "tessera.platform.remediation.erasure"} - {module}
    targets = {e.target for e in EDGES if e.source == module}
    assert "tessera.platform.remediation.rewrites" in targets and not targets & other


#: A folder's own ruff.toml replaces the root's banned-api table: it keeps every ban but the ones named here.
FOLDER_RULES = {"catalog": {"tessera.catalog.tables"}, "platform": {"tessera.platform"}}


@pytest.mark.parametrize("folder", sorted(FOLDER_RULES))
def test_a_folder_ruff_config_keeps_every_other_ban(folder: str) -> None:
    import tomllib

    root = tomllib.loads((SRC.parent / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    own = tomllib.loads((SRC / "tessera" / folder / "ruff.toml").read_text())["lint"]
    bans, kept = set(root["flake8-tidy-imports"]["banned-api"]), set(own["flake8-tidy-imports"]["banned-api"])
    assert bans - FOLDER_RULES[folder] <= kept, (
        f"add to {folder}/ruff.toml: {sorted(bans - kept - FOLDER_RULES[folder])}"
    )
    assert not kept & FOLDER_RULES[folder]
    exempt = [p for p in root["per-file-ignores"] if p.startswith(f"src/tessera/{folder}/")]
    assert not exempt or own.get("per-file-ignores") == {}, "the folder's own rules apply to every file in it"
