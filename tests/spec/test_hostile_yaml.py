"""Hostile mesh files: a billion laughs, a 60 MB file, a 50 MB description, deep nesting. Each is one clear
problem from ``tessera validate`` (a separate process), no traceback, in bounded memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.spec.bounds import MAX_DEPTH, MAX_NODES, MAX_TEXT_CHARS
from tessera.spec.yaml_lines import parse_yaml
from tests.fixtures.hostilekit import Measured, billion_laughs, run_measured
from tests.fixtures.meshkit import make_mesh

PEAK_MB = 300


def _one_problem(result: Measured, *needles: str) -> None:
    assert not result.killed, "validate hung"
    assert result.returncode == 2, result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    assert "MemoryError" not in result.stderr
    assert "error: 1 problem in" in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert result.peak_mb < PEAK_MB, f"validate peaked at {result.peak_mb:.0f} MB"


@pytest.fixture
def mesh(tmp_path: Path) -> Path:
    return make_mesh(tmp_path / "mesh")


def test_billion_laughs_is_small() -> None:
    assert len(billion_laughs().encode()) < 600


def test_billion_laughs_as_mesh_yaml(mesh: Path) -> None:
    (mesh / "mesh.yaml").write_text(billion_laughs())
    result = run_measured("-C", str(mesh), "validate")
    _one_problem(result, "mesh.yaml:", f"more than {MAX_NODES:,} values, aliases expanded")


def test_billion_laughs_as_product_file(mesh: Path) -> None:
    (mesh / "domains/crm/products/customers/product.odps.yaml").write_text(billion_laughs())
    result = run_measured("-C", str(mesh), "validate")
    _one_problem(result, "domains/crm/products/customers/product.odps.yaml:", "aliases expanded")


def test_billion_laughs_as_policy_file(mesh: Path) -> None:
    (mesh / "policies").mkdir()
    (mesh / "policies/laughs.yaml").write_text(billion_laughs())
    result = run_measured("-C", str(mesh), "validate")
    _one_problem(result, "policies/laughs.yaml:", "aliases expanded")


def test_sixty_megabyte_mesh_yaml_is_refused_from_its_size(mesh: Path) -> None:
    line = "- " + "x" * 97 + "\n"
    with (mesh / "mesh.yaml").open("a") as out:
        out.write("padding:\n")
        for _ in range(60 * 1024 * 1024 // len(line)):
            out.write(line)
    result = run_measured("-C", str(mesh), "validate")
    _one_problem(result, "mesh.yaml: the file is 60.0 MB; a mesh file may be at most 5.0 MB")


def test_fifty_megabyte_description_is_refused(mesh: Path) -> None:
    path = mesh / "domains/sales/products/orders/product.odps.yaml"
    text = path.read_text().replace("purpose: The orders of sales.", "purpose: " + "x" * (50 * 1024 * 1024))
    path.write_text(text)
    result = run_measured("-C", str(mesh), "validate")
    _one_problem(result, "domains/sales/products/orders/product.odps.yaml: the file is 50.0 MB")


def test_a_long_description_is_one_problem_with_its_line(mesh: Path) -> None:
    path = mesh / "domains/sales/products/orders/product.odps.yaml"
    text = path.read_text()
    assert "purpose: The orders of sales." in text
    path.write_text(text.replace("purpose: The orders of sales.", "purpose: " + "x" * (100 * 1024)))
    line = next(
        i for i, row in enumerate(path.read_text().splitlines(), 1) if row.strip().startswith("purpose")
    )
    result = run_measured("-C", str(mesh), "validate")
    _one_problem(
        result,
        f"product.odps.yaml:{line}: description.purpose: a text of 100 KiB; a value may be at most 64 KiB",
    )


def test_a_text_at_the_limit_is_accepted() -> None:
    data, _, problems = parse_yaml("purpose: " + "x" * MAX_TEXT_CHARS + "\n", "f.yaml")
    assert problems == []
    assert len(data["purpose"]) == MAX_TEXT_CHARS


def test_many_nodes_are_counted_before_the_tree_is_built() -> None:
    text = "[" + "1," * (MAX_NODES + 10) + "1]"
    data, _, problems = parse_yaml(text, "big.yaml")
    assert data is None
    assert [str(p) for p in problems] == [
        f"big.yaml:1: more than {MAX_NODES:,} values; a mesh file may hold at most that many "
        "(split it, or keep data in data files)"
    ]


def test_deep_nesting_is_a_problem_not_a_recursion_error() -> None:
    depth = 600
    text = "a:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth)) + "  " * (depth + 1) + "x\n"
    data, _, problems = parse_yaml(text, "deep.yaml")
    assert data is None
    assert [str(p) for p in problems] == [f"deep.yaml:1: a: nested more than {MAX_DEPTH} levels deep"]


def test_ordinary_anchors_still_work() -> None:
    text = "base: &b {type: string, required: true}\ncols:\n  - *b\n  - {<<: *b, required: false}\n"
    data, _, problems = parse_yaml(text, "ok.yaml")
    assert problems == []
    assert data["cols"] == [{"type": "string", "required": True}, {"type": "string", "required": False}]


def test_the_query_fast_path_reads_mesh_yaml_bounded(mesh: Path) -> None:
    (mesh / "mesh.yaml").write_text(billion_laughs())
    result = run_measured("-C", str(mesh), "query", "SELECT 1 AS one")
    assert not result.killed
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 2, result.stderr
    assert "aliases expanded" in result.stderr
    assert result.peak_mb < PEAK_MB
