"""Identity and access on SQLite and PostgreSQL: principals and groups, grants and roles (stored and from the
mesh files), revocation and expiry, row filters, tokens, access requests."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, update

import tessera
from tessera.access import authorize, identity, read_access, validate_row_filter
from tessera.access.model import ReadAccess
from tessera.catalog import tables as t
from tessera.errors import (
    AccessDeniedError,
    AuthenticationError,
    NotFoundError,
    QueryError,
    TesseraError,
)
from tessera.platform import Mesh

PAST = datetime.now(UTC) - timedelta(days=1)


@pytest.fixture
def mesh(mesh_on: Path) -> Iterator[Mesh]:
    with tessera.open(mesh_on) as opened:
        for name in ("dana@company.com", "eve@company.com", "owner@example.com"):
            opened.access.add_principal(name)
        yield opened


def audit_count(mesh: Mesh) -> int:
    with mesh.ctx.catalog.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.audit_events)).scalar_one())


def actions(mesh: Mesh) -> list[str]:
    return [e.action for e in mesh.access.audit(limit=1000)]


def test_principals_and_nested_groups(mesh: Mesh) -> None:
    access = mesh.access
    assert access.add_principal("etl-bot", "service").kind == "service"
    assert access.add_principal("etl-bot", "service").kind == "service"  # again: nothing changes
    with pytest.raises(TesseraError, match="already exists as a service"):
        access.add_principal("etl-bot", "user")
    with pytest.raises(TesseraError, match="cannot name a principal"):
        access.add_principal("local")
    access.add_principal("analysts", "group")
    access.add_principal("everyone", "group")
    access.add_member("analysts", "eve@company.com")
    access.add_member("everyone", "analysts")
    with mesh.ctx.catalog.engine.connect() as conn:
        assert identity.groups_of(conn, "eve@company.com") == {"analysts", "everyone"}
    with pytest.raises(TesseraError, match="cycle"):
        access.add_member("analysts", "everyone")
    with pytest.raises(TesseraError, match="cycle"):
        access.add_member("analysts", "analysts")
    with pytest.raises(TesseraError, match="is not a group"):
        access.add_member("eve@company.com", "dana@company.com")
    with pytest.raises(NotFoundError, match=r"unknown principal 'dana'.*dana@company\.com"):
        access.add_member("analysts", "dana")
    assert access.members("everyone") == ["analysts"]
    access.grant("read", "sales.orders", "analysts")
    access.remove_principal("analysts")
    assert access.members("everyone") == []
    assert access.grants(principal="analysts", include_inactive=True) == []
    assert [p.name for p in access.principals("group")] == ["everyone"]
    assert {"principal.add", "group.add", "grant", "principal.remove"} <= set(actions(mesh))


def test_grants_of_privileges_and_roles_on_each_scope(mesh: Mesh) -> None:
    access = mesh.access
    read, created = access.grant("read", "sales.orders", "dana@company.com")
    assert created and (read.privilege, read.role, read.clearance) == ("read", None, False)
    again, created = access.grant("read", "sales.orders", "dana@company.com")
    assert again.id == read.id and not created
    owner, _ = access.grant("product-owner", "crm.customers", "eve@company.com")
    assert (owner.privilege, owner.role, owner.clearance) == ("admin", "product owner", True)
    lead, _ = access.grant("Technical Lead", "domain:sales", "eve@company.com")
    assert (lead.privilege, lead.role) == ("publish", "technical lead")
    admin, _ = access.grant("admin", "mesh", "owner@example.com", expires_days=5)
    renewed, created = access.grant("admin", "mesh", "owner@example.com", expires_days=30)
    assert renewed.id == admin.id and not created
    assert renewed.expires_at and admin.expires_at and renewed.expires_at > admin.expires_at
    assert len(access.grants()) == 4


@pytest.mark.parametrize(
    ("privilege", "scope", "principal", "error", "message"),
    [
        ("owner", "sales.orders", "dana@company.com", TesseraError, "did you mean product-owner"),
        ("write", "sales.orders", "dana@company.com", TesseraError, "expected read, publish, admin"),
        ("read", "sales.order", "dana@company.com", NotFoundError, "no product 'sales.order'.*sales.orders"),
        ("read", "domain:sale", "dana@company.com", NotFoundError, "no domain 'sale'.*sales"),
        ("read", "sales", "dana@company.com", TesseraError, "did you mean domain:sales"),
        (
            "read",
            "sales.orders",
            "nobody@company.com",
            NotFoundError,
            "unknown principal 'nobody@company.com'",
        ),
        ("read", "sales.orders", "dana", NotFoundError, r"did you mean dana@company\.com"),
    ],
)
def test_bad_grants_change_nothing(
    mesh: Mesh, privilege: str, scope: str, principal: str, error: type[Exception], message: str
) -> None:
    before = audit_count(mesh)
    with pytest.raises(error, match=message):
        mesh.access.grant(privilege, scope, principal)
    assert mesh.access.grants(include_inactive=True) == []
    assert audit_count(mesh) == before


def test_roles_in_the_mesh_files_count_without_a_grant(mesh: Mesh) -> None:
    access = mesh.access
    # owner@example.com is the product owner of every product in tests/fixtures/meshkit.py
    assert access.authorize("owner@example.com", "admin", "sales.orders")
    assert access.authorize("owner@example.com", "read", "crm.customers")
    assert not access.authorize("owner@example.com", "admin", "domain:sales")
    # sales@example.com owns the sales domain (a principal named only in the files)
    assert access.authorize("sales@example.com", "admin", "sales.daily")
    assert access.authorize("sales@example.com", "admin", "domain:sales")
    assert not access.authorize("sales@example.com", "read", "crm.customers")
    # a domain owner that is a group in the catalog: its members hold it too
    access.add_principal("crm@example.com", "group")
    access.add_member("crm@example.com", "eve@company.com")
    decision = access.authorize("eve@company.com", "publish", "crm.customers")
    assert decision and "through group crm@example.com" in decision.reason
    assert access.grants(include_inactive=True) == []  # nothing of it was stored
    with pytest.raises(NotFoundError, match="unknown principal"):
        access.authorize("stranger@company.com", "read", "sales.orders")


def test_revoked_and_expired_grants_do_not_count_and_history_stays(mesh: Mesh) -> None:
    access = mesh.access
    made, _ = access.grant("read", "sales.orders", "dana@company.com")
    assert access.authorize("dana@company.com", "read", "sales.orders")
    revoked = access.revoke(made.id)
    assert revoked.revoked_at is not None and revoked.revoked_by == "local"
    assert not access.authorize("dana@company.com", "read", "sales.orders")
    assert access.grants() == []
    assert [g.id for g in access.grants(include_inactive=True)] == [made.id]
    assert read_access(mesh.ctx.catalog, mesh.spec, "dana@company.com", "sales.orders") is None
    other, _ = access.grant("consumer", "sales.orders", "eve@company.com")
    with mesh.ctx.catalog.transaction() as conn:
        conn.execute(update(t.grants).where(t.grants.c.id == other.id).values(expires_at=PAST))
    assert not access.authorize("eve@company.com", "read", "sales.orders")
    assert read_access(mesh.ctx.catalog, mesh.spec, "eve@company.com", "sales.orders") is None
    with pytest.raises(NotFoundError, match="holds no live read grant"):
        access.revoke_matching("read", "sales.orders", "eve@company.com")
    again, created = access.grant("consumer", "sales.orders", "eve@company.com")
    assert created and again.id != other.id  # the expired grant is not reused


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("country = 'DE' and", "is not valid SQL"),
        ("country = ", "is not valid SQL"),
        ("contry = 'DE'", "names column 'contry'"),
        ("country IN (SELECT country FROM sales.daily)", "subquery"),
        ("EXISTS (SELECT 1)", "subquery"),
        ("read_parquet('/etc/passwd') IS NOT NULL", "may not use function"),
        ("getenv('HOME') = 'x'", "may not use function"),
        ("current_setting('threads') = '4'", "may not use function"),
        ("count(*) > 1", "may not use function"),
        ("o.country = 'DE'", "may not qualify a column"),
        ("country = 'DE'; DROP TABLE x", "one predicate"),
        ("amount + 1", "not a boolean predicate"),
        ("", "is empty"),
    ],
)
def test_invalid_row_filters_are_refused(text: str, message: str) -> None:
    columns = {"order_id": "integer", "country": "string", "amount": "number", "ordered_at": "timestamp"}
    with pytest.raises(QueryError, match=message):
        validate_row_filter(text, columns)


def test_valid_row_filters_are_stored_normalised() -> None:
    columns = {"country": "string", "amount": "number", "ordered_at": "timestamp", "active": "boolean"}
    assert validate_row_filter("country='DE' -- Germany only", columns) == "country = 'DE'"
    assert validate_row_filter("Country in ('DE','FR') and amount >= 10", columns) == (
        "Country IN ('DE', 'FR') AND amount >= 10"
    )
    assert validate_row_filter("lower(country) like 'd%'", columns) == "LOWER(country) LIKE 'd%'"
    assert validate_row_filter("active", columns) == "active"
    assert validate_row_filter("region = 'EU'", None) == "region = 'EU'"  # a domain or mesh grant: unchecked


def test_row_filter_on_a_grant_is_checked_against_the_contract_and_refusals_change_nothing(
    mesh: Mesh,
) -> None:
    before = audit_count(mesh)
    with pytest.raises(QueryError, match="names column 'segment'"):
        mesh.access.grant("read", "sales.orders", "dana@company.com", row_filter="segment = 'b2b'")
    with pytest.raises(TesseraError, match="not a read grant"):
        mesh.access.grant("publish", "sales.orders", "dana@company.com", row_filter="country = 'DE'")
    assert mesh.access.grants(include_inactive=True) == [] and audit_count(mesh) == before
    made, _ = mesh.access.grant("read", "crm.customers", "dana@company.com", row_filter="segment = 'b2b'")
    assert made.row_filter == "segment = 'b2b'"


def test_read_access_combines_filters_and_clearance(mesh: Mesh) -> None:
    access, catalog, spec = mesh.access, mesh.ctx.catalog, mesh.spec
    access.add_principal("analysts", "group")
    access.add_member("analysts", "dana@company.com")
    access.grant("read", "sales.orders", "dana@company.com", row_filter="country = 'DE'")
    access.grant("consumer", "sales.orders", "analysts", row_filter="amount > 10")
    access.grant(
        "read", "domain:sales", "dana@company.com", row_filter="region = 'EU'"
    )  # no such column: skipped
    got = read_access(catalog, spec, "dana@company.com", "sales.orders")
    assert got == ReadAccess("sales.orders", False, ("amount > 10", "country = 'DE'"))
    access.grant("data-steward", "sales.orders", "analysts")
    assert read_access(catalog, spec, "dana@company.com", "sales.orders@v3") == ReadAccess(
        "sales.orders", True, ()
    )
    assert read_access(catalog, spec, "dana@company.com", "crm.customers") is None
    assert read_access(catalog, spec, "owner@example.com", "crm.customers") == ReadAccess(
        "crm.customers", True, ()
    )
    assert read_access(catalog, spec, "local", "crm.customers") == ReadAccess("crm.customers", True, ())


def test_tokens_are_random_hashed_shown_once_and_audited(mesh: Mesh) -> None:
    token_id, token = mesh.access.create_token("dana@company.com", days=3, label="laptop")
    other_id, other = mesh.access.create_token("dana@company.com")
    assert token != other and token.startswith(f"tsk_{token_id}_")
    secret = token.removeprefix(f"tsk_{token_id}_")
    with mesh.ctx.catalog.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(t.tokens)).mappings()]
        audit = [dict(r) for r in conn.execute(select(t.audit_events)).mappings()]
    assert secret not in repr(rows) and secret not in repr(audit)
    stored = next(r for r in rows if r["id"] == token_id)
    assert stored["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    listed = {tok.id: tok for tok in mesh.access.tokens()}
    assert set(listed) == {token_id, other_id}
    assert (listed[other_id].expires_at - listed[other_id].created_at).days == 90  # the default lifetime
    assert not hasattr(listed[token_id], "secret_hash")
    with tessera.open(mesh.ctx.root, token=token) as as_dana:
        assert as_dana.ctx.actor == "dana@company.com" and as_dana.ctx.authenticated
    used = next(tok for tok in mesh.access.tokens() if tok.id == token_id)
    assert used.last_used_at is not None
    last = mesh.access.audit(limit=1)[0]
    assert (last.action, last.actor, last.subject) == ("token.use", "dana@company.com", token_id)


def test_token_lifetime_default_comes_from_mesh_yaml(mesh: Mesh) -> None:
    path = mesh.ctx.root / "mesh.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "access": {"tokenDays": 7}}))
    with tessera.open(mesh.ctx.root) as fresh:
        token_id, _ = fresh.access.create_token("eve@company.com")
        made = next(tok for tok in fresh.access.tokens() if tok.id == token_id)
    assert (made.expires_at - made.created_at).days == 7


def test_revoked_expired_unknown_and_malformed_tokens_are_refused(mesh: Mesh) -> None:
    revoked_id, revoked = mesh.access.create_token("dana@company.com")
    expired_id, expired = mesh.access.create_token("eve@company.com")
    mesh.access.revoke_token(revoked_id)
    with mesh.ctx.catalog.transaction() as conn:
        conn.execute(update(t.tokens).where(t.tokens.c.id == expired_id).values(expires_at=PAST))
    wrong_secret = revoked[:-4] + ("AAAA" if not revoked.endswith("AAAA") else "BBBB")
    cases = [
        (revoked, f"token {revoked_id} was revoked"),
        (expired, f"token {expired_id} expired"),
        (wrong_secret, f"unknown token {revoked_id}"),
        ("tsk_0123456789abcdef_" + "x" * 43, "unknown token 0123456789abcdef"),
        ("not-a-token", "malformed"),
    ]
    for token, message in cases:
        with pytest.raises(AuthenticationError, match=message) as refused:
            tessera.open(mesh.ctx.root, token=token)
        assert token.split("_", 2)[-1] not in str(refused.value) or token == "not-a-token"
    rejected = [e for e in mesh.access.audit(limit=1000) if e.action == "token.rejected"]
    assert [e.details["reason"] for e in rejected] == [
        "revoked",
        "expired",
        "unknown",
        "unknown",
        "malformed",
    ]
    assert [e.subject for e in rejected][:2] == [revoked_id, expired_id]
    assert not any(secret in repr(e) for e in rejected for secret in (revoked, expired))


def test_access_request_approve_creates_the_grant_and_counts_the_consumer(mesh: Mesh) -> None:
    access = mesh.access
    request, created = access.request_access("sales.orders", "monthly revenue report", "dana@company.com")
    assert created and request.status == "pending"
    again, created = access.request_access("sales.orders", "again", "dana@company.com")
    assert again.id == request.id and not created
    assert [r.id for r in access.requests()] == [request.id]
    _, eve_token = access.create_token("eve@company.com")
    _, owner_token = access.create_token("owner@example.com")
    with tessera.open(mesh.ctx.root, token=eve_token) as as_eve, pytest.raises(AccessDeniedError) as denied:
        as_eve.access.approve(request.id)
    assert "eve@company.com may not admin sales.orders" in str(denied.value)
    assert access.requests()[0].status == "pending"
    with tessera.open(
        mesh.ctx.root, token=owner_token
    ) as as_owner:  # the product owner, from the product file
        decided, made = as_owner.access.approve(request.id, expires_days=30, row_filter="country = 'DE'")
    assert decided.status == "approved" and decided.decided_by == "owner@example.com"
    assert (made.principal, made.privilege, made.scope, made.request_id) == (
        "dana@company.com",
        "read",
        "sales.orders",
        request.id,
    )
    assert decided.grant_id == made.id and made.row_filter == "country = 'DE'"
    assert access.consumers("sales.orders") == ["dana@company.com"]
    with tessera.open(mesh.ctx.root, token=owner_token) as as_owner:
        assert as_owner.access.consumers("sales.orders") == [
            "dana@company.com"
        ]  # its owner sees who reads it
    with tessera.open(mesh.ctx.root, token=eve_token) as as_eve, pytest.raises(AccessDeniedError):
        as_eve.access.consumers("sales.orders")  # who reads a product is its owners' and admins' affair
    from tessera.access import consumer_count

    assert consumer_count(mesh.ctx.catalog, "sales.orders") == 1
    with pytest.raises(TesseraError, match=r"already approved by owner@example\.com"):
        access.approve(request.id)
    second, _ = access.request_access("crm.customers", "churn model", "eve@company.com")
    rejected = access.reject(second.id, "use the aggregated product instead")
    assert (rejected.status, rejected.reason) == ("rejected", "use the aggregated product instead")
    assert access.consumers("crm.customers") == []
    assert [r.id for r in access.requests("all")] == [request.id, second.id]
    assert {"access.request", "access.approve", "access.reject"} <= set(actions(mesh))


@pytest.mark.parametrize(
    ("address", "purpose", "principal", "error", "message"),
    [
        ("sales.order", "x", "dana@company.com", NotFoundError, "no product 'sales.order'"),
        ("sales.orders", "  ", "dana@company.com", TesseraError, "--purpose"),
        ("sales.orders", "x", "stranger@company.com", NotFoundError, "unknown principal"),
        ("domain:sales", "x", "dana@company.com", TesseraError, "requested on a product"),
    ],
)
def test_bad_access_requests_change_nothing(
    mesh: Mesh, address: str, purpose: str, principal: str, error: type[Exception], message: str
) -> None:
    before = audit_count(mesh)
    with pytest.raises(error, match=message):
        mesh.access.request_access(address, purpose, principal)
    assert mesh.access.requests("all") == [] and audit_count(mesh) == before


def test_an_enforcing_mesh_needs_a_token_for_local_use(mesh: Mesh) -> None:
    _, token = mesh.access.create_token("owner@example.com")
    path = mesh.ctx.root / "mesh.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "access": {"enforce": True}}))
    with tessera.open(mesh.ctx.root) as anonymous:
        with pytest.raises(AuthenticationError, match="pass --token or set TESSERA_TOKEN"):
            anonymous.access.grants()
        decision = authorize(anonymous.ctx.catalog, anonymous.spec, "local", "read", "sales.orders")
        assert not decision and "enforces access control" in decision.reason
    with tessera.open(mesh.ctx.root, token=token) as as_owner:
        assert as_owner.access.authorize("owner@example.com", "read", "sales.orders")
        made, _ = as_owner.access.grant("read", "sales.orders", "dana@company.com")
        assert made.granted_by == "owner@example.com"


def run(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "TESSERA_TOKEN"}
    if token:
        env["TESSERA_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_cli_token_create_shows_it_once_and_it_acts_as_the_principal(mesh_dir: Path) -> None:
    m = ("-C", str(mesh_dir))
    assert run(*m, "principal", "add", "dana@company.com").returncode == 0
    created = run(*m, "token", "create", "dana@company.com", "--days", "2")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("tsk_") and "will not be shown again" not in created.stdout
    assert "shown once" in created.stderr
    listed = run(*m, "token", "list", "--json")
    assert token.split("_", 2)[2] not in listed.stdout
    denied = run(*m, "grants", token=token)
    assert denied.returncode == 3 and "dana@company.com may not admin mesh" in denied.stderr
    mine = run(*m, "--token", token, "grants", "--principal", "dana@company.com", "--json")
    assert mine.returncode == 0 and mine.stdout.strip() == "[]"
    token_id = token.split("_")[1]
    assert run(*m, "--token", token, "token", "revoke", token_id).returncode == 0
    refused = run(*m, "--token", token, "grants", "--principal", "dana@company.com")
    assert refused.returncode == 4 and f"token {token_id} was revoked" in refused.stderr
    assert token.split("_", 2)[2] not in refused.stderr
    bad = run(*m, "grant", "read", "sales.orders", "dana@company.com", "--row-filter", "country = (")
    assert bad.returncode == 1 and "is not valid SQL" in bad.stderr and "Traceback" not in bad.stderr


def test_the_governance_doc_walkthrough_runs(mesh_dir: Path) -> None:
    """The console example in docs/governance.md's identity section, command by command."""
    import re
    import shlex

    doc = (Path(__file__).resolve().parents[2] / "docs/governance.md").read_text()
    section = doc.split("## Identity, grants, tokens, access requests, audit", 1)[1]
    block = re.search(r"```console\n(.*?)```", section, re.S)
    assert block
    commands = [
        line[2:].split("  #", 1)[0].strip() for line in block[1].splitlines() if line.startswith("$ ")
    ]
    assert len(commands) >= 5
    for command in commands:
        result = run("-C", str(mesh_dir), *shlex.split(command)[1:])
        assert result.returncode == 0, f"{command}\n{result.stderr}"


def test_apply_needs_publish_on_each_product_and_admin_for_domains(mesh: Mesh) -> None:
    mesh.apply()
    for address in ("sales.orders", "crm.customers"):  # contracts change: both products must be updated
        path = mesh.ctx.root / "domains" / address.split(".")[0] / "products" / address.split(".")[1]
        doc = yaml.safe_load((path / "product.odps.yaml").read_text())
        doc["description"] = {**doc.get("description", {}), "purpose": "changed " + address}
        (path / "product.odps.yaml").write_text(yaml.safe_dump(doc))
    mesh.access.grant("publish", "domain:sales", "dana@company.com")
    mesh.access.grant("publish", "mesh", "eve@company.com")
    _, dana = mesh.access.create_token("dana@company.com")
    _, eve = mesh.access.create_token("eve@company.com")
    path = mesh.ctx.root / "mesh.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "access": {"enforce": True}}))
    with tessera.open(mesh.ctx.root) as anonymous, pytest.raises(AuthenticationError):
        anonymous.apply()
    with tessera.open(mesh.ctx.root, token=dana) as as_dana:
        before = as_dana.plan()
        with pytest.raises(AccessDeniedError, match=r"crm\.customers"):
            as_dana.apply()  # publish on sales only: nothing is applied, not even the sales change
        assert as_dana.plan().steps == before.steps
    with tessera.open(mesh.ctx.root, token=eve) as as_eve:
        assert not as_eve.apply().empty
        assert as_eve.plan().empty


def test_an_enforcing_mesh_shows_its_catalog_to_identified_callers_only(mesh: Mesh) -> None:
    mesh.apply()
    _, token = mesh.access.create_token("dana@company.com")
    path = mesh.ctx.root / "mesh.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "access": {"enforce": True}}))
    with tessera.open(mesh.ctx.root) as anonymous:
        for look in (
            anonymous.catalog_summary,
            lambda: anonymous.search("orders"),
            lambda: anonymous.show("sales.orders"),
            lambda: anonymous.lineage("sales.orders"),
            lambda: anonymous.product("sales.orders").history(),
        ):
            with pytest.raises(AuthenticationError):
                look()
    with tessera.open(mesh.ctx.root, token=token) as identified:
        assert identified.search("orders") and identified.show("sales.orders")
        assert identified.catalog_summary()["products"]
