"""The product page in a real Chromium over a real server: the tabs (with and without JavaScript, by mouse and
keyboard), the data preview masked for a consumer without clearance and clear for one with it, none for a
stranger or an anonymous visitor, column profiles (a sensitive column without min/max), the quality tab's failing
rows as the viewer may see them, the versions tab, the copy button; and each "how to use" snippet run as written
against the same server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tessera
from tessera.errors import QualityGateError
from tests.fixtures.meshkit import make_mesh, orders_table
from tests.fixtures.serverkit import running_server

CONSUMER, CLEARED, STRANGER = "dana@company.com", "carol@company.com", "eve@company.com"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The small mesh: sales.orders published twice, one refused publish (failing rows), three principals
    (a reader without clearance, one with, one without a grant) and a Delta Sharing share of the product."""
    root = make_mesh(tmp_path_factory.mktemp("page") / "mesh")
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.build(jobs=1)
        mesh.publish("sales.orders", orders_table(60))
        with pytest.raises(QualityGateError):
            mesh.publish("sales.orders", orders_table(40, bad=True))
        tokens = {}
        for name in (CONSUMER, CLEARED, STRANGER):
            mesh.access.add_principal(name)
            tokens[name] = mesh.access.create_token(name)[1]
        mesh.access.grant("read", "sales.orders", CONSUMER)
        mesh.access.grant("read", "sales.orders", CLEARED, clearance=True)
        mesh.sharing.create("partners")
        mesh.sharing.add("partners", "sales.orders")
        mesh.sharing.create_recipient("acme")
        mesh.sharing.grant("partners", "acme")
    return root, tokens


@pytest.fixture(scope="module")
def base_url(built: tuple[Path, dict[str, str]]) -> Iterator[str]:
    with running_server(built[0]) as url:
        yield url


def _page(browser: Any, base_url: str, token: str | None = None, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    if token:
        context.add_cookies([{"name": "tessera_token", "value": token, "url": base_url}])
    return context.new_page()


def _visible_panels(page: Any) -> list[str]:
    return page.locator('[role="tabpanel"]:visible').evaluate_all("els => els.map(e => e.id)")


def test_tabs_switch_by_click_keyboard_hash_and_without_javascript(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]]
) -> None:
    page = _page(browser, base_url, built[1][CONSUMER])
    try:
        page.goto(f"{base_url}/products/sales/orders")
        tabs = page.get_by_role("tablist").get_by_role("tab")
        assert tabs.all_inner_texts() == [
            "Overview",
            "Schema",
            "Quality",
            "Lineage",
            "Usage",
            "Consumers",
            "Contract",
            "Versions",
            "Access",
        ]
        assert _visible_panels(page) == ["overview"]
        for name, panel in (("Schema", "schema"), ("Quality", "quality"), ("Contract", "contract")):
            page.get_by_role("tab", name=name).click()
            assert _visible_panels(page) == [panel]
            assert page.get_by_role("tab", name=name).get_attribute("aria-selected") == "true"
            assert page.url.endswith(f"?tab={panel}")
        page.get_by_role("tab", name="Contract").focus()
        page.keyboard.press("ArrowRight")
        assert _visible_panels(page) == ["versions"]
        assert page.evaluate("document.activeElement.id") == "tab-versions"
        page.keyboard.press("Home")
        assert _visible_panels(page) == ["overview"]
        page.goto(f"{base_url}/products/sales/orders#lineage")  # a link to a section opens its tab
        assert _visible_panels(page) == ["lineage"]
        page.locator("#lineage-svg .node").first.wait_for()
    finally:
        page.context.close()
    plain = _page(browser, base_url, built[1][CONSUMER], java_script_enabled=False)
    try:
        plain.goto(f"{base_url}/products/sales/orders?tab=schema")
        assert _visible_panels(plain) == ["schema"]
        plain.get_by_role("tab", name="Versions").click()  # a plain link: the server renders that tab
        plain.wait_for_url(re.compile(r"\?tab=versions$"))
        assert _visible_panels(plain) == ["versions"]
        assert plain.locator("button.copy:visible").count() == 0  # copying needs JavaScript
    finally:
        plain.context.close()


def _preview(page: Any) -> list[dict[str, str]]:
    table = page.locator("#preview-table")
    heads = [h.split()[0] for h in table.locator("thead th").all_inner_texts()]
    return [
        dict(zip(heads, row, strict=True))
        for row in table.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"
        )
    ]


def test_the_preview_is_read_for_the_viewer_masked_without_clearance(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]]
) -> None:
    root, tokens = built
    seen = {}
    for who in (CONSUMER, CLEARED):
        page = _page(browser, base_url, tokens[who])
        try:
            page.goto(f"{base_url}/products/sales/orders")
            seen[who] = _preview(page)
            heads = page.locator("#preview-table thead th").all_inner_texts()
            assert not any(
                h.startswith(("_product_", "_domain", "_publish")) for h in heads
            )  # provenance hidden
            assert ("email masked" in heads) == (who == CONSUMER)
        finally:
            page.context.close()
    masked, clear = seen[CONSUMER], seen[CLEARED]
    assert len(masked) == len(clear) == 20
    assert [r["order_id"] for r in masked] == [r["order_id"] for r in clear]
    emails = [r["email"] for r in clear if r["email"]]
    assert emails and all(e.endswith("@example.com") for e in emails)
    assert not any("@example.com" in r["email"] for r in masked)
    assert any(r["email"] for r in masked)  # hashed, not dropped
    with tessera.open(root) as mesh:  # each preview is an audited read by the viewer
        reads = [e for e in mesh.access.audit(limit=50) if e.action == "data.read"]
        assert {e.details["principal"] for e in reads} >= {CONSUMER, CLEARED}
    for who in (STRANGER, None):
        page = _page(browser, base_url, tokens[who] if who else None)
        try:
            page.goto(f"{base_url}/products/sales/orders")
            assert page.locator("#preview-table").count() == 0
            note = page.locator("#preview-none").inner_text()
            assert ("may not read" in note) if who else ("Sign in" in note)
            assert not re.search(r"u[0-9]+@example\.com", page.content())  # no customer email
        finally:
            page.context.close()


def test_profiles_on_the_schema_tab(browser: Any, base_url: str, built: tuple[Path, dict[str, str]]) -> None:
    page = _page(browser, base_url, built[1][CONSUMER])
    try:
        page.goto(f"{base_url}/products/sales/orders?tab=schema")
        country = page.locator("#column-country").inner_text()
        assert "FR 20" in country and "DE 20" in country and "US 20" in country  # the newest version: 60 rows
        customer = page.locator("#column-customer_id td").all_inner_texts()
        assert customer[-5:-3] == ["0.0 %", "10"] and customer[-3:-1] == ["C0", "C9"]
        email = page.locator("#column-email").inner_text()
        assert "sensitive: counts only" in email and "25.0 %" in email and "@" not in email
        assert "approximate" in page.locator("#profile-note").inner_text()
    finally:
        page.context.close()
    stranger = _page(browser, base_url, built[1][STRANGER])
    try:
        stranger.goto(f"{base_url}/products/sales/orders?tab=schema")
        assert "FR" not in stranger.locator("#column-country").inner_text()
        assert "readers of the product only" in stranger.locator("#profile-note").inner_text()
    finally:
        stranger.context.close()


def test_quality_tab_shows_failing_rows_only_to_readers(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]]
) -> None:
    page = _page(browser, base_url, built[1][CONSUMER])
    try:
        page.goto(f"{base_url}/products/sales/orders")
        page.get_by_role("tab", name="Quality").click()
        panel = page.locator("#quality")
        assert "Latest run: failed" in panel.inner_text()
        assert "customer_id.pattern" in panel.locator("#checks").inner_text()
        runs = panel.locator("#runs tbody tr").all_inner_texts()
        assert len(runs) == 3 and "no (refused)" in runs[0] and all("yes" in r for r in runs[1:])
        samples = panel.locator(".samples", has_text="customer_id.pattern")
        assert "X3" in samples.inner_text()
        assert "email" not in samples.locator("thead").inner_text()  # sensitive columns never sampled
    finally:
        page.context.close()
    stranger = _page(browser, base_url, built[1][STRANGER])
    try:
        stranger.goto(f"{base_url}/products/sales/orders?tab=quality")
        text = stranger.locator("#quality").inner_text()
        assert "customer_id.pattern" in text and "X3" not in text
        assert "failing rows are shown to readers of the product only" in text
    finally:
        stranger.context.close()


def test_versions_tab_and_the_copy_button(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]]
) -> None:
    page = _page(browser, base_url, built[1][CONSUMER], permissions=["clipboard-read", "clipboard-write"])
    try:
        page.goto(f"{base_url}/products/sales/orders?tab=versions")
        releases = page.locator("#history tbody th").all_inner_texts()
        assert releases == ["sales.orders@v1", "sales.orders@v0"]
        assert page.locator("#history tbody tr").first.locator("td").nth(1).inner_text() == "60"
        assert "active" in page.locator("#majors").inner_text()
        page.get_by_role("tab", name="Overview").click()
        block = page.locator("#snippet-python")
        block.get_by_role("button", name="Copy").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == block.locator("code").inner_text() and 'mesh.product("sales.orders")' in copied
    finally:
        page.context.close()


def _snippets(browser: Any, base_url: str, token: str) -> dict[str, str]:
    page = _page(browser, base_url, token)
    try:
        page.goto(f"{base_url}/products/sales/orders")
        ids = page.locator(".snippet").evaluate_all("els => els.map(e => e.id)")
        return {i.removeprefix("snippet-"): page.locator(f"#{i} code").inner_text() for i in ids}
    finally:
        page.context.close()


def test_every_snippet_runs_as_written(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, tokens = built
    code = _snippets(browser, base_url, tokens[CONSUMER])
    assert set(code) == {"sql", "python", "frames", "spark", "sharing"}
    env = {
        **os.environ,
        "TESSERA_TOKEN": tokens[CONSUMER],
        "COLUMNS": "300",
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }

    def run(args: list[str], **kw: Any) -> str:
        done = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, **kw)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    # SQL: the CLI over the mesh folder, as the token's principal (masked for it)
    sql = code["sql"].strip()
    assert sql.startswith("tessera -C ") and "select * from sales.orders limit 10" in sql
    shell = sql.replace("tessera ", f"{sys.executable} -m tessera ", 1)
    out = run(["bash", "-c", shell])
    assert "order_id" in out and "@example.com" not in out
    # the SDK over this server; pandas and Polars
    assert run([sys.executable, "-c", code["python"]]).split() == ["60", "60"]
    assert run([sys.executable, "-c", code["frames"]]).strip() == "(60, 10) (60, 10)"
    # Delta Sharing: the profile file the comment names, then the snippet
    sharing = code["sharing"]
    assert "partners." in sharing and "load_as_pandas" in sharing
    with tessera.open(root) as mesh:
        profile = mesh.sharing.profile("acme", base_url)
    (tmp_path / "profile.share").write_text(json.dumps(profile))
    run([sys.executable, "-c", sharing + "print(len(df))"])
    # Spark, as written, in a file (PySpark will not load under ``python -c``), on a Spark Connect server
    pytest.importorskip("pysail", reason="running the Spark snippet needs pysail")
    from pysail.spark import SparkConnectServer

    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    try:
        ip, port = server.listening_address
        env["SPARK_REMOTE"] = f"sc://{ip}:{port}"
        (tmp_path / "spark_snippet.py").write_text(code["spark"] + "print(df.count())\n")
        assert run([sys.executable, "spark_snippet.py"]).strip().splitlines()[-1] == "60"
    finally:
        server.stop()


# -- without a browser: the ASGI client ------------------------------------------------------------------------
def test_every_tab_has_its_panel_and_an_unknown_tab_is_the_overview(
    built: tuple[Path, dict[str, str]],
) -> None:
    import warnings

    from tessera.server import create_app
    from tessera.server.web_product import TABS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    templates = Path(tessera.__file__).parent / "server/templates"
    assert len({t.id for t in TABS}) == len(TABS) and all((templates / t.panel).is_file() for t in TABS)
    with TestClient(create_app(built[0]), base_url="http://127.0.0.1") as client:
        for wanted, shown in (("versions", "versions"), ("nonsense", "overview"), ("", "overview")):
            html = client.get(f"/products/sales/orders?tab={wanted}").text
            visible = re.findall(r'<section id="([a-z]+)" class="tabpanel"[^>]*?(?<!hidden)>', html)
            assert visible == [shown], (wanted, visible)
            assert f'aria-selected="true" tabindex="0">{shown.title()}' in html


def test_preview_cells_are_escaped_and_cut(tmp_path: Path) -> None:
    import pyarrow as pa

    root = make_mesh(tmp_path / "mesh")
    hostile = "<script>alert('x')</script>" + "y" * 100
    with tessera.open(root) as mesh:
        mesh.apply()
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1"], "segment": [hostile]}))
        mesh.access.add_principal(CONSUMER)
        mesh.access.grant("read", "crm.customers", CONSUMER)
        token = mesh.access.create_token(CONSUMER)[1]
    import warnings

    from tessera.server import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    with TestClient(create_app(root), base_url="http://127.0.0.1") as client:
        client.cookies.set("tessera_token", token)
        html = client.get("/products/crm/customers").text
    assert "<script>alert" not in html
    preview = html.split('id="preview-table"', 1)[1].split("</table>", 1)[0]
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;yyyy" in preview and "y" * 60 not in preview
