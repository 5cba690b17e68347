"""Catalog search beyond exact words: typo tolerance (the served index agrees with the reference ranking on
every mistyped term), facet counts, the status filter and "most used" order, through the index and the REST
API (cached answers and the route's alike)."""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import tessera
from tessera.catalog.search import SearchIndex, corrections, rank
from tessera.catalog.typos import Pieces, near, pieces, within
from tessera.platform.observability.usage_counts import Popularity
from tessera.server import create_app
from tests.fixtures.meshkit import make_mesh

with warnings.catch_warnings():  # starlette's TestClient announces its move to httpx2 on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

READER = "reader@example.com"


def _docs() -> list[dict[str, Any]]:
    words = ["orders", "customers", "invoice", "shipment", "revenue", "segment", "payments", "refunds"]
    return [
        {
            "address": f"d{i % 5}.{words[i % 8]}_{i}",
            "name": f"{words[i % 8]}_{i}",
            "domain": f"d{i % 5}",
            "tags": [f"t{i % 3}", words[(i + 3) % 8]],
            "description": f"the {words[(i + 1) % 8]} of {words[(i + 5) % 8]} number {i}",
            "columns": [{"name": f"{words[(i + 2) % 8][:-1]}_id", "description": "amount in euro" * (i % 2)}],
        }
        for i in range(240)
    ]


def _typos(word: str, rng: random.Random) -> list[str]:
    """A word with a letter dropped, added, changed, and two neighbours swapped."""
    at = rng.randrange(len(word) - 1)
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    return [
        word[:at] + word[at + 1 :],
        word[:at] + letter + word[at:],
        word[:at] + letter + word[at + 1 :],
        word[:at] + word[at + 1] + word[at] + word[at + 2 :],
    ]


def test_within_is_the_optimal_string_alignment_distance() -> None:
    assert within("ordrs", "orders", 1) and within("oredrs", "orders", 1)  # a dropped letter, a swap
    assert within("custmer", "customer", 2) and within("revnue", "revenue", 1)
    assert not within("ordrs", "ordinals", 1) and not within("abcd", "wxyz", 3)
    assert pieces("sales.orders order_id v2") == ["sales", "orders", "order", "id", "v2"]
    assert Pieces(["sales.orders"]).near("ord") == []  # three letters: never corrected


def test_the_index_corrects_typos_exactly_as_the_reference() -> None:
    docs = _docs()
    index = SearchIndex(docs)
    vocabulary = {
        p for d in docs for value in (d["name"], d["description"], d["address"]) for p in pieces(value)
    }
    rng = random.Random(13)
    terms = [typo for word in sorted(vocabulary) if len(word) >= 4 for typo in _typos(word, rng)]
    terms += ["zzzz", "ordrs", "custmers payments", "invoce t1", "shipmnet euro", "revenue", "amout"]
    assert len(terms) > 40
    corrected = 0
    for term in terms:
        assert index.rank(term, 30) == rank(term, docs, 30), term
        assert index.corrections(term) == corrections(term, docs), term
        assert Pieces(vocabulary).near(term) == near(term, vocabulary), term
        corrected += bool(index.corrections(term))
    assert corrected > 25  # most typos were corrected, not found as they are
    hits = index.rank("ordrs", 100)
    assert index.corrections("ordrs") == {"ordrs": ["orders"]}
    assert hits and all("orders" in str({**h, "score": 0}) for h in hits)
    exact = index.rank("orders", 100)
    assert max(h["score"] for h in hits) < max(h["score"] for h in exact)  # a corrected hit weighs less


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, TestClient, str]]:
    root = make_mesh(tmp_path_factory.mktemp("search") / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.build(jobs=1)
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1", "C2"], "segment": ["a", "b"]}))
        mesh.access.add_principal(READER)
        token = mesh.access.create_token(READER)[1]
        mesh.access.grant("read", "mesh", READER)
    with tessera.open(root, token=token) as mesh:  # crm.customers is the most used, then sales.daily
        for _ in range(3):
            mesh.query("select count(*) from crm.customers")
        mesh.read("sales.daily")
    with TestClient(create_app(root), base_url="http://127.0.0.1") as client:
        yield root, client, token


def _addresses(hits: list[dict[str, Any]]) -> list[str]:
    return [h["address"] for h in hits]


def test_a_typo_finds_the_product(api: tuple[Path, TestClient, str]) -> None:
    _, client, _ = api
    for _ in range(2):  # the route's answer, then the kept one
        hits = client.get("/api/v1/search", params={"q": "ordrs"}).json()
        assert _addresses(hits)[0] == "sales.orders"
    found = client.get("/api/v1/search", params={"q": "ordrs", "facets": "true"}).json()
    assert found["corrections"] == {"ordrs": ["orders"]} and found["results"][0]["address"] == "sales.orders"
    with tessera.open(api[0]) as mesh:  # the SDK and `tessera catalog search` rank the same
        assert _addresses(mesh.search("ordrs")) == _addresses(hits)
    assert client.get("/api/v1/search", params={"q": "qqqqq"}).json() == []


def test_facet_counts(api: tuple[Path, TestClient, str]) -> None:
    _, client, _ = api
    for _ in range(2):
        every = client.get("/api/v1/search", params={"facets": "true"}).json()
        counts = {f: {v["value"]: v["count"] for v in vs} for f, vs in every["facets"].items()}
        assert every["total"] == 3 and len(every["results"]) == 3
        assert counts["domain"] == {"sales": 2, "crm": 1}
        assert counts["tag"] == {"sales": 2, "crm": 1}
        assert counts["owner"] == {"owner@example.com": 3}
        assert counts["status"] == {"active": 3} and counts["pii"] == {True: 1, False: 2}
        assert counts["quality"] == {"passed": 3}
    # a chosen domain narrows the other facets, and still counts the other domains
    sales = client.get("/api/v1/search", params={"facets": "true", "domain": "sales"}).json()
    counts = {f: {v["value"]: v["count"] for v in vs} for f, vs in sales["facets"].items()}
    assert (
        sales["total"] == 2 and counts["domain"] == {"sales": 2, "crm": 1} and counts["tag"] == {"sales": 2}
    )
    assert client.get("/api/v1/search", params={"status": "deprecated"}).json() == []
    assert len(client.get("/api/v1/products", params={"status": "active"}).json()) == 3


def test_most_used_first(api: tuple[Path, TestClient, str]) -> None:
    _, client, _ = api
    popular = client.get("/api/v1/search", params={"sort": "popular"}).json()
    assert _addresses(popular) == ["crm.customers", "sales.daily", "sales.orders"]
    uses = [h["uses"] for h in popular]
    assert uses[0] >= 3 and uses[1:] == [1, 0]  # crm.customers: 3, or 4 after the next test's read
    found = client.get("/api/v1/search", params={"sort": "popular", "facets": "true", "q": "sales"}).json()
    assert found["sort"] == "popular" and _addresses(found["results"]) == ["sales.daily", "sales.orders"]
    relevance = client.get("/api/v1/search").json()
    assert _addresses(relevance) == ["crm.customers", "sales.daily", "sales.orders"]  # by address
    bad = client.get("/api/v1/search", params={"sort": "loudest"})
    assert bad.status_code == 422


def test_popularity_recounts_when_the_log_grows(api: tuple[Path, TestClient, str]) -> None:
    root, _, token = api
    counts = Popularity(ttl=0.0)
    with tessera.open(root) as mesh:
        before = counts.current(mesh.ctx.catalog)
    with tessera.open(root, token=token) as mesh:
        mesh.read("crm.customers", limit=1)
    with tessera.open(root) as mesh:
        after = counts.current(mesh.ctx.catalog)
    assert after["crm.customers"] == before["crm.customers"] + 1


def test_the_cli_orders_by_use_too(api: tuple[Path, TestClient, str]) -> None:
    import json

    from tests.fixtures.meshkit import run_cli

    done = run_cli("--mesh", str(api[0]), "catalog", "search", "", "--sort", "popular", "--json")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert [h["address"] for h in hits] == ["crm.customers", "sales.daily", "sales.orders"]
    assert hits[0]["uses"] >= 3 and hits[1]["uses"] == 1
    typo = run_cli("--mesh", str(api[0]), "catalog", "search", "ordrs", "--json")
    assert json.loads(typo.stdout)[0]["address"] == "sales.orders"
    table = run_cli("--mesh", str(api[0]), "catalog", "search", "ordrs").stdout
    assert "sales.orders" in table and "no product has 'ordrs': showing orders instead" in table
