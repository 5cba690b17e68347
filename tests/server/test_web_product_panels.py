"""The product page's panels of issue 13 in a real Chromium over a real server: the usage tab with exact counts
after reads scripted by principals (readers named to an admin, hidden from a plain reader), the SLO panel with
the REST route's figures, the consumers tab naming finance.revenue and its owner, follow then unfollow through
the browser, and the notifications of the access tab (a principal's own, every one for an admin)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tessera
from tessera.errors import QualityGateError
from tessera.server.web_panels import percent
from tests.fixtures.meshkit import make_mesh, orders_table
from tests.fixtures.serverkit import running_server
from tests.platform.test_consumer_contracts import REVENUE_OWNER, add_revenue, de_fr

CFO = "cfo@example.com"
#: Follows sales.orders without a read grant: its page views read nothing, so the scripted counts stay exact.
FAN = "fay@example.com"
ANA, BEN, ADMIN, VIEWER = "ana@example.com", "ben@example.com", "admin@example.com", "vic@example.com"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """sales.orders read by finance.revenue (with expectations) and registered consumer cfo-office, published
    twice and refused once; FAN follows it before the second publish; ANA and BEN read it by a script and never
    browse; VIEWER (a reader) and ADMIN (a mesh admin) browse, and their previews are reads of their own."""
    root = make_mesh(tmp_path_factory.mktemp("panels") / "mesh")
    add_revenue(root)
    tokens = {}
    with tessera.open(root) as mesh:
        mesh.apply()
        for name in (ANA, BEN, ADMIN, VIEWER, FAN):
            mesh.access.add_principal(name)
            tokens[name] = mesh.access.create_token(name)[1]
        for name in (ANA, BEN, VIEWER):
            mesh.access.grant("read", "sales.orders", name)
        mesh.access.grant("admin", "mesh", ADMIN)
        mesh.publish("sales.orders", de_fr(orders_table(60)))
        mesh.notifications.subscribe("sales.orders", principal=FAN)
        mesh.publish("sales.orders", de_fr(orders_table(80)))
        with pytest.raises(QualityGateError):
            mesh.publish("sales.orders", orders_table(40, bad=True))
        mesh.read("sales.orders", limit=50)  # trusted local use: not counted
        wanted = root.parent / "cfo.yaml"  # a column the contract lacks: unmet
        wanted.write_text(json.dumps({"properties": [{"name": "discount", "logicalType": "number"}]}))
        mesh.register_consumer("cfo-office", "sales.orders", owner=CFO, file=wanted)
    with tessera.open(root, token=tokens[ANA]) as mesh:
        assert mesh.read("sales.orders", limit=5).num_rows == 5
        assert mesh.read("sales.orders", limit=7).num_rows == 7
    with tessera.open(root, token=tokens[BEN]) as mesh:
        assert mesh.read("sales.orders", limit=10).num_rows == 10
        assert mesh.query("select country, count(*) from sales.orders group by 1").num_rows == 2
    return root, tokens


@pytest.fixture(scope="module")
def base_url(built: tuple[Path, dict[str, str]]) -> Iterator[str]:
    with running_server(built[0]) as url:
        yield url


def _page(browser: Any, base_url: str, token: str | None = None) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if token:
        context.add_cookies([{"name": "tessera_token", "value": token, "url": base_url}])
    return context.new_page()


def _api(base_url: str, path: str, token: str) -> Any:
    request = urllib.request.Request(f"{base_url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def test_the_usage_tab_counts_the_scripted_reads_and_names_readers_to_an_admin(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]]
) -> None:
    tokens = built[1]
    expected = _api(base_url, "/products/sales/orders/usage", tokens[ADMIN])
    page = _page(browser, base_url, tokens[ADMIN])
    try:
        page.goto(f"{base_url}/products/sales/orders?tab=usage")
        usage = page.locator("#usage")
        assert usage.is_visible() and page.locator("#overview").is_hidden()
        shown = {k: int(usage.locator(f"#usage-{k}").inner_text()) for k in ("reads", "queries", "readers")}
        # the page's figures are the REST route's; ANA's and BEN's reads are in them exactly
        assert shown == {k: expected[k] for k in ("reads", "queries", "readers")}
        assert int(usage.locator("#usage-rows").inner_text()) == expected["rows_read"]
        rows = {
            r.locator("th").inner_text(): [c.inner_text() for c in r.locator("td").all()]
            for r in usage.locator("#usage-readers-table tbody tr").all()
        }
        assert rows[ANA][:3] == ["2", "0", "12"]
        assert rows[BEN][:3] == ["1", "1", "12"]  # 10 rows read, 2 rows of its query's answer
        browsing = [rows.get(who, ["0", "0", "0"]) for who in (ADMIN, VIEWER)]  # other tests' previews
        assert set(rows) <= {ANA, BEN, ADMIN, VIEWER}
        assert shown["reads"] - sum(int(r[0]) for r in browsing) == 3 and shown["queries"] == 1
        assert expected["rows_read"] - sum(int(r[2]) for r in browsing) == 24
        assert "Trusted local use" in usage.inner_text()
        bars = usage.locator("#usage-chart svg rect.bar")
        assert bars.count() == len(expected["daily"])
        assert f"{shown['reads']} reads, 1 queries" in bars.last.locator("title").text_content()  # all today
        assert usage.locator("#usage-chart svg title").first.text_content() == "Reads and queries per day"
        assert usage.locator("#usage-products").inner_text().split() == [
            "finance.revenue",
            "sales.daily",
        ]  # lineage
    finally:
        page.context.close()
    plain = _page(browser, base_url, tokens[VIEWER])
    try:
        plain.goto(f"{base_url}/products/sales/orders")
        plain.get_by_role("tab", name="Usage").click()
        assert plain.locator("#usage-readers-hidden").is_visible()
        assert (
            plain.locator("#usage-readers-table").count() == 0
            and ANA not in plain.locator("#usage").inner_text()
        )
    finally:
        plain.context.close()


def test_the_slo_panel_shows_the_routes_figures_and_a_chart(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]]
) -> None:
    token = built[1][VIEWER]
    expected = {o["slo"]: o for o in _api(base_url, "/products/sales/orders/slo", token)["slos"]}
    quality = expected["quality"]  # two publishes, one refused: counted by attempts, not by the clock
    assert quality["attainment"] == pytest.approx(2 / 3)
    page = _page(browser, base_url, token)
    try:
        page.goto(f"{base_url}/products/sales/orders")
        panel = page.locator("#overview #slo")
        assert panel.is_visible()
        assert sorted(s.get_attribute("id") for s in panel.locator("section.slo").all()) == sorted(
            f"slo-{name}" for name in expected
        )
        card = panel.locator("#slo-quality")
        assert card.locator(".slo-attainment").inner_text() == percent(quality["attainment"]) == "66.7%"
        assert card.locator(".slo-budget").inner_text() == percent(quality["budget_remaining"])
        assert card.locator(".slo-burn").inner_text() == f"{quality['burn_rate']:.2f}×"
        assert "quality SLO" in card.locator("svg title").first.text_content()
        measured = [d for d in quality["series"] if d["attainment"] is not None]  # the days with publishes
        assert card.locator("svg circle.dot.attain").count() == len(measured) >= 1
        assert card.locator("svg polyline.line.budget").count() == 1
        days = card.locator("table.slo-days tbody tr")
        assert days.count() == len(quality["series"])
        assert days.last.locator("td").last.text_content() == percent(
            quality["series"][-1]["budget_remaining"]
        )
    finally:
        page.context.close()


def test_the_consumers_tab_names_finance_revenue_its_owner_and_its_checks(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]]
) -> None:
    page = _page(browser, base_url, built[1][VIEWER])
    try:
        page.goto(f"{base_url}/products/sales/orders")
        page.get_by_role("tab", name="Consumers").click()
        card = page.locator("#consumer-finance-revenue")
        assert card.is_visible()
        assert card.locator(".consumer-owner").inner_text() == REVENUE_OWNER
        text = card.inner_text()
        assert "amount number required" in text and "country" in text
        assert "met by the contract" in text  # the current contract gives it every column it expects
        assert "latest run: failed" in text and "enum on country" in text  # the refused publish broke it
        assert (
            card.get_by_role("link", name="finance.revenue").get_attribute("href")
            == "/products/finance.revenue"
        )
        page.get_by_role("link", name="finance.revenue").click()  # the consumer's own page
        page.wait_for_url("**/products/finance/revenue")
        page.go_back()
        page.get_by_role("tab", name="Consumers").click()
        external = page.locator("#consumer-cfo-office")
        assert external.locator(".consumer-owner").inner_text() == CFO
        assert "column 'discount': not in the contract" in external.locator(".unmet").inner_text()
        assert external.locator(".badge.failed").inner_text() == "unmet"
    finally:
        page.context.close()


def test_follow_then_unfollow_in_the_browser(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]]
) -> None:
    page = _page(browser, base_url, built[1][VIEWER])

    def followed() -> list[str]:
        with tessera.open(built[0]) as mesh:
            return [s["address"] for s in mesh.notifications.subscriptions(principal=VIEWER)]

    try:
        page.goto(f"{base_url}/products/sales/orders")
        assert followed() == []
        page.get_by_role("button", name="Follow").click()
        page.wait_for_url("**/products/sales/orders?followed=1")
        assert "You follow sales.orders" in page.get_by_role("status").inner_text()
        assert page.locator("#follow-form button").inner_text() == "Following ✓ · Unfollow"
        assert followed() == ["sales.orders"]
        page.get_by_role("button", name="Following ✓ · Unfollow").click()
        page.wait_for_url("**/products/sales/orders?unfollowed=1")
        assert "You no longer follow sales.orders" in page.get_by_role("status").inner_text()
        assert page.locator("#follow-form button").inner_text() == "Follow"
        assert followed() == []
    finally:
        page.context.close()


def test_the_access_tab_lists_a_principals_own_notifications_and_every_one_for_an_admin(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]]
) -> None:
    tokens = built[1]
    for who, others in ((FAN, False), (ADMIN, True), (VIEWER, False), (None, False)):
        page = _page(browser, base_url, tokens[who] if who else None)
        try:
            page.goto(f"{base_url}/products/sales/orders?tab=access")
            section = page.locator("#notifications")
            assert section.is_visible()
            if who is None:
                assert "Sign in" in section.inner_text()
                # an anonymous visitor sees the usage counts, never who read
                assert page.locator("#usage-readers-hidden").count() == 1
                usage = page.locator("#usage").text_content()
                assert ANA not in usage and BEN not in usage and "Reads" in usage
                continue
            rows = section.locator("#notifications-table tbody tr").all()
            recipients = {r.locator("td").first.inner_text() for r in rows}
            if who == VIEWER:
                assert rows == [] and section.locator("#notifications-none").is_visible()
                continue
            assert FAN in recipients and (recipients == {FAN} or others)
            events = [r.locator("th").inner_text() for r in rows]
            assert any(e.startswith("version") or "publish" in e for e in events), events
            assert "@" not in section.locator("#notifications-table thead").inner_text()
        finally:
            page.context.close()
