"""The mesh index (``.tessera/index``): whatever changes between two commands, a command with the index gives
exactly what it gives without one — ``load_mesh``, ``validate_mesh`` and ``tessera validate --json`` compared
whole, problems included — and a damaged, foreign or unwritable index is no index, never a traceback."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tessera.cli import main
from tessera.errors import SpecError
from tessera.platform.governing.validation import validate_mesh
from tessera.spec import load_mesh
from tessera.spec.mesh import scan_mesh
from tests.fixtures.meshkit import ORDERS_CONTRACT, make_mesh, product_doc, run_cli, write


@pytest.fixture(autouse=True)
def _own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's user key (``$XDG_CACHE_HOME/tessera/index.key``), and the index switched on."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TESSERA_NO_INDEX", raising=False)


def _mesh(tmp_path: Path) -> Path:
    """The test mesh and a Python product whose declared column lineage reads sales.orders' contract."""
    root = make_mesh(tmp_path / "mesh")
    contract = {**copy.deepcopy(ORDERS_CONTRACT), "id": "sales-big", "name": "big", "dataProduct": "big"}
    doc = product_doc(
        "sales", "big", contract, [{"name": "sales.orders", "version": "1.0.0", "contractId": "sales-orders"}]
    )
    lineage = [{"column": "amount", "from": ["sales.orders.amount"], "kind": "identity"}]
    doc["customProperties"].append({"property": "tessera.lineage", "value": lineage})
    base = root / "domains/sales/products/big"
    write(base / "contract.odcs.yaml", contract)
    write(base / "product.odps.yaml", doc)
    (base / "transform.py").write_text("def transform(sales_orders):\n    return sales_orders\n")
    (root / "policies").mkdir()
    return root


def _outcome(root: Path, **options: bool) -> Any:
    try:
        return load_mesh(root, **options)
    except SpecError as exc:
        return ("refused", exc.problems)


def _validation(root: Path, strict: bool = False) -> Any:
    try:
        return validate_mesh(root, strict=strict).as_dict()
    except SpecError as exc:
        return ("refused", exc.problems)


def _results(root: Path) -> list[Any]:
    return [
        _outcome(root),
        _outcome(root, partial=True),
        _outcome(root, strict=True),
        _validation(root),
        _validation(root, strict=True),
    ]


@pytest.fixture
def no_index(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], list[Any]]:
    def fresh(root: Path) -> list[Any]:
        with monkeypatch.context() as patch:
            patch.setenv("TESSERA_NO_INDEX", "1")
            return _results(root)

    return fresh


def _parsed(root: Path) -> int:
    """How many product folders the next load parses (the rest come from the index)."""
    scan = scan_mesh(root)
    assert scan.index is not None
    scan.save()
    return scan.index.misses.get("product", 0)


def _edit(path: Path, old: str, new: str, *, keep_stamp: bool = False) -> None:
    text = path.read_text()
    assert old in text, (old, path)
    info = path.stat()
    path.write_text(text.replace(old, new, 1))
    if keep_stamp:
        assert len(old) == len(new)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        assert path.stat().st_size == info.st_size and path.stat().st_mtime_ns == info.st_mtime_ns


def _yaml_edit(path: Path, change: Callable[[Any], None]) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


ORDERS = "domains/sales/products/orders"
DAILY = "domains/sales/products/daily"
POLICY = """\
name: house_rules
description: Every product says how often it is updated.
rules:
  - id: tagged
    severity: error
    expression: "product.tags.size() > 1"
    message: a product has two tags or more
"""

#: Each change is made, then undone, between commands: (what, change, undo).
CHANGES: dict[str, tuple[Callable[[Path], None], Callable[[Path], None]]] = {
    "edit a description": (
        lambda r: _edit(r / ORDERS / "product.odps.yaml", "The orders of sales.", "The orders, edited."),
        lambda r: _edit(r / ORDERS / "product.odps.yaml", "The orders, edited.", "The orders of sales."),
    ),
    "edit a contract id, keeping mtime and size": (
        lambda r: _edit(
            r / ORDERS / "contract.odcs.yaml", "id: sales-orders", "id: sales-ordurs", keep_stamp=True
        ),
        lambda r: _edit(
            r / ORDERS / "contract.odcs.yaml", "id: sales-ordurs", "id: sales-orders", keep_stamp=True
        ),
    ),
    "edit a column type, keeping mtime and size": (
        lambda r: _edit(
            r / ORDERS / "contract.odcs.yaml", "logicalType: integer", "logicalType: intejer", keep_stamp=True
        ),
        lambda r: _edit(
            r / ORDERS / "contract.odcs.yaml", "logicalType: intejer", "logicalType: integer", keep_stamp=True
        ),
    ),
    "add a product": (
        lambda r: shutil.copytree(r / DAILY, r / "domains/sales/products/daily2"),
        lambda r: shutil.rmtree(r / "domains/sales/products/daily2"),
    ),
    "delete a product that another reads": (
        lambda r: shutil.move(r / ORDERS, r / "aside"),
        lambda r: shutil.move(r / "aside", r / ORDERS),
    ),
    "rename a product folder": (
        lambda r: (r / DAILY).rename(r / "domains/sales/products/weekly"),
        lambda r: (r / "domains/sales/products/weekly").rename(r / DAILY),
    ),
    "add a global policy": (
        lambda r: (r / "policies/house_rules.yaml").write_text(POLICY),
        lambda r: (r / "policies/house_rules.yaml").unlink(),
    ),
    "edit a domain policy": (
        lambda r: write(
            r / "domains/sales/policies/house.yaml", yaml.safe_load(POLICY) | {"name": "sales_house"}
        ),
        lambda r: _edit(r / "domains/sales/policies/house.yaml", "size() > 1", "size() > 0"),
    ),
    "switch a built-in policy off in mesh.yaml": (
        lambda r: _yaml_edit(r / "mesh.yaml", lambda d: d.update(encryption={"atRest": "none"})),
        lambda r: _yaml_edit(
            r / "mesh.yaml", lambda d: d.update(governance={"disable": ["encryption_at_rest"]})
        ),
    ),
    "break mesh.yaml": (
        lambda r: _edit(r / "mesh.yaml", "name: testmesh", "name: [testmesh"),
        lambda r: _edit(r / "mesh.yaml", "name: [testmesh", "name: testmesh"),
    ),
    "forbid Python transforms in mesh.yaml": (
        lambda r: _yaml_edit(r / "mesh.yaml", lambda d: d.update(transforms={"python": "forbid"})),
        lambda r: _yaml_edit(r / "mesh.yaml", lambda d: d.pop("transforms")),
    ),
    "drop a source system from a domain.yaml": (
        lambda r: _yaml_edit(r / "domains/sales/domain.yaml", lambda d: d.pop("sourceSystems")),
        lambda r: shutil.copy(r / "domain.yaml.kept", r / "domains/sales/domain.yaml"),
    ),
    "a transform.sql that reads what it does not declare": (
        lambda r: (r / DAILY / "transform.sql").write_text("SELECT * FROM crm.customers\n"),
        lambda r: (r / DAILY / "transform.sql").write_text(
            "SELECT country, count(*) AS orders FROM sales.orders GROUP BY 1\n"
        ),
    ),
    "rename the input column a transform.py's lineage reads": (
        lambda r: _edit(r / ORDERS / "contract.odcs.yaml", "name: amount", "name: amounts"),
        lambda r: _edit(r / ORDERS / "contract.odcs.yaml", "name: amounts", "name: amount"),
    ),
    "a TODO placeholder": (
        lambda r: _edit(r / DAILY / "product.odps.yaml", "The daily of sales.", "TODO say what it is"),
        lambda r: _edit(r / DAILY / "product.odps.yaml", "TODO say what it is", "The daily of sales."),
    ),
}


@pytest.mark.parametrize("what", list(CHANGES))
def test_a_change_between_commands_gives_what_no_index_gives(
    tmp_path: Path, what: str, no_index: Callable[[Path], list[Any]]
) -> None:
    root = _mesh(tmp_path)
    shutil.copy(root / "domains/sales/domain.yaml", root / "domain.yaml.kept")
    change, undo = CHANGES[what]
    before = _results(root)  # builds the index
    assert before == no_index(root)
    assert _parsed(root) == 0  # and the next command uses it
    change(root)
    changed = _results(root)
    assert changed == no_index(root)
    assert changed != before, "the change must change the result, or this test proves nothing"
    undo(root)
    assert _results(root) == no_index(root)


def test_an_unchanged_mesh_parses_nothing_and_one_edit_parses_one_folder(tmp_path: Path) -> None:
    root = _mesh(tmp_path)
    assert _parsed(root) == 4  # the first command parses every product folder
    assert _parsed(root) == 0
    _edit(root / DAILY / "transform.sql", "count(*)", "COUNT(*)", keep_stamp=True)
    assert _parsed(root) == 1
    assert _parsed(root) == 0


def test_the_environment_is_part_of_the_key(tmp_path: Path) -> None:
    root = _mesh(tmp_path)
    plain = load_mesh(root)
    other = load_mesh(root, environ={"TESSERA_CATALOG_URL": "sqlite:///elsewhere.db"})
    assert other.settings.catalog_url == f"sqlite:///{root / 'elsewhere.db'}" != plain.settings.catalog_url
    assert load_mesh(root) == plain


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(os.urandom(4096)),
        lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(p.read_bytes()[:-1] + bytes([p.read_bytes()[-1] ^ 1])),
        lambda p: (p.unlink(), p.mkdir()),
    ],
    ids=["garbage", "truncated", "empty", "one bit", "a folder"],
)
def test_a_damaged_index_is_rebuilt_silently(
    tmp_path: Path, damage: Callable[[Path], object], no_index: Callable[[Path], list[Any]]
) -> None:
    root = _mesh(tmp_path)
    expected = no_index(root)
    assert _results(root) == expected
    index = root / ".tessera/index"
    damage(index)
    assert _results(root) == expected
    if index.is_dir():  # a folder in its place is left alone: no index
        assert _parsed(root) == 4
        return
    assert _parsed(root) == 0  # rebuilt by the command that found it damaged


def test_an_index_signed_by_someone_else_is_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _mesh(tmp_path)
    _results(root)
    assert _parsed(root) == 0
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another user"))  # another key: the file is foreign
    assert _parsed(root) == 4


def test_a_mesh_whose_index_cannot_be_written_has_none(
    tmp_path: Path, no_index: Callable[[Path], list[Any]]
) -> None:
    root = _mesh(tmp_path)
    (root / ".tessera").write_text("not a folder")
    assert _results(root) == no_index(root)
    assert _parsed(root) == 4
    assert (root / ".tessera").read_text() == "not a folder"


def test_a_source_moved_outside_the_mesh_behind_a_link_is_refused_as_without_the_index(
    tmp_path: Path, no_index: Callable[[Path], list[Any]]
) -> None:
    """Where a source's path leads is not in domain.yaml's bytes: a folder replaced by a link to elsewhere
    changes the domain's problems with every mesh file as it was."""
    root = _mesh(tmp_path)
    before = _results(root)
    assert before == no_index(root)
    shutil.move(root / "sources/pos", tmp_path / "elsewhere")
    (root / "sources/pos").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    after = _results(root)
    assert after == no_index(root)
    assert after != before and "outside the mesh folder" in repr(after[0])
    (root / "sources/pos").unlink()
    shutil.move(tmp_path / "elsewhere", root / "sources/pos")
    assert _results(root) == before == no_index(root)


@pytest.mark.parametrize("kind", ["link to /dev/zero", "fifo"])
def test_an_index_that_is_no_regular_file_is_not_read(
    tmp_path: Path, no_index: Callable[[Path], list[Any]], kind: str
) -> None:
    """A cloned or unpacked mesh may hold ``.tessera/index`` as a link to an endless device or as a FIFO: it is
    neither read (memory) nor waited on (a hang); the command runs as without an index."""
    root = _mesh(tmp_path)
    (root / ".tessera").mkdir()
    if kind == "fifo":
        os.mkfifo(root / ".tessera/index")
    else:
        (root / ".tessera/index").symlink_to("/dev/zero")
    assert _results(root) == no_index(root)
    assert (root / ".tessera/index").is_file()  # replaced by a real index


def test_links_in_a_cloned_mesh_never_make_the_index_write_outside_it(
    tmp_path: Path, no_index: Callable[[Path], list[Any]]
) -> None:
    """A repository can hold ``.tessera`` as a link (to another repository's ``.git``, whose ``index`` the
    index would replace) or ``.tessera/.gitignore`` as a dangling link: nothing is written through either."""
    root = _mesh(tmp_path)
    elsewhere = tmp_path / "other/.git"
    elsewhere.mkdir(parents=True)
    (elsewhere / "index").write_bytes(b"DIRC another repository's staging area")
    (root / ".tessera").symlink_to(elsewhere, target_is_directory=True)
    assert _results(root) == no_index(root)
    assert main(["-C", str(root), "validate"]) == 0
    assert (elsewhere / "index").read_bytes() == b"DIRC another repository's staging area"
    assert sorted(p.name for p in elsewhere.iterdir()) == ["index"]

    (root / ".tessera").unlink()
    (root / ".tessera").mkdir()
    (root / ".tessera/.gitignore").symlink_to(tmp_path / "made-outside")
    assert _results(root) == no_index(root)
    assert not (tmp_path / "made-outside").exists() and (root / ".tessera/index").is_file()


def test_the_index_is_private_and_never_committed(tmp_path: Path) -> None:
    root = _mesh(tmp_path)
    load_mesh(root)
    assert (root / ".tessera/index").stat().st_mode & 0o077 == 0
    assert (root / ".tessera/.gitignore").read_text().splitlines()[-1] == "*"
    assert (tmp_path / "cache/tessera/index.key").stat().st_mode & 0o077 == 0


def test_switched_off_no_index_is_read_or_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _mesh(tmp_path)
    monkeypatch.setenv("TESSERA_NO_INDEX", "1")
    load_mesh(root)
    assert scan_mesh(root).index is None
    assert not (root / ".tessera/index").exists()
    monkeypatch.delenv("TESSERA_NO_INDEX")
    assert main(["--no-index", "-C", str(root), "validate"]) == 0
    assert not (root / ".tessera/index").exists() and "TESSERA_NO_INDEX" not in os.environ
    assert main(["-C", str(root), "validate"]) == 0
    assert (root / ".tessera/index").is_file()


def test_tessera_validate_json_is_the_same_with_and_without_the_index(tmp_path: Path) -> None:
    root = _mesh(tmp_path)
    env_key = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    for step in ("first", "warm", "broken", "fixed"):
        if step == "broken":
            _edit(
                root / ORDERS / "contract.odcs.yaml", "id: sales-orders", "id: sales-ordurs", keep_stamp=True
            )
        if step == "fixed":
            _edit(
                root / ORDERS / "contract.odcs.yaml", "id: sales-ordurs", "id: sales-orders", keep_stamp=True
            )
        done = run_cli("-C", str(root), "validate", "--json", env=env_key)
        bare = run_cli("--no-index", "-C", str(root), "validate", "--json", env=env_key)
        assert (done.returncode, done.stdout, done.stderr) == (bare.returncode, bare.stdout, bare.stderr), (
            step
        )
        assert (done.returncode == 0) == (step != "broken"), done.stdout
        assert "Traceback" not in done.stderr


def test_concurrent_commands_leave_a_whole_index(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = _mesh(tmp_path)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "tessera.cli", "-C", str(root), "validate", "--json"]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(3)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert len({out for out, _ in outputs}) == 1
    assert _parsed(root) == 0  # one of them wrote the index whole, and it loads
    assert not [p for p in (root / ".tessera").iterdir() if p.name.startswith(".index.")]  # no temporary left
