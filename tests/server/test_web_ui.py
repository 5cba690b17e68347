"""The web catalog: HTML routes through the ASGI client (pages, friendly errors, escaping, sign-in, CSRF), and
the whole flow in a real Chromium over a real server (search → product → lineage click-through, expand and
column highlight → access request as a consumer → approval as the owner → the grant exists), plus a 375 px
wide page without horizontal overflow and keyboard-only search."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import tessera
from tessera.server import create_app
from tessera.server.web_lineage import NODE_WIDTH, layout
from tests.fixtures.meshkit import make_mesh
from tests.fixtures.serverkit import running_server

with warnings.catch_warnings():  # starlette's TestClient announces its move to httpx2 on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

XSS = "<script>alert('x')</script> & <b>bold</b>"
CONSUMER, OWNER, STRANGER = "dana@company.com", "owner@example.com", "eve@company.com"


def _built_mesh(root: Path, *, enforce: bool = False) -> tuple[Path, dict[str, str]]:
    """The small test mesh, built and published, with a hostile description and a token per principal."""
    make_mesh(root)
    path = root / "domains/crm/products/customers/product.odps.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["description"]["purpose"] = XSS
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    tokens = {}
    with tessera.open(root) as mesh:
        mesh.apply()
        if not enforce:
            outcomes = {o.address: o.status for o in mesh.build(jobs=1)}
            assert outcomes["sales.orders"] == outcomes["sales.daily"] == "published", outcomes
            mesh.publish("crm.customers", pa.table({"customer_id": ["C1", "C2"], "segment": ["a", "b"]}))
        for name in (CONSUMER, OWNER, STRANGER):
            mesh.access.add_principal(name)
            tokens[name] = mesh.access.create_token(name)[1]
    if enforce:  # set up as the trusted local user first, then lock the mesh
        settings = yaml.safe_load((root / "mesh.yaml").read_text())
        (root / "mesh.yaml").write_text(yaml.safe_dump({**settings, "access": {"enforce": True}}))
    return root, tokens


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    return _built_mesh(tmp_path_factory.mktemp("web") / "mesh")


@pytest.fixture(scope="module")
def client(built: tuple[Path, dict[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(built[0]), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture
def anonymous(client: TestClient) -> Iterator[TestClient]:
    client.cookies.clear()
    yield client
    client.cookies.clear()


def signed_in(client: TestClient, token: str) -> TestClient:
    client.cookies.clear()
    client.cookies.set("tessera_token", token)
    return client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def hit_addresses(html: str) -> list[str]:
    return re.findall(r'<li class="hit card">\s*<h3><a href="[^"]+">([^<]+)</a>', html)


# -- pages through the ASGI client ---------------------------------------------------------------------------
def test_pages_render(anonymous: TestClient) -> None:
    home = anonymous.get("/")
    assert home.status_code == 200 and "text/html" in home.headers["content-type"]
    assert hit_addresses(home.text) == ["crm.customers", "sales.daily", "sales.orders"]
    assert "default-src 'self'" in home.headers["content-security-policy"]
    domain = anonymous.get("/domains/sales")
    assert domain.status_code == 200
    assert 'href="/products/sales/orders"' in domain.text and "passed" in domain.text
    page = anonymous.get("/products/sales/orders")
    assert page.status_code == 200
    text = page.text
    # schema: columns, types, classification and masking
    assert re.search(r"<code>email</code></th>\s*<td>string</td>.*?pii.*?<td>hash</td>", text, re.S)
    assert "<td>decimal(10,2)</td>" in text
    # contract rendered and raw, SLA status, quality chart, versions, owners
    assert "<code>sales-orders</code>" in text and "apiVersion: v3.1.0" in text
    assert re.search(r"<dt>State</dt><dd><span class=\"badge state-(ok|warning|breach)\">", text)
    assert '<svg class="chart"' in text and "1 quality runs" in text
    assert "sales.orders@v0" in text or "<code>v0</code>" in text
    assert "<dt>product owner</dt><dd>owner@example.com</dd>" in text
    assert 'id="lineage-data"' in text and '"root": "sales.orders"' in text
    assert anonymous.get("/products/sales.orders", follow_redirects=False).headers["location"] == (
        "/products/sales/orders"
    )


def test_search_ranks_and_filters(anonymous: TestClient) -> None:
    # "orders": the product named so first, then the one with an `orders` column
    assert hit_addresses(anonymous.get("/", params={"q": "orders"}).text) == ["sales.orders", "sales.daily"]
    assert hit_addresses(anonymous.get("/", params={"q": "orders", "domain": "crm"}).text) == []
    assert hit_addresses(anonymous.get("/", params={"domain": "crm"}).text) == ["crm.customers"]
    assert hit_addresses(anonymous.get("/", params={"pii": "yes"}).text) == ["sales.orders"]
    assert hit_addresses(anonymous.get("/", params={"pii": "true"}).text) == [
        "sales.orders"
    ]  # the API's form
    assert hit_addresses(anonymous.get("/", params={"pii": "no", "tag": "sales"}).text) == ["sales.daily"]
    assert hit_addresses(anonymous.get("/", params={"owner": "crm@example.com"}).text) == []
    assert hit_addresses(anonymous.get("/", params={"q": "segment"}).text) == ["crm.customers"]
    empty = anonymous.get("/", params={"q": "nothing-like-this"})
    assert empty.status_code == 200 and "No products match" in empty.text


def test_unknown_things_are_friendly_pages(anonymous: TestClient) -> None:
    for url, says in (
        ("/products/sales/nope", "no product &#39;sales.nope&#39;"),
        ("/domains/nowhere", "no domain &#39;nowhere&#39;"),
        ("/products/nodots", "is not a product address"),
    ):
        page = anonymous.get(url)
        assert page.status_code == 404, url
        assert "<h1>Not found</h1>" in page.text and says in page.text
        assert "Traceback" not in page.text and 'href="/"' in page.text
    missing = anonymous.get("/ui/lineage/sales/orders.json", params={"column": "nope"})
    assert missing.status_code == 404 and "no column 'nope'" in missing.json()["detail"]
    assert anonymous.get("/ui/lineage/sales/nope.json").status_code == 404
    assert anonymous.get("/ui/static/../web.py").status_code == 404
    assert anonymous.get("/ui/static/nope.css").status_code == 404


def test_user_text_is_escaped(anonymous: TestClient) -> None:
    search = anonymous.get("/", params={"q": XSS})
    assert (
        "<script>alert" not in search.text
        and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in search.text
    )
    for url in ("/products/crm/customers", "/", "/domains/crm"):
        page = anonymous.get(url)
        assert "<script>alert" not in page.text and "<b>bold</b>" not in page.text, url
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page.text, (
            url
        )


def test_lineage_json_expands_and_goes_to_column_level(anonymous: TestClient) -> None:
    graph = anonymous.get("/ui/lineage/sales/daily.json").json()
    assert {n["id"] for n in graph["nodes"]} == {"sales.daily", "sales.orders"}
    assert graph["more_up"] and not graph["more_down"]
    orders = next(n for n in graph["nodes"] if n["id"] == "sales.orders")
    assert orders["href"] == "/products/sales/orders#lineage" and orders["side"] == "upstream"
    deeper = anonymous.get("/ui/lineage/sales/daily.json", params={"up": 2}).json()
    assert "source.pos.orders" in {n["id"] for n in deeper["nodes"]} and not deeper["more_up"]
    column = anonymous.get("/ui/lineage/sales/daily.json", params={"column": "revenue", "up": 2}).json()
    assert column["level"] == "column" and column["root"] == "sales.daily.revenue"
    assert {"from": "sales.orders.amount", "to": "sales.daily.revenue", "kind": "aggregation"} in column[
        "edges"
    ]
    assert {"from": "source.pos.orders.amount", "to": "sales.orders.amount", "kind": "identity"} in column[
        "edges"
    ]


def test_layout_is_layered_left_to_right() -> None:
    edges = {("a", "b", "input"), ("b", "c", "input"), ("a", "c", "input"), ("d", "c", "input")}
    at = layout({"a", "b", "c", "d"}, edges)
    for source, target, _ in edges:
        assert at[source][0] + NODE_WIDTH <= at[target][0], (source, target)
    assert at["a"][0] == at["d"][0] == 0  # nodes without inputs start the first layer
    assert len(set(at.values())) == 4  # no two boxes on one spot
    assert layout({"x", "y"}, {("x", "y", "i"), ("y", "x", "i")})  # a cycle still lays out


def test_sign_in_sets_a_strict_http_only_cookie(
    anonymous: TestClient, built: tuple[Path, dict[str, str]]
) -> None:
    form = anonymous.get("/login", params={"next": "/domains/sales"})
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert form.status_code == 200 and nonce and '<label for="token">API token</label>' in form.text
    bad = anonymous.post("/login", data={"nonce": nonce.group(1), "token": "tsk_nope", "next": "/"})
    assert bad.status_code == 401 and "That token does not work" in bad.text and "tsk_nope" not in bad.text
    forged = anonymous.post("/login", data={"nonce": "forged", "token": built[1][CONSUMER], "next": "/"})
    assert forged.status_code == 403 and "tessera_token" not in forged.headers.get("set-cookie", "")
    good = anonymous.post(
        "/login",
        data={"nonce": nonce.group(1), "token": built[1][CONSUMER], "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/"
    cookie = next(c for c in good.headers.get_list("set-cookie") if c.startswith("tessera_token="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    home = anonymous.get("/")
    assert f"Signed in as <strong>{CONSUMER}</strong>" in home.text
    out = anonymous.post("/logout", data={"csrf": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303 and 'tessera_token=""' in out.headers["set-cookie"]


def test_changes_need_sign_in_and_a_csrf_token(
    client: TestClient, built: tuple[Path, dict[str, str]]
) -> None:
    root, tokens = built
    client.cookies.clear()
    assert client.get("/approvals", follow_redirects=False).headers["location"] == "/login?next=%2Fapprovals"
    anonymous = client.post(
        "/products/crm/customers/access-requests", data={"purpose": "x"}, follow_redirects=False
    )
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    signed_in(client, tokens[STRANGER])
    forged = client.post("/products/crm/customers/access-requests", data={"purpose": "x", "csrf": "0" * 64})
    assert forged.status_code == 403 and "did not come from this site" in forged.text
    page = client.get("/products/crm/customers")
    empty = client.post(
        "/products/crm/customers/access-requests", data={"purpose": " ", "csrf": csrf_of(page.text)}
    )
    assert empty.status_code == 400 and "Say what you need the data for" in empty.text
    with tessera.open(root) as mesh:
        assert mesh.access.requests("all", address="crm.customers") == []
    # a principal who may not decide sees nothing to approve and cannot approve by posting
    done = client.post(
        "/products/crm/customers/access-requests",
        data={"purpose": "churn study", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("?requested=1#access")
    with tessera.open(root) as mesh:
        [request] = mesh.access.requests("pending", address="crm.customers")
    queue = client.get("/approvals")
    assert "No pending requests for products you can approve" in queue.text
    refused = client.post(
        f"/approvals/{request.id}", data={"decision": "approve", "csrf": csrf_of(queue.text)}
    )
    assert refused.status_code == 403 and "may not admin crm.customers" in refused.text
    signed_in(client, tokens[OWNER])
    queue = client.get("/approvals")
    assert f'id="request-{request.id}"' in queue.text and "churn study" in queue.text
    rejected = client.post(
        f"/approvals/{request.id}",
        data={"decision": "reject", "reason": "use sales.daily", "csrf": csrf_of(queue.text)},
    )
    assert rejected.status_code == 200
    assert f"Request #{request.id} rejected: {STRANGER} on crm.customers." in rejected.text
    client.cookies.clear()


def test_an_enforcing_mesh_sends_visitors_to_sign_in(tmp_path: Path) -> None:
    root, tokens = _built_mesh(tmp_path / "mesh", enforce=True)
    with TestClient(create_app(root), base_url="http://127.0.0.1") as enforced:
        for url in ("/", "/products/sales/orders", "/domains/sales"):
            answer = enforced.get(url, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=%2F"), url
        assert enforced.get("/ui/lineage/sales/orders.json").status_code == 401
        assert "enforces access control" in enforced.get("/login").text
        enforced.cookies.set("tessera_token", "tsk_0123456789abcdef_" + "x" * 43)
        stale = enforced.get("/", follow_redirects=False)
        assert stale.status_code == 303 and 'tessera_token=""' in stale.headers["set-cookie"]
        assert "token expired or was revoked" in enforced.get(stale.headers["location"]).text
        signed_in(enforced, tokens[CONSUMER])
        assert enforced.get("/").status_code == 200


def test_assets_are_local_and_ship_with_the_package() -> None:
    """No page or asset loads anything from another host, and the wheel carries every template and asset."""
    import tomllib
    from fnmatch import fnmatch

    package = Path(tessera.__file__).parent
    files = sorted((package / "server/templates").rglob("*.html")) + sorted(
        (package / "server/static").glob("*")
    )
    assert {f.name for f in files} >= {"base.html", "product.html", "tessera.css", "lineage.js"}
    for file in files:
        text = file.read_text().replace("http://www.w3.org/2000/svg", "")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), (
            f"{file.name} names another host"
        )
    globs = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["tessera"]
    for file in files:
        inside = file.relative_to(package).as_posix()
        assert any(fnmatch(inside, g) for g in globs), f"{inside} is not package data"


# -- in a real browser ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base_url(built: tuple[Path, dict[str, str]]) -> Iterator[str]:
    with running_server(built[0]) as url:
        yield url


def sign_in(page: Any, base_url: str, token: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def test_search_product_and_lineage_click_through(browser: Any, base_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(base_url)
        page.get_by_label("Search products").fill("orders")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(r"\?q=orders"))
        assert page.locator(".hit h3 a").all_inner_texts() == ["sales.orders", "sales.daily"]
        page.locator(".hit h3 a", has_text="sales.orders").click()
        page.wait_for_url(f"{base_url}/products/sales/orders")
        assert page.locator("h1").inner_text() == "sales.orders"
        page.get_by_role("tab", name="Lineage").click()
        # the graph: click the downstream node, land on its page
        node = page.locator('#lineage-svg a.node[data-id="sales.daily"]')
        assert "downstream" in (node.get_attribute("aria-label") or "")
        node.click()
        page.wait_for_url(f"{base_url}/products/sales/daily#lineage")
        assert page.locator("h1").inner_text() == "sales.daily"
        nodes = page.locator("#lineage-svg .node")
        assert sorted(nodes.evaluate_all("els => els.map(e => e.dataset.id)")) == [
            "sales.daily",
            "sales.orders",
        ]
        # expand one more level upstream: the source table appears, and there is nothing further
        expand = page.get_by_role("button", name="Expand upstream")
        expand.click()
        page.locator('#lineage-svg .node[data-id="source.pos.orders"]').wait_for()
        assert expand.is_disabled() and "2 levels upstream" in page.locator("#lineage-status").inner_text()
        # pan and zoom: keyboard +, the wheel and a drag each move the view box
        view = page.locator("#lineage-view")
        before = page.locator("#lineage-svg").get_attribute("viewBox")
        view.focus()
        page.keyboard.press("+")
        zoomed = page.locator("#lineage-svg").get_attribute("viewBox")
        assert zoomed != before and float(zoomed.split()[2]) < float(before.split()[2])
        box = view.bounding_box()
        page.mouse.move(box["x"] + 20, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(box["x"] + 120, box["y"] + 60, steps=5)
        page.mouse.up()
        assert page.locator("#lineage-svg").get_attribute("viewBox") != zoomed
        # the column selector: column-level edges, highlighted
        page.get_by_label("Column", exact=True).select_option("revenue")
        page.locator('#lineage-svg .node[data-id="sales.orders.amount"]').wait_for()
        highlighted = page.locator("#lineage-svg path.edge.column")
        assert highlighted.count() >= 2
        assert page.locator('#lineage-svg path.edge[data-from="sales.orders.amount"]').get_attribute(
            "class"
        ) == ("edge kind-aggregation column")
        page.screenshot(path=str(tmp_path / "lineage.png"), full_page=True)
        # a column node leads to that product's page with the column selected
        page.locator('#lineage-svg a.node[data-id="sales.orders.amount"]').click()
        page.wait_for_url(f"{base_url}/products/sales/orders?column=amount#lineage")
        page.locator('#lineage-svg .node.root[data-id="sales.orders.amount"]').wait_for()
    finally:
        page.close()


def test_access_request_then_approval_in_the_browser(
    browser: Any, base_url: str, built: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    root, tokens = built
    consumer = browser.new_context(viewport={"width": 1280, "height": 900})
    owner = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = consumer.new_page()
        sign_in(page, base_url, tokens[CONSUMER])
        page.goto(f"{base_url}/products/sales/orders?tab=access")
        page.get_by_label("Why do you need read access to sales.orders?").fill("monthly revenue report")
        page.get_by_role("button", name="Request access").click()
        page.wait_for_url(re.compile(r"requested=1#access$"))
        assert "is waiting for an owner's decision" in page.locator("#access-state").inner_text()
        page.screenshot(path=str(tmp_path / "requested.png"), full_page=True)
        with tessera.open(root) as mesh:
            [request] = mesh.access.requests("pending", address="sales.orders")
            assert (request.principal, request.purpose) == (CONSUMER, "monthly revenue report")

        approver = owner.new_page()
        sign_in(approver, base_url, tokens[OWNER])
        approver.get_by_role("link", name="Approvals").click()
        item = approver.locator(f"#request-{request.id}")
        assert "monthly revenue report" in item.inner_text()
        item.get_by_label("Grant for (days, optional)").fill("30")
        item.get_by_role("button", name=f"Approve request {request.id} from {CONSUMER}").click()
        approver.wait_for_url(re.compile(rf"done=approved-{request.id}$"))
        notice = approver.locator(".notice").inner_text()
        assert notice == f"Request #{request.id} approved: {CONSUMER} may now read sales.orders."
        approver.screenshot(path=str(tmp_path / "approved.png"), full_page=True)
        with tessera.open(root) as mesh:
            assert mesh.access.authorize(CONSUMER, "read", "sales.orders").allowed
            [grant] = [g for g in mesh.access.grants(principal=CONSUMER) if g.request_id == request.id]
            assert (grant.privilege, grant.scope) == ("read", "sales.orders")
            assert grant.expires_at is not None and grant.granted_at is not None
            assert (grant.expires_at - grant.granted_at).days == 30
        page.reload()
        assert f"{CONSUMER} can read this product" in page.locator("#access").inner_text()
    finally:
        consumer.close()
        owner.close()


def test_narrow_screen_has_no_horizontal_overflow(browser: Any, base_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 375, "height": 800})
    try:
        for url in ("/products/sales/orders", "/", "/domains/sales"):
            page.goto(base_url + url)
            widths = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
            )
            assert max(widths[:2]) <= widths[2], (url, widths)
        page.goto(base_url + "/products/sales/orders")
        page.screenshot(path=str(tmp_path / "narrow.png"), full_page=True)
    finally:
        page.close()


def test_keyboard_alone_reaches_search_and_submits(browser: Any, base_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1024, "height": 800})
    try:
        page.goto(base_url)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        reached = []
        for _ in range(20):
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.id"))
            if reached[-1] == "q":
                break
        assert reached[-1] == "q", reached
        page.keyboard.type("daily")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "search-submit"
        focus_ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert focus_ring == "solid"
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"\?q=daily"))
        assert page.locator(".hit h3 a").all_inner_texts() == ["sales.daily"]
        page.screenshot(path=str(tmp_path / "keyboard.png"))
        # every node of the graph is a link Tab reaches, with an accessible name
        page.goto(base_url + "/products/sales/daily")
        names = page.locator("#lineage-svg a.node").evaluate_all(
            "els => els.map(e => e.getAttribute('aria-label'))"
        )
        assert names and all(n and "opens its product page" in n for n in names)
    finally:
        page.close()
