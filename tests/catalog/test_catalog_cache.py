"""Caches of the catalog (docs/architecture.md, "Caches of the catalog"), on SQLite and PostgreSQL: every committed
catalog write moves the generation, whoever writes it; the server's catalog views and their kept answers show the
new state on the next request after any write (in this process, from the CLI in another one, by plain SQL);
a kept answer is served only to a caller the route itself would answer, and is the route's answer byte for
byte."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from sqlalchemy import text

import tessera
from tessera.catalog import Catalog
from tessera.catalog import tables as t
from tessera.catalog.generation import UNWATCHED, current, watched
from tessera.server import create_app
from tests.fixtures.meshkit import make_mesh

with warnings.catch_warnings():  # starlette's TestClient announces its move to httpx2 on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PAGE = "/api/v1/products/crm/customers"
SEARCH = "/api/v1/search?q=customers&limit=5"
NOW = datetime.now(UTC)
CUSTOMERS = pa.table({"customer_id": ["C1", "C2"], "segment": ["a", "b"]})


def test_every_catalog_table_moves_the_generation(catalog_url: str) -> None:
    catalog = Catalog.open(catalog_url)
    try:
        with catalog.engine.connect() as conn:
            assert watched(conn) == set(t.metadata.tables) - {t.catalog_generation.name} - UNWATCHED
    finally:
        catalog.close()


def test_the_generation_moves_when_a_write_commits_and_only_then(catalog_url: str) -> None:
    catalog = Catalog.open(catalog_url)
    try:
        before = current(catalog)
        with pytest.raises(RuntimeError), catalog.transaction() as conn:
            conn.execute(
                t.principals.insert().values(name="ana", kind="user", created_at=NOW, created_by="test")
            )
            raise RuntimeError("rolled back")
        assert current(catalog) == before
        with catalog.transaction() as conn:
            conn.execute(
                t.principals.insert().values(name="ana", kind="user", created_at=NOW, created_by="test")
            )
        assert current(catalog) > before
    finally:
        catalog.close()


def test_audited_reads_leave_the_views_as_they_are(tmp_path: Path, catalog_url: str) -> None:
    """Every read as a principal writes the audit log (and its token's use); no view reads them, so a read must
    not make the views stale."""
    root = tmp_path / "mesh"
    tokens = _mesh(root, catalog_url, enforce=True)
    with tessera.open(root, token=tokens["root"]) as mesh:
        catalog = mesh.ctx.catalog
        with catalog.engine.connect() as conn:
            audited = conn.execute(t.audit_events.select()).all()
        before = current(catalog)
        assert mesh.read("crm.customers").num_rows == 2
        with catalog.engine.connect() as conn:
            assert len(conn.execute(t.audit_events.select()).all()) > len(audited)  # the read was audited
        assert current(catalog) == before


def _mesh(root: Path, catalog_url: str, *, enforce: bool = False) -> dict[str, str]:
    make_mesh(root, catalog=catalog_url)
    tokens: dict[str, str] = {}
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("crm.customers", CUSTOMERS)
        for name in ("root", "eve"):
            mesh.access.add_principal(name)
            tokens[name] = mesh.access.create_token(name)[1]
        mesh.access.grant("admin", "mesh", "root")
    if enforce:
        settings = yaml.safe_load((root / "mesh.yaml").read_text())
        (root / "mesh.yaml").write_text(yaml.safe_dump({**settings, "access": {"enforce": True}}))
    return tokens


def _product_file(root: Path, address: str) -> Path:
    return next(p for p in (root / "domains").rglob("*.yaml") if f"id: {address}\n" in p.read_text())


@pytest.fixture
def served(tmp_path: Path, catalog_url: str) -> Iterator[tuple[Path, TestClient]]:
    root = tmp_path / "mesh"
    _mesh(root, catalog_url)
    with TestClient(create_app(root), base_url="http://127.0.0.1") as client:
        yield root, client


def _twice(client: TestClient, path: str, **options: Any) -> Any:
    """The answer to ``path``, asked twice: the route's (or the kept one) and then the kept one, which must be
    the same bytes."""
    first, again = client.get(path, **options), client.get(path, **options)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.content == again.content
    assert first.headers["content-type"] == again.headers["content-type"] == "application/json"
    return again.json()


def _stale(client: TestClient) -> bool:
    """Whether the server's catalog view is stale (the next catalog request builds it again)."""
    server = client.app.state.tessera  # type: ignore[attr-defined]
    return server.browser.current(server.context(None)) is None


def test_every_write_in_this_process_shows_on_the_next_request(served: tuple[Path, TestClient]) -> None:
    root, client = served
    assert _twice(client, PAGE)["versions"] == 1
    with tessera.open(root) as mesh:
        mesh.publish("crm.customers", CUSTOMERS)  # a publish
    page = _twice(client, PAGE)
    assert page["versions"] == 2 and page["latest"]["delta_version"] == 1

    file = _product_file(root, "crm.customers")  # a deprecation and a new description, applied
    document = yaml.safe_load(file.read_text())
    document.update(status="deprecated", description={"purpose": "Customers, superseded by parties."})
    file.write_text(yaml.safe_dump(document, sort_keys=False))
    assert [h["address"] for h in _twice(client, "/api/v1/search?q=parties")] == []
    with tessera.open(root) as mesh:
        mesh.apply()
    assert _twice(client, PAGE)["status"] == "deprecated"
    [hit] = _twice(client, "/api/v1/search?q=parties")
    assert hit["address"] == "crm.customers" and hit["status"] == "deprecated"

    with tessera.open(root) as mesh:  # a grant and its revocation: nothing a page shows, still a write
        assert not _stale(client)
        grant, _ = mesh.access.grant("read", "crm.customers", "eve")
        assert _stale(client)
        _twice(client, PAGE)
        assert not _stale(client)
        mesh.access.revoke(grant.id)
        assert _stale(client)


def test_writes_by_other_processes_show_on_the_next_request(
    served: tuple[Path, TestClient], tmp_path: Path
) -> None:
    root, client = served
    assert _twice(client, PAGE)["versions"] == 1
    assert _twice(client, "/api/v1/products?domain=crm")[0]["description"] != "Edited by hand."
    pq.write_table(CUSTOMERS, tmp_path / "customers.parquet")
    env = {**os.environ, "TESSERA_TOKEN": ""}
    cli = [sys.executable, "-m", "tessera.cli", "-C", str(root)]
    published = subprocess.run(
        [*cli, "publish", "crm.customers", "--from", str(tmp_path / "customers.parquet")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert published.returncode == 0, published.stderr
    assert _twice(client, PAGE)["versions"] == 2

    with tessera.open(root) as mesh:  # plain SQL from outside Tessera's code, on its own connection
        url = mesh.ctx.settings.catalog_url
    script = (
        "import sys; from sqlalchemy import create_engine, text\n"
        "with create_engine(sys.argv[1]).begin() as conn:\n"
        "    conn.execute(text(\"UPDATE products SET description = 'Edited by hand.' WHERE address = 'crm.customers'\"))\n"
    )
    edited = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True, env=env)
    assert edited.returncode == 0, edited.stderr
    assert _twice(client, PAGE)["description"] == "Edited by hand."
    assert _twice(client, "/api/v1/products?domain=crm")[0]["description"] == "Edited by hand."
    assert _twice(client, "/api/v1/search?q=hand")[0]["address"] == "crm.customers"


def test_a_retired_product_is_gone_from_the_next_answer(served: tuple[Path, TestClient]) -> None:
    root, client = served
    assert [h["address"] for h in _twice(client, SEARCH)] == ["crm.customers"]
    with tessera.open(root) as mesh:
        with mesh.ctx.catalog.transaction() as conn:
            conn.execute(
                text("UPDATE products SET retired = :yes WHERE address = 'crm.customers'"), {"yes": True}
            )
    # gone; "customers" is now found nowhere, so the typo-tolerant search offers the word "customer" instead
    assert [h["address"] for h in _twice(client, SEARCH)] == ["sales.orders"]
    assert client.get(PAGE).status_code == 404


def test_kept_answers_are_the_routes_answers(served: tuple[Path, TestClient]) -> None:
    """Parameters the kept-answer path does not take as they are (a zero-padded limit, a repeated or unknown
    parameter) go to the route; both give the same bytes for the same question."""
    _, client = served
    plain = _twice(client, "/api/v1/search?q=cust&limit=20")
    for odd in (
        "q=cust&limit=020",
        "limit=5&q=cust&limit=20",
        "q=cust&limit=20&unknown=1",
        "q=cust&limit=20&",
    ):
        assert client.get(f"/api/v1/search?{odd}").json() == plain
    assert client.get("/api/v1/search?q=cust&limit=0").status_code == 422
    assert client.get("/api/v1/search?q=cust&pii=maybe").status_code == 422
    listed = _twice(client, "/api/v1/products?pii=false")
    assert client.get("/api/v1/products?pii=0").json() == listed
    assert client.get("/api/v1/products/crm/nothing_here").status_code == 404
    assert client.get("/api/v1/products/crm/Bad-Name").status_code == 422
    assert _twice(client, "/api/v1/domains/crm")["products"][0]["address"] == "crm.customers"
    assert "crm" in [d["name"] for d in _twice(client, "/api/v1/domains")]


def test_a_kept_answer_is_only_served_to_a_caller_the_route_would_answer(
    tmp_path: Path, catalog_url: str
) -> None:
    root = tmp_path / "mesh"
    tokens = _mesh(root, catalog_url, enforce=True)
    with TestClient(create_app(root), base_url="http://127.0.0.1") as client:
        server = client.app.state.tessera  # type: ignore[attr-defined]
        owner = {"Authorization": f"Bearer {tokens['root']}"}
        page = _twice(client, PAGE, headers=owner)
        found = _twice(client, SEARCH, headers=owner)
        for path in (PAGE, SEARCH):
            assert client.get(path).status_code == 401  # anonymous, on a mesh that enforces access
            before = server.rejections.pending()
            refused = client.get(path, headers={"Authorization": "Bearer tsk_0123456789abcdef_nope"})
            assert refused.status_code == 401 and refused.headers["content-type"].startswith(
                "application/problem"
            )
            assert server.rejections.pending() == before + 1  # refused once, counted once
        assert _twice(client, PAGE, headers={"Authorization": f"Bearer {tokens['eve']}"}) == page
        with tessera.open(root, token=tokens["root"]) as mesh:
            [token] = [t for t in mesh.access.tokens() if t.principal == "eve"]
            mesh.access.revoke_token(token.id)
        for path in (PAGE, SEARCH):
            assert client.get(path, headers={"Authorization": f"Bearer {tokens['eve']}"}).status_code == 401
        assert _twice(client, SEARCH, headers=owner) == found


def test_a_token_used_while_its_principal_is_removed_does_not_deadlock(catalog_url: str) -> None:
    """On PostgreSQL every catalog write takes the audit lock before its first row (the generation triggers);
    a token's use takes it before the token's row too, so a use and ``principal remove`` queue one after the
    other instead of deadlocking (the remover holds the lock and wants the row the user holds)."""
    if not catalog_url.startswith("postgresql"):
        pytest.skip("SQLite's write transactions are exclusive: nothing to interleave")
    import threading

    from tessera.access.identity import add_principal, authenticate, create_token
    from tessera.catalog.dialect import AUDIT_LOCK

    catalog = Catalog.open(catalog_url)
    try:
        add_principal(catalog, "bob", "user", actor="admin")
        _, secret = create_token(catalog, "bob", days=30, label=None, actor="admin")
        failures: list[BaseException] = []

        def use() -> None:
            try:
                authenticate(catalog, secret)
            except BaseException as exc:  # the deadlock's victim, reported below
                failures.append(exc)

        with catalog.engine.connect() as remover:  # remove_principal's order: memberships, then tokens
            remover.execute(t.group_members.delete().where(t.group_members.c.member == "bob"))
            user = threading.Thread(target=use)
            user.start()
            waiting = (
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                f"AND (classid::bigint << 32) + objid::bigint = {AUDIT_LOCK}"
            )
            for _ in range(600):  # until the token's use waits on the lock the remover holds
                with catalog.engine.connect() as probe:
                    if probe.execute(text(waiting)).scalar():
                        break
                user.join(0.05)
            try:
                remover.execute(t.tokens.delete().where(t.tokens.c.principal == "bob"))
                remover.commit()
            except Exception as exc:
                failures.append(exc)
            user.join(60)
        assert not failures, failures
    finally:
        catalog.close()
