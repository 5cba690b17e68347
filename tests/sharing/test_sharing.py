"""Delta Sharing: the official ``delta-sharing`` client against a real server over a real mesh. Listing and
pagination, reading the latest version, an older one and a limit, a Parquet file over 10 MB read through
HTTP range requests, masking and row filters (no raw sensitive value in any byte served), the protocol's
errors, signed URLs, predicate hints, and the ``tessera share`` commands end to end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import delta_sharing
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from sqlalchemy import update

import tessera
from tessera.catalog import tables as t
from tessera.errors import AccessDeniedError
from tessera.platform.sharing.shares import Sharing
from tessera.sharing.files import DataFile
from tessera.sharing.predicates import parse_hints, prune
from tessera.sharing.signing import FileGrant, load_secret, sign
from tests.cli.test_cli import run
from tests.fixtures.meshkit import make_mesh, orders_table, product_doc, write
from tests.fixtures.serverkit import running_server

RAW = orders_table()
V1 = orders_table(60)
RAW_EMAILS = sorted({e for e in RAW.column("email").to_pylist() if e})
BIG_ROWS = 110_000

EVENTS_CONTRACT: dict[str, Any] = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "sales-events",
    "name": "events",
    "version": "1.0.0",
    "status": "active",
    "schema": [
        {
            "name": "events",
            "physicalType": "table",
            "properties": [
                {"name": "event_id", "logicalType": "integer", "physicalType": "bigint", "required": True},
                {"name": "payload", "logicalType": "string", "required": True},
            ],
        }
    ],
    "slaProperties": [{"property": "frequency", "value": 1, "unit": "d"}],
}


def big_events() -> pa.Table:
    """~11 MB of random text: Parquet cannot compress it below the client's 5 MB block size twice over."""
    blob = os.urandom(BIG_ROWS * 75)
    payload = [base64.b64encode(blob[i * 75 : (i + 1) * 75]).decode() for i in range(BIG_ROWS)]
    return pa.table({"event_id": pa.array(range(BIG_ROWS), pa.int64()), "payload": payload})


@dataclass
class Shared:
    root: Path
    url: str
    profiles: dict[str, Path]


def _profile(mesh: tessera.Mesh, recipient: str, url: str, folder: Path) -> Path:
    doc = Sharing(mesh.ctx).profile(recipient, url)
    path = folder / f"{recipient}.share"
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """A mesh with sales.orders at two versions and sales.events (one file over 10 MB), shared as
    ``partners`` to three recipients: ``acme`` (no principal: masked), ``steward`` (clearance) and ``de`` (a row
    filter, no clearance); served by a real uvicorn server."""
    base = tmp_path_factory.mktemp("sharing")
    root = make_mesh(base / "mesh")
    events = root / "domains/sales/products/events"
    write(events / "contract.odcs.yaml", EVENTS_CONTRACT)
    write(events / "product.odps.yaml", product_doc("sales", "events", EVENTS_CONTRACT, []))
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", RAW)
        mesh.publish("sales.orders", V1)
        mesh.publish("sales.events", big_events())
        for name in ("steward@example.com", "analyst@example.com"):
            mesh.access.add_principal(name)
        mesh.access.grant("read", "sales.orders", "steward@example.com", clearance=True)
        mesh.access.grant("read", "sales.events", "steward@example.com")
        mesh.access.grant("read", "sales.orders", "analyst@example.com", row_filter="country = 'DE'")
        sharing = Sharing(mesh.ctx)
        sharing.create("partners", "for partners")
        sharing.add("partners", "sales.orders")
        sharing.add("partners", "sales.orders", "archive.orders_copy")
        sharing.add("partners", "sales.events")
        sharing.create("internal")
        sharing.add("internal", "sales.orders")
        sharing.create_recipient("acme")
        sharing.create_recipient("steward", principal="steward@example.com")
        sharing.create_recipient("de", principal="analyst@example.com")
        for recipient in ("acme", "steward", "de"):
            sharing.grant("partners", recipient)
    with running_server(root) as url:
        endpoint = f"{url}/delta-sharing"
        with tessera.open(root) as mesh:
            profiles = {r: _profile(mesh, r, endpoint, base) for r in ("acme", "steward", "de")}
        yield Shared(root, endpoint, profiles)


def table_url(shared: Shared, recipient: str, table: str = "partners.sales.orders") -> str:
    return f"{shared.profiles[recipient]}#{table}"


def token_of(shared: Shared, recipient: str) -> str:
    return str(json.loads(shared.profiles[recipient].read_text())["bearerToken"])


def get(shared: Shared, path: str, recipient: str = "steward", **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token_of(shared, recipient)}", **kwargs.pop("headers", {})}
    return requests.get(f"{shared.url}{path}", headers=headers, timeout=60, **kwargs)


def query(
    shared: Shared, recipient: str, table: str, body: dict[str, Any]
) -> tuple[requests.Response, list[Any]]:
    share, schema, name = table.split(".")
    response = requests.post(
        f"{shared.url}/shares/{share}/schemas/{schema}/tables/{name}/query",
        json=body,
        headers={"Authorization": f"Bearer {token_of(shared, recipient)}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response, [json.loads(line) for line in response.text.splitlines() if line]


def assert_protocol_error(response: requests.Response, status: int, code: str, *needles: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errorCode", "message"}, body
    assert body["errorCode"] == code, body
    for needle in needles:
        assert needle in body["message"], body


# -- listing -----------------------------------------------------------------------------------------------------


def test_client_lists_shares_schemas_and_all_tables(shared: Shared) -> None:
    client = delta_sharing.SharingClient(str(shared.profiles["steward"]))
    assert [s.name for s in client.list_shares()] == ["partners"]  # not "internal": it is not granted
    tables = {(t.share, t.schema, t.name) for t in client.list_all_tables()}
    assert tables == {
        ("partners", "archive", "orders_copy"),
        ("partners", "sales", "events"),
        ("partners", "sales", "orders"),
    }
    share = client.list_shares()[0]
    assert sorted(s.name for s in client.list_schemas(share)) == ["archive", "sales"]
    schema = next(s for s in client.list_schemas(share) if s.name == "sales")
    assert sorted(t.name for t in client.list_tables(schema)) == ["events", "orders"]
    got = get(shared, "/shares/PARTNERS").json()  # names are case-insensitive
    assert got["share"]["name"] == "partners" and got["share"]["id"]


def test_pagination_with_max_results_one(shared: Shared) -> None:
    seen, token, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"maxResults": 1}
        if token:
            params["pageToken"] = token
        page = get(shared, "/shares/partners/all-tables", params=params).json()
        pages += 1
        assert len(page["items"]) <= 1
        seen += [f"{t['schema']}.{t['name']}" for t in page["items"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert pages == 3 and seen == ["archive.orders_copy", "sales.events", "sales.orders"]
    schemas = get(shared, "/shares/partners/schemas", params={"maxResults": 1}).json()
    assert schemas["items"] == [{"name": "archive", "share": "partners"}] and schemas["nextPageToken"]
    empty = get(shared, "/shares", params={"maxResults": 0}).json()
    assert empty["items"] == [] and empty["nextPageToken"]
    last = get(shared, "/shares/partners/schemas/sales/tables", params={"maxResults": 5}).json()
    assert len(last["items"]) == 2 and "nextPageToken" not in last


# -- reading -----------------------------------------------------------------------------------------------------


def _orders(frame: Any) -> list[tuple[int, str | None]]:
    rows = frame.sort_values("order_id")
    return [(int(i), e) for i, e in zip(rows["order_id"], rows["email"], strict=True)]


def _expected(table: pa.Table) -> list[tuple[int, str | None]]:
    return [(r["order_id"], r["email"]) for r in table.to_pylist()]


def test_load_latest_older_version_and_limit(shared: Shared) -> None:
    url = table_url(shared, "steward")
    assert delta_sharing.get_table_version(url) == 1
    latest = delta_sharing.load_as_pandas(url)
    assert _orders(latest) == _expected(V1)
    assert {"_product_name", "_domain", "amount", "ordered_at"} <= set(latest.columns)
    assert latest["amount"].iloc[0] == Decimal("1.50")
    older = delta_sharing.load_as_pandas(url, version=0)
    assert _orders(older) == _expected(RAW)
    assert len(delta_sharing.load_as_pandas(url, limit=7)) == 7
    meta = delta_sharing.get_table_metadata(url)
    fields = [f["name"] for f in json.loads(meta.schema_string)["fields"]]
    assert fields[:6] == ["order_id", "customer_id", "email", "amount", "ordered_at", "country"]
    with pytest.raises(requests.HTTPError, match="404"):
        delta_sharing.load_as_pandas(url, version=9)


def test_time_travel_by_timestamp_and_starting_timestamp(shared: Shared) -> None:
    with tessera.open(shared.root) as mesh:
        published = [v["published_at"] for v in mesh.ctx.catalog.versions("sales.orders")]
    between = published[0] + (published[1] - published[0]) / 2
    text = between.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    _, lines = query(shared, "steward", "partners.sales.orders", {"timestamp": text})
    assert lines[1]["metaData"]["version"] == 0
    assert all(line["file"]["version"] == 0 for line in lines[2:])
    response = get(
        shared, "/shares/partners/schemas/sales/tables/orders/version", params={"startingTimestamp": text}
    )
    assert response.headers["delta-table-version"] == "1"
    head = requests.head(
        f"{shared.url}/shares/partners/schemas/sales/tables/orders",
        headers={"Authorization": f"Bearer {token_of(shared, 'steward')}"},
        timeout=30,
    )
    assert head.status_code == 200 and head.headers["delta-table-version"] == "1"
    head = requests.head(
        f"{shared.url}/shares/partners/schemas/archive/tables/orders_copy/version",
        headers={"Authorization": f"Bearer {token_of(shared, 'steward')}"},
        timeout=30,
    )
    assert head.status_code == 200 and head.headers["delta-table-version"] == "1"
    late = get(
        shared,
        "/shares/partners/schemas/sales/tables/orders/version",
        params={"startingTimestamp": "2999-01-01T00:00:00Z"},
    )
    assert_protocol_error(late, 400, "INVALID_PARAMETER_VALUE", "after the latest version")
    early = get(
        shared,
        "/shares/partners/schemas/sales/tables/orders/version",
        params={"startingTimestamp": "2000-01-01"},
    )
    assert early.headers["delta-table-version"] == "0"
    bad = get(
        shared,
        "/shares/partners/schemas/sales/tables/orders/version",
        params={"startingTimestamp": "yesterday"},
    )
    assert_protocol_error(bad, 400, "INVALID_PARAMETER_VALUE", "not a timestamp")


def test_a_file_over_ten_megabytes_is_read_through_ranges(shared: Shared) -> None:
    url = table_url(shared, "steward", "partners.sales.events")
    _, lines = query(shared, "steward", "partners.sales.events", {})
    files = [line["file"] for line in lines[2:]]
    assert len(files) == 1 and files[0]["size"] > 10 * 1024 * 1024
    frame = delta_sharing.load_as_pandas(url)
    assert len(frame) == BIG_ROWS and frame["event_id"].sum() == BIG_ROWS * (BIG_ROWS - 1) // 2
    assert frame["payload"].str.len().eq(100).all()
    assert len(delta_sharing.load_as_pandas(url, limit=10)) == 10

    file_url, size = files[0]["url"], files[0]["size"]
    head = requests.head(file_url, timeout=30)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(size) and head.headers["accept-ranges"] == "bytes"
    whole = requests.get(file_url, timeout=60).content
    assert len(whole) == size and whole[:4] == b"PAR1" and whole[-4:] == b"PAR1"
    for first, last in ((0, 99), (size - 5_000_000, size - 1), (7_654_321, 7_654_400)):
        part = requests.get(file_url, headers={"Range": f"bytes={first}-{last}"}, timeout=30)
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert part.content == whole[first : last + 1]
    tail = requests.get(file_url, headers={"Range": "bytes=-8"}, timeout=30)
    assert tail.status_code == 206 and tail.content == whole[-8:]
    beyond = requests.get(file_url, headers={"Range": f"bytes={size + 10}-"}, timeout=30)
    assert beyond.status_code == 416


# -- masking and row filters ---------------------------------------------------------------------------------------


def _served_bytes(lines: list[Any]) -> bytes:
    return b"".join(requests.get(line["file"]["url"], timeout=60).content for line in lines[2:])


def test_recipient_without_clearance_never_receives_a_raw_sensitive_value(shared: Shared) -> None:
    for version in (0, 1):
        response, lines = query(shared, "acme", "partners.sales.orders", {"version": version})
        served = _served_bytes(lines) + response.content
        assert served and not any(e.encode() in served for e in RAW_EMAILS)
        assert b"@example.com" not in served
        raw = query(shared, "steward", "partners.sales.orders", {"version": version})[1]
        assert {line["file"]["id"] for line in raw[2:]}.isdisjoint({line["file"]["id"] for line in lines[2:]})
    frame = delta_sharing.load_as_pandas(table_url(shared, "acme"))
    expected = {
        int(r["order_id"]): hashlib.sha256(r["email"].encode()).hexdigest() if r["email"] else None
        for r in V1.to_pylist()
    }
    assert {int(i): e for i, e in zip(frame["order_id"], frame["email"], strict=True)} == expected
    assert sorted(frame["customer_id"]) == sorted(V1.column("customer_id").to_pylist())  # not sensitive
    folder = shared.root / ".tessera/sharing/masked/sales.orders/v1"
    copies = sorted(folder.glob("*/*.parquet"))
    assert copies and not any(e.encode() in c.read_bytes() for c in copies for e in RAW_EMAILS)
    orphan = copies[0].parent / "part-vacuumed-long-ago.snappy.parquet"  # its source is gone from the table
    orphan.write_bytes(copies[0].read_bytes())
    query(shared, "acme", "partners.sales.orders", {})
    assert not orphan.exists() and all(c.exists() for c in copies)
    meta = delta_sharing.get_table_metadata(table_url(shared, "acme"))
    email = next(f for f in json.loads(meta.schema_string)["fields"] if f["name"] == "email")
    assert email["type"] == "string"
    with tessera.open(shared.root) as mesh:
        reads = [
            e
            for e in mesh.access.audit(limit=1000)
            if e.action == "share.query" and e.actor == "recipient:acme"
        ]
    assert reads and reads[-1].details["masked"] == ["email"] and reads[-1].subject == "partners.sales.orders"


def test_row_filter_of_the_recipients_principal_applies(shared: Shared) -> None:
    response, lines = query(shared, "de", "partners.sales.orders", {})
    served = _served_bytes(lines) + response.content
    assert not any(e.encode() in served for e in RAW_EMAILS)
    frame = delta_sharing.load_as_pandas(table_url(shared, "de"))
    expected = sorted(r["order_id"] for r in V1.to_pylist() if r["country"] == "DE")
    assert sorted(int(i) for i in frame["order_id"]) == expected and set(frame["country"]) == {"DE"}


def test_a_recipient_whose_principal_may_not_read_a_table_is_refused(shared: Shared) -> None:
    response = requests.post(
        f"{shared.url}/shares/partners/schemas/sales/tables/events/query",
        json={},
        headers={"Authorization": f"Bearer {token_of(shared, 'de')}"},
        timeout=30,
    )
    assert_protocol_error(response, 403, "PERMISSION_DENIED", "analyst@example.com", "sales.events")


# -- errors ------------------------------------------------------------------------------------------------------


def test_unknown_expired_and_revoked_tokens_are_refused_in_the_protocol_shape(shared: Shared) -> None:
    bad = requests.get(
        f"{shared.url}/shares",
        headers={"Authorization": "Bearer tds_0123456789abcdef_" + "x" * 40},
        timeout=30,
    )
    assert_protocol_error(bad, 401, "UNAUTHENTICATED", "unknown bearer token")
    none = requests.get(f"{shared.url}/shares", timeout=30)
    assert_protocol_error(none, 401, "UNAUTHENTICATED")
    api_token = requests.get(f"{shared.url}/shares", headers={"Authorization": "Bearer tsk_x"}, timeout=30)
    assert_protocol_error(api_token, 401, "UNAUTHENTICATED", "malformed")
    with tessera.open(shared.root) as mesh:
        sharing = Sharing(mesh.ctx)
        sharing.create_recipient("shortlived", expires_days=1)
        sharing.grant("partners", "shortlived")
        profile = _profile(mesh, "shortlived", shared.url, shared.root)
        with mesh.ctx.catalog.transaction() as conn:
            conn.execute(
                update(t.share_recipients)
                .where(t.share_recipients.c.name == "shortlived")
                .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
            )
    token = json.loads(profile.read_text())["bearerToken"]
    expired = requests.get(f"{shared.url}/shares", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert_protocol_error(expired, 401, "UNAUTHENTICATED", "expired")
    with pytest.raises(requests.HTTPError, match="401"):
        delta_sharing.SharingClient(str(profile)).list_shares()


def test_protocol_errors_for_bad_requests(shared: Shared) -> None:
    assert_protocol_error(get(shared, "/shares/nope"), 404, "RESOURCE_DOES_NOT_EXIST", "nope")
    assert_protocol_error(get(shared, "/shares/internal/schemas"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_protocol_error(get(shared, "/shares/partners/schemas/nope/tables"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_protocol_error(
        get(shared, "/shares/partners/schemas/sales/tables/nope/metadata"), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    assert_protocol_error(get(shared, "/shares", params={"maxResults": -1}), 400, "INVALID_PARAMETER_VALUE")
    assert_protocol_error(get(shared, "/shares", params={"maxResults": "x"}), 400, "INVALID_PARAMETER_VALUE")
    assert_protocol_error(get(shared, "/shares", params={"pageToken": "zz"}), 400, "INVALID_PARAMETER_VALUE")
    assert_protocol_error(get(shared, "/no/such/endpoint"), 404, "RESOURCE_DOES_NOT_EXIST")
    delta_only = get(
        shared,
        "/shares/partners/schemas/sales/tables/orders/metadata",
        headers={"delta-sharing-capabilities": "responseformat=delta"},
    )
    assert_protocol_error(delta_only, 400, "UNSUPPORTED_OPERATION", "parquet")
    post = requests.post(
        f"{shared.url}/shares/partners/schemas/sales/tables/orders/query",
        data="{not json",
        headers={"Authorization": f"Bearer {token_of(shared, 'steward')}"},
        timeout=30,
    )
    assert_protocol_error(post, 400, "MALFORMED_REQUEST")
    both = requests.post(
        f"{shared.url}/shares/partners/schemas/sales/tables/orders/query",
        json={"version": 0, "timestamp": "2026-01-01 00:00:00"},
        headers={"Authorization": f"Bearer {token_of(shared, 'steward')}"},
        timeout=30,
    )
    assert_protocol_error(both, 400, "INVALID_PARAMETER_VALUE", "not both")
    changes = get(
        shared, "/shares/partners/schemas/sales/tables/orders/changes", params={"startingVersion": 0}
    )
    assert_protocol_error(changes, 400, "UNSUPPORTED_OPERATION", "change data feed")


def test_signed_urls_refuse_tampering_and_expiry(shared: Shared) -> None:
    _, lines = query(shared, "steward", "partners.sales.orders", {})
    good = lines[2]["file"]["url"]
    assert requests.get(good, timeout=30).status_code == 200
    prefix, token, name = good.rsplit("/", 2)
    payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert_protocol_error(
        requests.get(f"{prefix}/{payload}.{flipped}/{name}", timeout=30), 403, "PERMISSION_DENIED"
    )
    assert_protocol_error(requests.get(f"{prefix}/garbage/{name}", timeout=30), 403, "PERMISSION_DENIED")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    other = base64.urlsafe_b64encode(json.dumps({**body, "p": "mesh.yaml"}).encode()).rstrip(b"=").decode()
    assert_protocol_error(
        requests.get(f"{prefix}/{other}.{signature}/mesh.yaml", timeout=30), 403, "PERMISSION_DENIED"
    )
    secret = load_secret(shared.root)
    grant = FileGrant(body["p"], body["r"], body["e"], body["s"], body["t"], body["m"], body["v"], body["w"])
    stale = sign(secret, replace(grant, expires=int(time.time()) - 1))
    assert_protocol_error(
        requests.get(f"{prefix}/{stale}/{name}", timeout=30), 403, "PERMISSION_DENIED", "expired"
    )
    assert (shared.root / ".tessera" / "sharing.key").stat().st_mode & 0o077 == 0


# -- predicate and limit hints ---------------------------------------------------------------------------------------


def _file(name: str, low: Any, high: Any, rows: int = 10, nulls: int = 0, **partition: Any) -> DataFile:
    return DataFile(name, 100, rows, dict(partition), {"x": low}, {"x": high}, {"x": nulls})


def _names(files: list[DataFile]) -> list[str]:
    return [f.name for f in files]


def _hint(op: str, *children: dict[str, Any]) -> dict[str, Any]:
    return {"op": op, "children": list(children)}


X = {"op": "column", "name": "x", "valueType": "int"}
D = {"op": "column", "name": "day", "valueType": "date"}


def lit(value: Any, kind: str = "int") -> dict[str, Any]:
    return {"op": "literal", "value": str(value), "valueType": kind}


def test_predicate_hints_skip_only_files_that_cannot_match() -> None:
    files = [
        _file("a", 1, 10),
        _file("b", 11, 20),
        _file("c", 21, 30, nulls=2),
        _file("d", None, None, nulls=10),
    ]
    assert _names(prune(files, _hint("equal", X, lit(15)))) == ["b"]
    assert _names(prune(files, _hint("equal", lit(15), X))) == ["b"]
    assert _names(prune(files, _hint("lessThan", X, lit(11)))) == ["a"]
    assert _names(prune(files, _hint("lessThanOrEqual", X, lit(11)))) == ["a", "b"]
    assert _names(prune(files, _hint("greaterThan", lit(11), X))) == ["a"]  # 11 > x
    assert _names(prune(files, _hint("greaterThanOrEqual", X, lit(30)))) == ["c"]
    assert _names(prune(files, _hint("isNull", X))) == ["c", "d"]
    assert _names(prune(files, _hint("not", _hint("isNull", X)))) == ["a", "b", "c"]
    assert _names(prune(files, _hint("not", _hint("equal", X, lit(15))))) == ["a", "b", "c"]
    both = _hint("and", _hint("greaterThan", X, lit(5)), _hint("lessThan", X, lit(12)))
    assert _names(prune(files, both)) == ["a", "b"]
    either = _hint("or", _hint("equal", X, lit(2)), _hint("equal", X, lit(29)))
    assert _names(prune(files, either)) == ["a", "c"]
    parted = [
        DataFile("p1", 1, 5, {"day": date(2026, 1, 1)}),
        DataFile("p2", 1, 5, {"day": date(2026, 1, 2)}),
        DataFile("p3", 1, 5, {"day": None}),
    ]
    assert _names(prune(parted, _hint("equal", D, lit("2026-01-02", "date")))) == ["p2"]
    assert _names(prune(parted, _hint("isNull", D))) == ["p3"]
    # unknown columns, ops, types and malformed hints keep every file: never wrong
    unknown = {"op": "column", "name": "nope", "valueType": "int"}
    assert _names(prune(files, _hint("equal", unknown, lit(1)))) == ["a", "b", "c", "d"]
    assert _names(prune(files, _hint("like", X, lit(1)))) == ["a", "b", "c", "d"]
    assert _names(prune(files, _hint("equal", X, lit("x", "int")))) == ["a", "b", "c", "d"]
    assert _names(prune(files, parse_hints("{not json"))) == ["a", "b", "c", "d"]
    assert _names(prune(files, _hint("equal", X))) == ["a", "b", "c", "d"]


def test_hints_through_the_server_keep_the_answer_right(shared: Shared) -> None:
    url = table_url(shared, "steward")
    hint = json.dumps(
        _hint("equal", {"op": "column", "name": "order_id", "valueType": "long"}, lit(7, "long"))
    )
    frame = delta_sharing.load_as_pandas(url, jsonPredicateHints=hint)
    assert 7 in set(frame["order_id"])  # the client filters rows itself; the server kept the file
    miss = json.dumps(
        _hint("greaterThan", {"op": "column", "name": "order_id", "valueType": "long"}, lit(10_000, "long"))
    )
    _, lines = query(shared, "steward", "partners.sales.orders", {"jsonPredicateHints": miss})
    assert len(lines) == 2  # no file can hold such a row
    _, lines = query(shared, "steward", "partners.sales.orders", {"limitHint": 1})
    assert len(lines) == 3


# -- management ------------------------------------------------------------------------------------------------------


def test_management_needs_admin_and_is_audited(tmp_path: Path) -> None:
    root = make_mesh(tmp_path / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.access.add_principal("reader@example.com")
        mesh.access.grant("read", "sales.orders", "reader@example.com")
        _, token = mesh.access.create_token("reader@example.com")
    with tessera.open(root, token=token) as mesh:
        with pytest.raises(AccessDeniedError, match="admin"):
            Sharing(mesh.ctx).create("partners")
    with tessera.open(root) as mesh:
        sharing = Sharing(mesh.ctx)
        sharing.create("partners")
        sharing.add("partners", "sales.orders")
        with pytest.raises(tessera.errors.TesseraError, match="already has a table"):
            sharing.add("partners", "sales.daily", "sales.orders")
        with pytest.raises(tessera.errors.NotFoundError, match="unknown principal"):
            sharing.create_recipient("x", principal="nobody@example.com")
        actions = [e.action for e in mesh.access.audit(limit=100)]
    assert {"share.create", "share.add"} <= set(actions)
    with tessera.open(root, token=token) as mesh:
        with pytest.raises(AccessDeniedError, match="admin"):
            Sharing(mesh.ctx).remove("partners", "sales.orders")


def test_share_commands_end_to_end(tmp_path: Path) -> None:
    root = make_mesh(tmp_path / "mesh")
    m = ("-C", str(root))
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", RAW)
    assert run(*m, "share", "create", "partners", "--comment", "for partners").returncode == 0
    added = run(*m, "share", "add", "partners", "sales.orders", "--as", "shop.orders")
    assert added.returncode == 0 and "shop.orders" in added.stdout, added.stderr
    created = run(*m, "share", "recipient", "create", "acme", "--expires-days", "30")
    assert created.returncode == 0, created.stderr
    assert run(*m, "share", "grant", "partners", "acme").returncode == 0
    listed = json.loads(run(*m, "share", "list", "--json").stdout)
    assert [s["name"] for s in listed] == ["partners"]
    shown = json.loads(run(*m, "share", "show", "partners", "--json").stdout)
    assert shown["tables"] == [{"table": "shop.orders", "address": "sales.orders", "major": None}]
    assert shown["recipients"] == ["acme"]
    typo = run(*m, "share", "grant", "partnrs", "acme")
    assert typo.returncode == 1 and "did you mean partners" in typo.stderr and "Traceback" not in typo.stderr
    bad = run(*m, "share", "profile", "acme", "--endpoint", "not-a-url")
    assert bad.returncode == 1 and "--endpoint" in bad.stderr
    with running_server(root) as url:
        profile = tmp_path / "acme.share"
        made = run(*m, "share", "profile", "acme", "--endpoint", url, "--output", str(profile))
        assert made.returncode == 0, made.stderr
        doc = json.loads(profile.read_text())
        assert doc["shareCredentialsVersion"] == 1 and doc["endpoint"] == f"{url}/delta-sharing"
        assert doc["bearerToken"].startswith("tds_") and doc["expirationTime"].endswith("Z")
        assert doc["bearerToken"] not in made.stdout and profile.stat().st_mode & 0o077 == 0
        client = delta_sharing.SharingClient(str(profile))
        assert [(t.share, t.schema, t.name) for t in client.list_all_tables()] == [
            ("partners", "shop", "orders")
        ]
        frame = delta_sharing.load_as_pandas(f"{profile}#partners.shop.orders")
        assert len(frame) == RAW.num_rows and not set(frame["email"].dropna()) & set(RAW_EMAILS)
        recipients = json.loads(run(*m, "share", "recipient", "list", "--json").stdout)
        assert recipients[0]["name"] == "acme" and recipients[0]["state"] == "active"
        assert run(*m, "share", "revoke", "partners", "acme").returncode == 0
        assert client.list_shares() == []
        assert run(*m, "share", "grant", "partners", "acme").returncode == 0
        assert run(*m, "share", "recipient", "revoke", "acme").returncode == 0
        with pytest.raises(requests.HTTPError, match="401"):
            client.list_shares()
        removed = run(*m, "share", "remove", "partners", "shop.orders")
        assert removed.returncode == 0, removed.stderr
        assert run(*m, "share", "delete", "partners").returncode == 0
        assert json.loads(run(*m, "share", "list", "--json").stdout) == []
    audit = json.loads(run(*m, "audit", "--json").stdout)
    actions = {e["action"] for e in audit}
    assert {
        "share.create",
        "share.add",
        "share.recipient.create",
        "share.grant",
        "share.token",
        "share.query",
        "share.revoke",
        "share.recipient.revoke",
        "share.remove",
        "share.delete",
    } <= actions
    assert not any(doc["bearerToken"] in json.dumps(e) for e in audit)


def _readme_block(lang: str) -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Delta Sharing\n", 1)[1]
    match = re.search(rf"```{lang}\n(.*?)```", section, re.S)
    assert match, f"no {lang} block in the README's Delta Sharing section"
    return match.group(1)


def test_the_readme_sharing_walkthrough_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_mesh(tmp_path / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", RAW)
    with running_server(root) as url:
        for line in _readme_block("bash").splitlines():
            args = shlex.split(line.split("  #", 1)[0].replace("http://127.0.0.1:8080", url))
            assert args[0] == "tessera"
            result = run("-C", str(root), *args[1:], cwd=root)
            assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        monkeypatch.chdir(root)
        namespace: dict[str, Any] = {}
        exec(compile(_readme_block("python"), "README.md", "exec"), namespace)
    assert [(t.schema, t.name) for t in namespace["tables"]] == [("sales", "orders")]
    assert len(namespace["orders"]) == RAW.num_rows
    assert not set(namespace["orders"]["email"].dropna()) & set(RAW_EMAILS)


def test_masked_copies_change_types_only_where_hashing_makes_text(tmp_path: Path) -> None:
    from deltalake import Schema

    from tessera.access.model import ReadAccess
    from tessera.model.contract import Column
    from tessera.sharing.masked import view_for

    people = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "card": ["4111111111111111", "1234", None],
            "salary": pa.array([Decimal("100.50"), Decimal("200.00"), None], pa.decimal128(10, 2)),
            "age": pa.array([30, 40, 50], pa.int32()),
            "country": ["DE", "FR", "DE"],
        }
    )
    source = tmp_path / "part-0.parquet"
    pq.write_table(people, source)
    columns = (
        Column("id", "integer"),
        Column("card", "string", classification="pii", masking="partial"),
        Column("salary", "number", classification="confidential", masking="hash"),
        Column("age", "integer", classification="pii"),
        Column("country", "string"),
    )
    assert view_for(columns, ReadAccess("hr.people", clearance=True), tmp_path) is None
    assert view_for(columns[:1], ReadAccess("hr.people"), tmp_path) is None  # nothing sensitive
    view = view_for(columns, ReadAccess("hr.people", row_filters=("country = 'DE'",)), tmp_path / "masked")
    assert view is not None and view.masked == ("card", "salary", "age") and view.filtered
    copy = view.copy_of(str(source))
    assert copy.parent.parent == tmp_path / "masked" and copy.name == source.name
    rows = pq.read_table(copy).to_pylist()
    assert [r["id"] for r in rows] == [1, 3] and [r["card"] for r in rows] == ["************1111", None]
    assert rows[0]["salary"] == hashlib.sha256(b"100.50").hexdigest() and rows[1]["salary"] is None
    assert [r["age"] for r in rows] == [None, None]
    assert b"4111111111111111" not in copy.read_bytes() and b"FR" not in copy.read_bytes()
    delta = Schema.from_arrow(people.schema).to_json()
    fields = {f["name"]: f for f in json.loads(view.schema_json(delta, people.schema))["fields"]}
    assert fields["salary"]["type"] == "string" and fields["age"]["type"] == "integer"
    assert fields["id"]["type"] == "long" and all(fields[c]["nullable"] for c in view.masked)
    assert view.copy_of(str(source)).stat().st_mtime_ns == copy.stat().st_mtime_ns  # made once


def test_shares_recipients_and_tokens_on_each_catalog(mesh_on: Path) -> None:
    """The catalog side of sharing on SQLite and PostgreSQL: migration 0004, names, tokens, grants."""
    from tessera.sharing import store
    from tessera.sharing.model import SharingError

    with tessera.open(mesh_on) as mesh:
        mesh.apply()
        sharing = mesh.sharing
        share, created = sharing.create("Partners", "for partners")
        assert (share.name, created) == ("partners", True)
        assert sharing.create("partners")[1] is False
        table, _ = sharing.add("partners", "sales.orders", "Shop.Orders")
        assert (table.schema, table.name, table.major) == ("shop", "orders", None)
        with pytest.raises(tessera.errors.TesseraError, match="cannot name a share"):
            sharing.create("no spaces")
        with pytest.raises(tessera.errors.TesseraError, match="one major"):
            sharing.add("partners", "sales.orders@v3")
        with pytest.raises(tessera.errors.NotFoundError, match="no published major 7"):
            sharing.add("partners", "sales.orders@7")
        sharing.create_recipient("acme", expires_days=5)
        with pytest.raises(tessera.errors.TesseraError, match="already exists"):
            sharing.create_recipient("acme")
        assert sharing.grant("partners", "acme") and not sharing.grant("partners", "acme")
        first = sharing.profile("acme", "https://data.example.com/")
        assert first["endpoint"] == "https://data.example.com/delta-sharing"
        second = sharing.profile("acme", "https://data.example.com/sharing")
        assert second["endpoint"] == "https://data.example.com/sharing"
        catalog = mesh.ctx.catalog
        assert store.authenticate(catalog, second["bearerToken"]).name == "acme"
        with pytest.raises(SharingError, match="replaced") as replaced:
            store.authenticate(catalog, first["bearerToken"])  # a new profile replaces the old token
        assert replaced.value.code == "UNAUTHENTICATED"
        assert [s.name for s in store.granted_shares(catalog, "acme")] == ["partners"]
        assert sharing.show("partners").recipients == ("acme",)
        sharing.revoke("partners", "acme")
        with pytest.raises(tessera.errors.NotFoundError, match="no grant"):
            sharing.revoke("partners", "acme")
        assert store.granted_shares(catalog, "acme") == []
        assert sharing.remove("partners", "sales.orders").name == "orders"  # by the product's address
        assert sharing.show("partners").tables == ()
        sharing.revoke_recipient("acme")
        with pytest.raises(SharingError, match="revoked"):
            store.authenticate(catalog, second["bearerToken"])
        with pytest.raises(tessera.errors.TesseraError, match="revoked"):
            sharing.profile("acme", "https://data.example.com")
        with pytest.raises(tessera.errors.NotFoundError, match="did you mean acme"):
            sharing.revoke_recipient("acm")


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    from tests.fixtures.s3kit import moto_server

    with moto_server() as endpoint:
        yield endpoint


def test_tables_on_object_storage_are_shared_through_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str
) -> None:
    """A mesh whose tables live in S3 (a moto server): raw files are streamed from the bucket with ranges,
    masked copies are made from the bucket's files, and the recipient never needs the bucket's credentials."""
    import boto3
    import yaml

    endpoint = moto_endpoint
    credentials = {
        "AWS_ACCESS_KEY_ID": "tessera",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "us-east-1",
    }
    bucket = "lake-sharing"
    for key, value in credentials.items():
        monkeypatch.setenv(key, value)
    root = make_mesh(tmp_path / "mesh")
    doc = yaml.safe_load((root / "mesh.yaml").read_text())
    doc.update(
        storage=f"s3://{bucket}/mesh",
        storageOptions={"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true"},
        encryption={"atRest": "sse-s3"},
    )
    (root / "mesh.yaml").write_text(yaml.safe_dump(doc))
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", RAW)
        mesh.access.add_principal("steward@example.com")
        mesh.access.grant("read", "sales.orders", "steward@example.com", clearance=True)
        mesh.sharing.create("partners")
        mesh.sharing.add("partners", "sales.orders")
        mesh.sharing.create_recipient("acme")
        mesh.sharing.create_recipient("steward", principal="steward@example.com")
        mesh.sharing.grant("partners", "acme")
        mesh.sharing.grant("partners", "steward")
    with running_server(root) as url:
        shared = Shared(root, f"{url}/delta-sharing", {})
        with tessera.open(root) as mesh:
            for name in ("acme", "steward"):
                shared.profiles[name] = _profile(mesh, name, shared.url, tmp_path)
        full = delta_sharing.load_as_pandas(table_url(shared, "steward"))
        assert _orders(full) == _expected(RAW)
        _, lines = query(shared, "steward", "partners.sales.orders", {})
        file_url, size = lines[2]["file"]["url"], lines[2]["file"]["size"]
        whole = requests.get(file_url, timeout=30).content
        assert len(whole) == size and whole[:4] == b"PAR1"
        part = requests.get(file_url, headers={"Range": "bytes=4-103"}, timeout=30)
        assert part.status_code == 206 and part.headers["content-range"] == f"bytes 4-103/{size}"
        assert part.content == whole[4:104]
        head = requests.head(file_url, timeout=30)
        assert head.headers["content-length"] == str(size) and head.headers["accept-ranges"] == "bytes"
        assert requests.get(file_url, headers={"Range": f"bytes={size}-"}, timeout=30).status_code == 416
        key = (root / ".tessera" / "sharing.key").read_bytes()  # a URL forged with the mesh's own key
        prefix, token, _ = file_url.rsplit("/", 2)
        payload = token.split(".")[0]
        grant = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        table_root = grant["p"].rsplit("/", 1)[0]
        for target in (f"{table_root}/_delta_log/00000000000000000000.json", f"{table_root}/../v1/x.parquet"):
            forged = (
                base64.urlsafe_b64encode(json.dumps({**grant, "p": target}).encode()).rstrip(b"=").decode()
            )
            mac = hmac.new(key, forged.encode(), hashlib.sha256).digest()
            signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
            name = target.rsplit("/", 1)[-1]
            refused = requests.get(f"{prefix}/{forged}.{signature}/{name}", timeout=30)
            assert_protocol_error(refused, 403, "PERMISSION_DENIED", "does not name a file")
        masked = delta_sharing.load_as_pandas(table_url(shared, "acme"))
        assert len(masked) == RAW.num_rows and not set(masked["email"].dropna()) & set(RAW_EMAILS)
        response, lines = query(shared, "acme", "partners.sales.orders", {})
        served = _served_bytes(lines) + response.content
        assert not any(e.encode() in served for e in RAW_EMAILS)
        with tessera.open(root) as mesh:  # an erasure vacuums version 0's files out of the bucket
            mesh.publish("sales.orders", RAW)
            mesh.erase(f"email={RAW_EMAILS[0]}")
        for recipient in ("acme", "steward"):  # masked copies and raw files alike
            response = requests.post(
                f"{shared.url}/shares/partners/schemas/sales/tables/orders/query",
                json={"version": 0},
                headers={"Authorization": f"Bearer {token_of(shared, recipient)}"},
                timeout=60,
            )
            assert_protocol_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "no longer readable")


def test_limit_hint_returns_enough_files_in_order() -> None:
    from tessera.platform.sharing.sharing_reads import _limited

    files = [DataFile(f"f{i}", 1, rows) for i, rows in enumerate((5, 5, 5))]
    assert [f.path for f in _limited(files, 1)] == ["f0"]
    assert [f.path for f in _limited(files, 6)] == ["f0", "f1"]
    assert [f.path for f in _limited(files, 0)] == []
    assert [f.path for f in _limited(files, 100)] == ["f0", "f1", "f2"]
    assert _limited(files, None) == files
    unknown = [DataFile("a", 1, 5), DataFile("b", 1, None), DataFile("c", 1, 5)]
    assert [f.path for f in _limited(unknown, 6)] == ["a", "b", "c"]  # a count is unknown: every file


def test_openapi_documents_the_protocol(tmp_path: Path) -> None:
    from tessera.server import create_app

    spec = create_app(make_mesh(tmp_path / "mesh")).openapi()  # warnings are errors: no duplicate ids
    paths = {p for p in spec["paths"] if p.startswith("/delta-sharing/")}
    assert "/delta-sharing/shares/{share}/schemas/{schema}/tables/{table}/query" in paths
    assert set(spec["paths"]["/delta-sharing/shares/{share}/schemas/{schema}/tables/{table}/version"]) == {
        "get",
        "head",
    }
    assert not any("{rest" in p or "/files/" in p for p in paths)


def test_a_pinned_major_stays_on_its_table_and_retires_clearly(tmp_path: Path) -> None:
    """``sales.orders@1`` keeps serving major 1's table after a breaking change; ``sales.orders`` follows the
    newest major; once major 1 retires, its table answers 404 naming the successor."""
    import copy as copying

    from tests.fixtures.meshkit import ORDERS_CONTRACT

    root = make_mesh(tmp_path / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", RAW)
        mesh.sharing.create("partners")
        mesh.sharing.add("partners", "sales.orders@1", "legacy.orders")
        mesh.sharing.add("partners", "sales.orders")
        mesh.sharing.create_recipient("acme")
        mesh.sharing.grant("partners", "acme")
    contract = copying.deepcopy(ORDERS_CONTRACT)
    contract["schema"][0]["properties"] = [
        p for p in contract["schema"][0]["properties"] if p["name"] != "country"
    ]
    contract["version"] = "2.0.0"
    base = root / "domains/sales/products/orders"
    inputs = [{"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}]
    write(base / "contract.odcs.yaml", contract)
    write(base / "product.odps.yaml", product_doc("sales", "orders", contract, inputs))
    with tessera.open(root) as mesh:
        assert mesh.publish("sales.orders", V1.drop_columns(["country"])).major == 2
    with running_server(root) as url:
        with tessera.open(root) as mesh:
            shared = Shared(
                root,
                f"{url}/delta-sharing",
                {"acme": _profile(mesh, "acme", f"{url}/delta-sharing", tmp_path)},
            )
        legacy = delta_sharing.load_as_pandas(table_url(shared, "acme", "partners.legacy.orders"))
        assert len(legacy) == RAW.num_rows and "country" in legacy.columns
        newest = delta_sharing.load_as_pandas(table_url(shared, "acme", "partners.sales.orders"))
        assert len(newest) == V1.num_rows and "country" not in newest.columns
        assert delta_sharing.get_table_version(table_url(shared, "acme", "partners.sales.orders")) == 0
        with tessera.open(root) as mesh, mesh.ctx.catalog.transaction() as conn:
            conn.execute(
                update(t.majors)
                .where(t.majors.c.major == 1)
                .values(retire_after=datetime.now(UTC) - timedelta(seconds=1))
            )
        gone = get(shared, "/shares/partners/schemas/legacy/tables/orders/metadata", recipient="acme")
        assert_protocol_error(gone, 404, "RESOURCE_DOES_NOT_EXIST", "retired", "sales.orders@2")
