"""The Delta Sharing file endpoint serves what a signed URL's grant names and nothing else, and only while the
grant still holds: confinement to the shared product's table files and the masked copy named (forged URLs
signed with the mesh's own key for ``/etc/passwd``, ``.tessera/catalog.db``, ``..`` paths, symlinks, another
product's files: refused in the protocol's shape and audited; the catalog is not corrupted), revocation on every
request (share remove, share revoke, recipient revoke, share delete, the principal's read grant revoked), and
masked copies purged by ``tessera erase`` and ``tessera govern --fix``."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import delta_sharing
import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import tessera
from tests.cli.test_cli import run
from tests.fixtures.meshkit import ORDERS_CONTRACT, make_mesh, orders_table, write
from tests.fixtures.serverkit import running_server

ERASED = "C7777777"  # the data subject erased
EXPIRED = "C8888888"  # the customer whose orders are older than the retention
PASSWD = Path("/etc/passwd")


def _contract() -> dict[str, Any]:
    """sales.orders with its customer_id declared the data subject's key (erasure by customer)."""
    doc = copy.deepcopy(ORDERS_CONTRACT)
    column = next(c for c in doc["schema"][0]["properties"] if c["name"] == "customer_id")
    column["customProperties"] = [{"property": "tessera.subjectKey", "value": "customer_id"}]
    return doc


def _orders() -> pa.Table:
    """100 orders: two of them the erased subject's, one older than the 10-year retention."""
    table = orders_table()
    ids = table.column("customer_id").to_pylist()
    stamps = table.column("ordered_at").to_pylist()
    ids[4] = ids[5] = ERASED
    ids[8], stamps[8] = EXPIRED, datetime(2001, 1, 1, tzinfo=UTC)
    table = table.set_column(1, "customer_id", pa.array(ids))
    return table.set_column(4, "ordered_at", pa.array(stamps, pa.timestamp("us", tz="UTC")))


@dataclass
class Served:
    root: Path
    url: str
    folder: Path

    def profile(self, recipient: str) -> Path:
        """A fresh profile file for ``recipient`` (it replaces the previous token)."""
        with tessera.open(self.root) as mesh:
            doc = mesh.sharing.profile(recipient, self.url)
        path = self.folder / f"{recipient}.share"
        path.write_text(json.dumps(doc))
        return path

    def query(self, profile: Path, table: str, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The ``file`` lines of a query."""
        token = json.loads(profile.read_text())["bearerToken"]
        share, schema, name = table.split(".")
        response = httpx.post(
            f"{self.url}/delta-sharing/shares/{share}/schemas/{schema}/tables/{name}/query",
            json=body or {},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        lines = [json.loads(line) for line in response.text.splitlines() if line]
        return [line["file"] for line in lines if "file" in line]


def _mesh(base: Path) -> Path:
    """sales.orders (shared as ``partners``) and crm.customers (shared as ``crm``, to steward only); recipients
    ``acme`` (no principal: masked copies) and ``steward`` (clearance: the table's own files)."""
    root = make_mesh(base / "mesh")
    write(root / "domains/sales/products/orders/contract.odcs.yaml", _contract())
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", _orders())
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1", "C2"], "segment": ["gold", "blue"]}))
        mesh.access.add_principal("steward@example.com")
        mesh.access.grant("read", "sales.orders", "steward@example.com", clearance=True)
        mesh.access.grant("read", "crm.customers", "steward@example.com")
        sharing = mesh.sharing
        sharing.create("partners")
        sharing.add("partners", "sales.orders")
        sharing.create("crm")
        sharing.add("crm", "crm.customers")
        sharing.create_recipient("acme")
        sharing.create_recipient("steward", principal="steward@example.com")
        sharing.grant("partners", "acme")
        sharing.grant("partners", "steward")
        sharing.grant("crm", "steward")
    return root


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("confinement")
    root = _mesh(base)
    with running_server(root) as url:
        yield Served(root, url, base)


@pytest.fixture
def own(tmp_path: Path) -> Iterator[Served]:
    """A mesh and server of the test's own (erasure and retention change the data)."""
    root = _mesh(tmp_path)
    with running_server(root) as url:
        yield Served(root, url, tmp_path)


# -- forging URLs with the mesh's own signing key --------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(root: Path, good_url: str, **changes: Any) -> str:
    """``good_url`` with its grant changed and signed again with the key in ``.tessera/sharing.key``."""
    prefix, token, name = good_url.rsplit("/", 2)
    payload = token.split(".")[0]
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(changes)
    forged = _b64(json.dumps(body, separators=(",", ":")).encode())
    key = (root / ".tessera" / "sharing.key").read_bytes()
    signature = _b64(hmac.new(key, forged.encode(), hashlib.sha256).digest())
    return f"{prefix}/{forged}.{signature}/{changes.get('p', name).rsplit('/', 1)[-1] or name}"


def _assert_refused(response: httpx.Response, *statuses: int) -> None:
    assert response.status_code in (statuses or (403, 404)), (response.status_code, response.content[:200])
    body = response.json()
    assert set(body) == {"errorCode", "message"}, body
    assert body["errorCode"] in ("PERMISSION_DENIED", "RESOURCE_DOES_NOT_EXIST")


def _denials(root: Path) -> list[Any]:
    with tessera.open(root) as mesh:
        return [e for e in mesh.access.audit(limit=10_000) if e.action == "share.file.denied"]


def test_forged_urls_serve_nothing_outside_the_granted_table(served: Served) -> None:
    root = served.root
    steward = served.profile("steward")
    [raw] = served.query(steward, "partners.sales.orders")
    assert httpx.get(raw["url"], timeout=30).status_code == 200
    [customers] = served.query(steward, "crm.crm.customers")
    table = root / "data/sales/orders/v1"
    (table / "escape.parquet").symlink_to(PASSWD)
    (table / "catalog.parquet").symlink_to(root / ".tessera/catalog.db")
    masked = served.query(served.profile("acme"), "partners.sales.orders")[0]
    masked_path = json.loads(base64.urlsafe_b64decode(masked["url"].rsplit("/", 2)[1].split(".")[0] + "=="))
    targets = [
        str(PASSWD),
        ".tessera/catalog.db",
        str(root / ".tessera/catalog.db"),
        ".tessera/sharing.key",
        "mesh.yaml",
        "data/sales/orders/v1/../../../../.tessera/catalog.db",
        "data/sales/orders/v1/../../../../../../../../etc/passwd",
        "data/sales/orders/v1/_delta_log/00000000000000000000.json",
        "data/sales/orders/v1/escape.parquet",
        "data/sales/orders/v1/catalog.parquet",
        json.loads(base64.urlsafe_b64decode(customers["url"].rsplit("/", 2)[1].split(".")[0] + "=="))["p"],
        masked_path["p"],  # a masked copy, under a grant for the raw files
    ]
    before = len(_denials(root))
    secret_bytes = [
        PASSWD.read_bytes()[:40],
        b"SQLite format 3",
        (root / ".tessera/sharing.key").read_bytes(),
    ]
    for target in targets:
        for method in ("GET", "HEAD"):
            response = httpx.request(method, _forged(root, raw["url"], p=target), timeout=30)
            if method == "HEAD":
                assert response.status_code in (403, 404), (target, response.status_code)
                continue
            assert not any(s in response.content for s in secret_bytes), target
            _assert_refused(response)
    assert httpx.get(raw["url"], timeout=30).status_code == 200  # the genuine URL still works
    denied = _denials(root)[before:]
    assert len(denied) >= len(targets) and {e.actor for e in denied} == {"recipient:steward"}
    assert all(e.details.get("reason") for e in denied)


def test_tampered_and_recipient_swapped_urls_are_refused_and_audited(served: Served) -> None:
    root = served.root
    [raw] = served.query(served.profile("steward"), "partners.sales.orders")
    prefix, token, name = raw["url"].rsplit("/", 2)
    payload, signature = token.split(".")
    before = len(_denials(root))
    tampered = f"{prefix}/{payload}.{signature[:-3]}AAA/{name}"
    _assert_refused(httpx.get(tampered, timeout=30), 403)
    # acme holds partners too but sees masked copies only: a raw file under acme's name is refused
    _assert_refused(httpx.get(_forged(root, raw["url"], r="acme"), timeout=30), 403)
    # a recipient that does not exist
    _assert_refused(httpx.get(_forged(root, raw["url"], r="mallory"), timeout=30), 403)
    # the two validly signed grants are refused by name; the tampered signature comes from nobody and is
    # counted per source and minute by the server (tests/server/test_server_hardening.py)
    assert len(_denials(root)) >= before + 2


def test_a_refused_catalog_fetch_leaves_the_catalog_intact(served: Served) -> None:
    """Serving catalog.db through the endpoint once corrupted the SQLite catalog on the next CLI write: closing
    the served file dropped the server process's locks on it (POSIX locks are per process), and the server then
    no longer saw a token issued after it. Refused now: the writes land, the server reads them, the chain holds."""
    root = served.root
    [raw] = served.query(served.profile("steward"), "partners.sales.orders")
    for target in (".tessera/catalog.db", ".tessera/catalog.db-wal", ".tessera/catalog.db-journal"):
        _assert_refused(httpx.get(_forged(root, raw["url"], p=target), timeout=30))
    for args in (("share", "create", "later"), ("share", "add", "later", "sales.orders")):
        result = run("-C", str(root), *args)
        assert result.returncode == 0, result.stderr
    [again] = served.query(served.profile("steward"), "partners.sales.orders")
    assert httpx.get(again["url"], timeout=30).status_code == 200
    verify = run("-C", str(root), "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "TAMPERED" not in verify.stdout


# -- revocation is immediate -----------------------------------------------------------------------------------


def _revoke_share_remove(mesh: tessera.Mesh, share: str, recipient: str) -> None:
    mesh.sharing.remove(share, "sales.orders")


def _revoke_share_grant(mesh: tessera.Mesh, share: str, recipient: str) -> None:
    mesh.sharing.revoke(share, recipient)


def _revoke_recipient(mesh: tessera.Mesh, share: str, recipient: str) -> None:
    mesh.sharing.revoke_recipient(recipient)


def _delete_share(mesh: tessera.Mesh, share: str, recipient: str) -> None:
    mesh.sharing.delete(share)


def _revoke_read_grant(mesh: tessera.Mesh, share: str, recipient: str) -> None:
    mesh.access.revoke_matching("read", "sales.orders", f"{recipient}@example.com")


def _drop_clearance(mesh: tessera.Mesh, share: str, recipient: str) -> None:
    """Still a reader, but no longer cleared: the raw files' URLs stop; masked copies are what it may get."""
    mesh.access.revoke_matching("read", "sales.orders", f"{recipient}@example.com")
    mesh.access.grant("read", "sales.orders", f"{recipient}@example.com")


REVOCATIONS: dict[str, Callable[[tessera.Mesh, str, str], None]] = {
    "share-remove": _revoke_share_remove,
    "share-revoke": _revoke_share_grant,
    "recipient-revoke": _revoke_recipient,
    "share-delete": _delete_share,
    "read-grant-revoke": _revoke_read_grant,
    "clearance-dropped": _drop_clearance,
}


@pytest.mark.parametrize("how", sorted(REVOCATIONS))
def test_a_file_url_stops_working_the_moment_access_is_revoked(served: Served, how: str) -> None:
    share, recipient = f"s-{how}", f"r-{how}"
    principal = f"{recipient}@example.com"
    with tessera.open(served.root) as mesh:
        mesh.access.add_principal(principal)
        mesh.access.grant("read", "sales.orders", principal, clearance=True)
        mesh.sharing.create(share)
        mesh.sharing.add(share, "sales.orders")
        mesh.sharing.create_recipient(recipient, principal=principal)
        mesh.sharing.grant(share, recipient)
    profile = served.profile(recipient)
    frame = delta_sharing.load_as_pandas(f"{profile}#{share}.sales.orders")
    assert len(frame) == 100
    [item] = served.query(profile, f"{share}.sales.orders")
    assert httpx.get(item["url"], timeout=30).status_code == 200
    with tessera.open(served.root) as mesh:
        REVOCATIONS[how](mesh, share, recipient)
    for method in ("GET", "HEAD"):
        response = httpx.request(method, item["url"], timeout=30)
        assert response.status_code in (403, 404), (method, response.status_code)
    _assert_refused(httpx.get(item["url"], headers={"Range": "bytes=0-99"}, timeout=30))
    denied = _denials(served.root)
    assert any(e.actor == f"recipient:{recipient}" for e in denied)


# -- erasure and retention purge masked copies ------------------------------------------------------------------


def _cached(root: Path) -> list[Path]:
    return sorted((root / ".tessera/sharing/masked").rglob("*.parquet"))


def _holds(path: Path, customer: str) -> bool:
    ids = pq.read_table(path, columns=["customer_id"]).column("customer_id")
    return bool(pc.any(pc.equal(ids, customer)).as_py()) or customer.encode() in path.read_bytes()


def _assert_purged(served: Served, customer: str, old_urls: list[str]) -> None:
    """No cached copy, no URL given out before, and no fresh read holds ``customer``."""
    for copy_path in _cached(served.root):
        assert not _holds(copy_path, customer), copy_path
    for url in old_urls:
        response = httpx.get(url, timeout=30)
        assert customer.encode() not in response.content
        if response.status_code == 200:
            local = served.folder / "served.parquet"
            local.write_bytes(response.content)
            assert not _holds(local, customer)
    acme, steward = served.profile("acme"), served.profile("steward")
    for profile in (acme, steward):
        frame = delta_sharing.load_as_pandas(f"{profile}#partners.sales.orders")
        assert customer not in set(frame["customer_id"]) and len(frame) > 90
        for item in served.query(profile, "partners.sales.orders"):
            assert customer.encode() not in httpx.get(item["url"], timeout=30).content
    assert all(not _holds(p, customer) for p in _cached(served.root))


def _read_masked(served: Served, customer: str) -> list[str]:
    """acme reads the table (masked copies are made); the URLs it was given. The copies hold ``customer``."""
    acme = served.profile("acme")
    frame = delta_sharing.load_as_pandas(f"{acme}#partners.sales.orders")
    assert customer in set(frame["customer_id"]) and frame["email"].str.contains("@").sum() == 0
    urls = [item["url"] for item in served.query(acme, "partners.sales.orders")]
    assert any(_holds(p, customer) for p in _cached(served.root))
    return urls


def test_erasure_purges_the_subject_from_masked_copies(own: Served) -> None:
    urls = _read_masked(own, ERASED)
    result = run("-C", str(own.root), "erase", "--subject", f"customer_id={ERASED}")
    assert result.returncode == 0, result.stdout + result.stderr
    _assert_purged(own, ERASED, urls)


def test_retention_purges_expired_rows_from_masked_copies(own: Served) -> None:
    urls = _read_masked(own, EXPIRED)
    result = run("-C", str(own.root), "govern", "--fix", "sales.orders")
    assert "Traceback" not in result.stdout + result.stderr
    _assert_purged(own, EXPIRED, urls)
    assert os.path.exists(own.root / ".tessera/catalog.db")


def test_a_copy_whose_source_is_vacuumed_while_it_is_made_does_not_stay(tmp_path: Path) -> None:
    """An erasure's vacuum and purge can run while a server writes a masked copy: the copy checks its source
    once it is in place, so it cannot land after the purge and keep the erased rows; ``purge`` removes copies
    of gone sources and keeps the others."""
    from tessera.access.model import ReadAccess
    from tessera.model.contract import Column
    from tessera.sharing.masked import purge, view_for
    from tessera.sharing.model import SharingError

    table = tmp_path / "table"
    table.mkdir()
    for name in ("part-0.parquet", "part-1.parquet"):
        pq.write_table(pa.table({"id": [1, 2], "email": ["a@x.org", "b@x.org"]}), table / name)
    columns = (Column("id", "integer"), Column("email", "string", classification="pii"))
    view = view_for(columns, ReadAccess("sales.people"), tmp_path / "masked")
    assert view is not None
    with pytest.raises(SharingError, match="removed") as caught:
        view.copy_of(str(table / "part-0.parquet"), exists=lambda _: False)
    assert caught.value.code == "RESOURCE_DOES_NOT_EXIST" and not list(
        (tmp_path / "masked").rglob("*.parquet")
    )
    kept = view.copy_of(str(table / "part-1.parquet"), exists=lambda path: Path(path).exists())
    orphan = kept.with_name("part-9.parquet")
    orphan.write_bytes(kept.read_bytes())
    assert purge(tmp_path / "masked", str(table), lambda path: Path(path).exists()) == 1
    assert kept.exists() and not orphan.exists()
