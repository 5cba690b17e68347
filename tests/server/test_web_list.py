"""The web catalog's list page: freshness and quality badges, uses in 28 days, facet counts in the filters,
typo-tolerant search with its correction shown, and "most used" order — through the ASGI client, and in a real
Chromium over a real server (typing a typo, choosing a facet and the order, a 375 px wide page)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import tessera
from tessera.catalog import open_incident
from tessera.server import create_app
from tests.fixtures.meshkit import make_mesh
from tests.fixtures.serverkit import running_server

with warnings.catch_warnings():  # starlette's TestClient announces its move to httpx2 on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

READER = "reader@example.com"


def _with_freshness(root: Path, product: str, sla: dict[str, Any]) -> None:
    path = root / f"domains/sales/products/{product}/contract.odcs.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["slaProperties"].append({"value": 2, "unit": "d", **sla})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sales.orders fresh (published now, a 2-day limit), sales.daily stale (an SLA check opened a freshness
    incident), crm.customers without a freshness SLA; crm.customers used most, then sales.daily."""
    root = make_mesh(tmp_path_factory.mktemp("list") / "mesh")
    _with_freshness(root, "orders", {"property": "freshness", "element": "orders.ordered_at"})
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.build(jobs=1)
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1", "C2"], "segment": ["a", "b"]}))
        mesh.access.add_principal(READER)
        token = mesh.access.create_token(READER)[1]
        mesh.access.grant("read", "mesh", READER)
        with mesh.ctx.catalog.transaction() as conn:
            open_incident(conn, "sales.daily", "freshness", "newest data is 3 d old", datetime.now(UTC))
    with tessera.open(root, token=token) as mesh:
        for _ in range(3):
            mesh.read("crm.customers")
        mesh.query("select count(*) from sales.daily")
    return root


@pytest.fixture(scope="module")
def client(built: Path) -> Iterator[TestClient]:
    with TestClient(create_app(built), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _hits(html: str) -> list[str]:
    return re.findall(r'<li class="hit card">\s*<h3><a href="[^"]+">([^<]+)</a>', html)


def _badges(html: str) -> dict[str, tuple[str, str, str]]:
    """address → (freshness, quality, uses) as the list shows them."""
    out = {}
    for item in html.split('<li class="hit card">')[1:]:
        address = re.search(r"<h3><a [^>]+>([^<]+)</a>", item)
        fresh = re.search(r'class="badge freshness ([a-z-]+)"', item)
        quality = re.search(r'class="badge quality ([a-z-]+)"', item)
        uses = re.search(r'<span class="uses"[^>]*>(\d+) uses? in 28 days', item)
        assert address and fresh and quality and uses, item
        out[address[1]] = (fresh[1], quality[1], uses[1])
    return out


def test_badges_on_every_hit(client: TestClient) -> None:
    page = client.get("/").text
    assert _badges(page) == {
        "crm.customers": ("no-sla", "passed", "3"),
        "sales.daily": ("stale", "passed", "1"),
        "sales.orders": ("fresh", "warning", "0"),  # its gate's freshness check: the data is from 2025
    }
    assert 'title="published within its 2 d freshness limit"' in page
    assert 'title="the last SLA check found its newest data older than its contract allows"' in page


def test_facet_counts_in_the_filters(client: TestClient) -> None:
    page = client.get("/").text
    assert '<option value="sales" >sales (2)</option>' in page and ">crm (1)</option>" in page
    assert ">Has PII (1)</option>" in page and ">active (3)</option>" in page
    narrowed = client.get("/", params={"domain": "sales"}).text
    assert _hits(narrowed) == ["sales.daily", "sales.orders"]
    assert ">crm (1)</option>" in narrowed and ">Has PII (1)</option>" in narrowed  # sales.orders' email
    quality = r'id="quality-facets">Latest quality:\s*<span class="badge passed">passed 1</span>'
    assert re.search(quality + r'<span class="badge warning">warning 1</span>', narrowed)


def test_a_typo_is_corrected_and_said(client: TestClient) -> None:
    page = client.get("/", params={"q": "ordrs"}).text
    assert _hits(page)[0] == "sales.orders"
    assert "No product has “ordrs”: showing orders instead." in page
    nothing = client.get("/", params={"q": "qqqqqq"}).text
    assert _hits(nothing) == [] and "nor a word close to it" in nothing


def test_most_used_first(client: TestClient) -> None:
    assert _hits(client.get("/", params={"sort": "popular"}).text) == [
        "crm.customers",
        "sales.daily",
        "sales.orders",
    ]
    assert _hits(client.get("/", params={"sort": "nonsense"}).text)[0] == "crm.customers"  # by address


# -- in a real browser ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base_url(built: Path) -> Iterator[str]:
    with running_server(built) as url:
        yield url


def test_search_facets_and_order_in_the_browser(browser: Any, base_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(base_url)
        hits = page.locator(".hit h3 a")
        assert hits.all_inner_texts() == ["crm.customers", "sales.daily", "sales.orders"]
        daily = page.locator(".hit", has_text="sales.daily")
        assert daily.locator(".badge.freshness").inner_text() == "stale"
        assert daily.locator(".badge.quality").inner_text() == "quality passed"
        assert (
            page.locator(".hit", has_text="sales.orders").locator(".badge.freshness").inner_text() == "fresh"
        )
        # a typo, corrected
        page.get_by_label("Search products").fill("ordrs")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(r"\?q=ordrs"))
        assert hits.first.inner_text() == "sales.orders"
        assert "showing orders instead" in page.locator("#corrections").inner_text()
        # the facets count what the search found; choose one, and most used first
        domain = page.get_by_label("Domain", exact=True)
        assert domain.locator("option").all_inner_texts() == ["Any domain", "crm (0)", "sales (2)"]
        page.get_by_label("Search products").fill("")
        domain.select_option("sales")
        page.get_by_label("Order", exact=True).select_option("popular")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(r"domain=sales.*sort=popular"))
        assert hits.all_inner_texts() == ["sales.daily", "sales.orders"]
        assert page.locator(".hit .uses").all_inner_texts() == ["1 use in 28 days", "0 uses in 28 days"]
        page.screenshot(path=str(tmp_path / "list.png"), full_page=True)
    finally:
        page.close()


def test_the_list_fits_a_narrow_screen(browser: Any, base_url: str) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 800})
    try:
        page.goto(f"{base_url}/?q=ordrs&sort=popular")
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
        )
        assert max(widths[:2]) <= widths[2], widths
    finally:
        page.close()
