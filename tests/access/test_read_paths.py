"""The read-path matrix: every path into product data × every kind of caller sees exactly what its grants allow
(rows, masked values), and each read by a principal or a network caller is audited with the version returned.

Paths: ``Mesh.read``, ``Mesh.query``, the product handle, the CLI's ``read`` and ``query`` (with its fast path),
REST data reads and ``/query``, the remote SDK, and quality-run samples (SDK handle and REST). Callers: the
domain's owner, a consumer with a row filter and no clearance, a consumer with clearance, a principal with no
grant, and anonymous callers on an enforcing and a non-enforcing mesh. Delta Sharing recipients are tested in
tests/sharing/test_sharing.py (their identities are recipients, not principals)."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest

import tessera
from tessera.errors import AccessDeniedError, AuthenticationError
from tests.fixtures.meshkit import ORDERS_CONTRACT, make_mesh, orders_table, write
from tests.fixtures.serverkit import running_server

RAW = orders_table()
ROWS = {r["order_id"]: r for r in RAW.to_pylist()}
DE = {i for i, r in ROWS.items() if r["country"] == "DE"}
VERSION = "sales.orders@v0"

OWNER, FILTERED, CLEARED, NOBODY = (
    "sales@example.com",
    "ana@example.com",
    "bob@example.com",
    "nog@example.com",
)
ROLES = ("owner", "filtered", "cleared", "nogrant", "anonymous")


def _contract() -> dict[str, Any]:
    """email pii (hashed), customer_id partial, amount null; a warning rule on country so that quality runs
    keep failing sample rows (FR and US ones)."""
    contract = copy.deepcopy(ORDERS_CONTRACT)
    for prop in contract["schema"][0]["properties"]:
        if prop["name"] == "customer_id":
            prop["customProperties"] = [{"property": "tessera.masking", "value": "partial"}]
        if prop["name"] == "amount":
            prop["customProperties"] = [{"property": "tessera.masking", "value": "null"}]
        if prop["name"] == "country":
            prop["quality"] = [
                {
                    "metric": "invalidValues",
                    "arguments": {"validValues": ["DE"]},
                    "mustBeLessThan": 1,
                    "severity": "warning",
                }
            ]
    return contract


@dataclass
class World:
    root: Path
    enforce: bool
    tokens: dict[str, str]
    url: str = ""


def _world(root: Path, *, enforce: bool) -> World:
    make_mesh(root)
    write(root / "domains/sales/products/orders/contract.odcs.yaml", _contract())
    tokens: dict[str, str] = {}
    with tessera.open(root) as mesh:
        mesh.publish("sales.orders", RAW)
        for name in (OWNER, FILTERED, CLEARED, NOBODY):
            mesh.access.add_principal(name)
        mesh.access.grant("read", "sales.orders", FILTERED, row_filter="country = 'DE'")
        mesh.access.grant("read", "sales.orders", CLEARED, clearance=True)
        for role, name in (
            ("owner", OWNER),
            ("filtered", FILTERED),
            ("cleared", CLEARED),
            ("nogrant", NOBODY),
        ):
            tokens[role] = mesh.access.create_token(name)[1]
    if enforce:
        (root / "mesh.yaml").write_text((root / "mesh.yaml").read_text() + "access: {enforce: true}\n")
    return World(root, enforce, tokens)


@pytest.fixture(scope="module", params=[False, True], ids=["open-mesh", "enforcing-mesh"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("reads") / "mesh"
    built = _world(root, enforce=request.param)
    with running_server(root) as url:
        built.url = url
        yield built
    shutil.rmtree(root.parent, ignore_errors=True)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    cid = row["customer_id"]
    return {
        **row,
        "email": _sha(row["email"]) if row["email"] else None,
        "customer_id": "*" * max(len(cid) - 4, 0) + cid[-4:] if len(cid) > 4 else "*" * len(cid),
        "amount": None,
    }


def expected(world: World, role: str) -> dict[int, dict[str, Any]] | type[Exception]:
    """What ``role`` sees (order_id → row), or the error it gets."""
    if role == "anonymous":
        return AuthenticationError if world.enforce else ROWS
    if role == "nogrant":
        return AccessDeniedError
    if role == "filtered":
        return {i: _masked(r) for i, r in ROWS.items() if i in DE}
    return ROWS


def _normal(value: Any) -> Any:
    """JSON and CSV carry decimals and times as text: compare on text."""
    return None if value is None else str(value).replace("T", " ").replace("+00:00", "")


def _by_id(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {int(r["order_id"]): {k: _normal(r[k]) for k in RAW.column_names} for r in rows}


def _expect_rows(seen: list[dict[str, Any]], want: dict[int, dict[str, Any]]) -> None:
    got = _by_id(seen)
    assert set(got) == set(want)
    for order_id, row in want.items():
        assert got[order_id] == {k: _normal(v) for k, v in row.items()}, order_id


# -- the paths ---------------------------------------------------------------------------------------------


def _token(world: World, role: str) -> str | None:
    return world.tokens.get(role)


def sdk_read(world: World, role: str) -> list[dict[str, Any]]:
    with tessera.open(world.root, token=_token(world, role)) as mesh:
        return list(mesh.read("sales.orders").to_pylist())


def sdk_query(world: World, role: str) -> list[dict[str, Any]]:
    with tessera.open(world.root, token=_token(world, role)) as mesh:
        return list(mesh.query("SELECT * FROM sales.orders").to_pylist())


def sdk_handle(world: World, role: str) -> list[dict[str, Any]]:
    with tessera.open(world.root, token=_token(world, role)) as mesh:
        return list(mesh.product("sales.orders").read().to_pylist())


def _cli(world: World, role: str, *args: str) -> list[dict[str, Any]]:
    token = _token(world, role)
    env = {k: v for k, v in os.environ.items() if k != "TESSERA_TOKEN"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tessera.cli",
            "-C",
            str(world.root),
            *(["--token", token] if token else []),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert "Traceback" not in result.stderr
    if result.returncode == 4:
        raise AuthenticationError(result.stderr)
    if result.returncode == 3:
        raise AccessDeniedError(result.stderr)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def cli_read(world: World, role: str) -> list[dict[str, Any]]:
    return _cli(world, role, "read", "sales.orders", "--json")


def cli_query(world: World, role: str) -> list[dict[str, Any]]:
    return _cli(world, role, "query", "SELECT * FROM sales.orders", "--json")


def _http(world: World, role: str, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
    token = _token(world, role)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.request(method, world.url + path, headers=headers, timeout=60, **kwargs)
    if response.status_code == 401:
        raise AuthenticationError(response.text)
    if response.status_code == 403:
        raise AccessDeniedError(response.text)
    assert response.status_code == 200, response.text
    assert response.headers["X-Tessera-Source"] == VERSION
    return list(response.json())


def rest_read(world: World, role: str) -> list[dict[str, Any]]:
    return _http(world, role, "GET", "/api/v1/products/sales/orders/data?format=json")


def rest_query(world: World, role: str) -> list[dict[str, Any]]:
    return _http(world, role, "POST", "/api/v1/query", json={"sql": "SELECT * FROM sales.orders"})


def remote_sdk(world: World, role: str) -> list[dict[str, Any]]:
    with tessera.open(world.url, token=_token(world, role)) as mesh:  # type: ignore[call-overload]
        return list(mesh.read("sales.orders").to_pylist())


PATHS: dict[str, Callable[[World, str], list[dict[str, Any]]]] = {
    "sdk-read": sdk_read,
    "sdk-query": sdk_query,
    "sdk-product-handle": sdk_handle,
    "cli-read": cli_read,
    "cli-query": cli_query,
    "rest-read": rest_read,
    "rest-query": rest_query,
    "remote-sdk": remote_sdk,
}
LOCAL = {"sdk-read", "sdk-query", "sdk-product-handle", "cli-read", "cli-query"}


def _newest_audit(world: World) -> dict[str, Any] | None:
    with tessera.open(world.root) as mesh:
        rows = mesh.ctx.catalog.audit_events(limit=1)
    return rows[0] if rows else None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", list(PATHS))
def test_each_path_shows_each_caller_exactly_what_it_may_see(world: World, path: str, role: str) -> None:
    want = expected(world, role)
    before = _newest_audit(world)
    if isinstance(want, type):
        with pytest.raises(want):
            PATHS[path](world, role)
        return
    _expect_rows(PATHS[path](world, role), want)
    entry = _newest_audit(world)
    trusted = role == "anonymous" and path in LOCAL  # the embedded single user: not audited, by design
    if trusted:
        assert entry == before
        return
    assert entry is not None and entry != before
    details = entry["details"] if isinstance(entry["details"], dict) else json.loads(entry["details"])
    assert entry["action"] in ("data.read", "data.query")
    assert details["principal"] == {"owner": OWNER, "filtered": FILTERED, "cleared": CLEARED}.get(
        role, "local"
    )
    assert details.get("version") == VERSION or details.get("versions") == {"sales.orders": VERSION}
    assert details["rows"] == len(want)


# -- quality samples ---------------------------------------------------------------------------------------


def _samples(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for run in runs for check in run["checks"] for s in check.get("samples") or []]


def sdk_quality(world: World, role: str) -> list[dict[str, Any]]:
    with tessera.open(world.root, token=_token(world, role)) as mesh:
        return _samples(mesh.product("sales.orders").quality())


def rest_quality(world: World, role: str) -> list[dict[str, Any]]:
    token = _token(world, role)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(world.url + "/api/v1/products/sales/orders/quality", headers=headers, timeout=60)
    if response.status_code == 401:
        raise AuthenticationError(response.text)
    assert response.status_code == 200, response.text
    return _samples(response.json())


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", [sdk_quality, rest_quality], ids=["sdk", "rest"])
def test_quality_samples_are_shown_as_the_rows_would_be(
    world: World, path: Callable[[World, str], list[dict[str, Any]]], role: str
) -> None:
    want = expected(world, role)
    if want is AuthenticationError:
        with pytest.raises(AuthenticationError):
            path(world, role)
        return
    samples = path(world, role)
    sensitive = {"email", "customer_id", "amount"}
    assert not any(sensitive & set(s) for s in samples)  # never stored
    if role == "nogrant":
        assert samples == []  # no grant: no rows, whatever the quality run found
    elif role == "filtered":
        assert samples == []  # every failing row is FR or US: outside ana's filter
    else:
        assert samples and {s["country"] for s in samples} <= {"FR", "US"}
        assert all(ROWS[s["order_id"]]["country"] == s["country"] for s in samples)


def test_a_row_filter_lets_through_only_its_own_failing_samples(world: World) -> None:
    if world.enforce:
        pytest.skip("one mesh is enough")
    with tessera.open(world.root) as mesh:
        mesh.access.grant("read", "sales.orders", NOBODY, row_filter="country = 'FR'")
    try:
        samples = sdk_quality(world, "nogrant")
        assert samples and {s["country"] for s in samples} == {"FR"}
    finally:
        with tessera.open(world.root) as mesh:
            mesh.access.revoke_matching("read", "sales.orders", NOBODY)


def test_reads_as_arrow_keep_their_types_for_the_owner(world: World) -> None:
    with tessera.open(world.root, token=world.tokens["owner"]) as mesh:
        table = mesh.read("sales.orders")
    mine = table.select(RAW.column_names).sort_by("order_id")
    assert isinstance(table, pa.Table) and mine.to_pylist() == RAW.sort_by("order_id").to_pylist()
    assert [str(f.type).replace("Etc/", "") for f in mine.schema] == [str(f.type) for f in RAW.schema]


def test_samples_lose_a_column_classified_after_the_run(tmp_path: Path) -> None:
    """A column that becomes sensitive after a quality run is left out of its samples for readers without
    clearance (found by an outside review: they showed its raw values)."""
    root = tmp_path / "mesh"
    built = _world(root, enforce=False)
    contract = _contract()
    for prop in contract["schema"][0]["properties"]:
        if prop["name"] == "country":
            prop["classification"] = "pii"
    write(root / "domains/sales/products/orders/contract.odcs.yaml", contract)
    with tessera.open(root, token=built.tokens["owner"]) as mesh:  # the owner has clearance
        assert any("country" in s for s in _samples(mesh.product("sales.orders").quality()))
    with tessera.open(root) as mesh:
        mesh.access.grant("read", "sales.orders", NOBODY)
    with tessera.open(root, token=built.tokens["nogrant"]) as mesh:
        samples = _samples(mesh.product("sales.orders").quality())
    assert samples and not any("country" in s for s in samples)
