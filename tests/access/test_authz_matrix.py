"""The authorisation matrix: every action × every role or grant × granted or not, on SQLite and PostgreSQL.

The expected outcomes are written out by hand below (not computed by the rules under test). Subjects hold one
thing each: a role in sales.orders' product file, owning the sales domain (domain file), a stored role or a
read/publish/admin grant on the product, its domain or the mesh, a grant through a nested group, a grant on
another domain, a revoked grant, an expired grant, or nothing. A revoked and an expired token are refused
before any action. A few rows also run through the CLI (exit code and message).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from sqlalchemy import update

import tessera
from tessera.access import authorize, require
from tessera.catalog import Catalog
from tessera.catalog import tables as t
from tessera.errors import AccessDeniedError, AuthenticationError
from tessera.model.product import MeshSpec
from tests.conftest import PG_URL, _pg_available
from tests.fixtures.meshkit import make_mesh, orders_table

PAST = datetime.now(UTC) - timedelta(days=1)

# The columns of the table: an action on a resource.
CHECKS: list[tuple[str, str]] = [
    ("read", "sales.orders"),
    ("publish", "sales.orders"),
    ("admin", "sales.orders"),
    ("govern", "sales.orders"),
    ("read", "crm.customers"),
    ("audit", "mesh"),
    ("erase", "mesh"),
]

Y, N = True, False

#                                  orders: read publish admin govern | customers: read | audit erase
EXPECTED: dict[str, tuple[bool, bool, bool, bool, bool, bool, bool]] = {
    "po@example.com":                 (Y, Y, Y, Y, N, N, N),  # product owner in the product file
    "lead@example.com":               (Y, Y, N, N, N, N, N),  # technical lead in the product file
    "steward@example.com":            (Y, N, N, Y, N, N, N),  # data steward in the product file
    "reader@example.com":             (Y, N, N, N, N, N, N),  # consumer in the product file
    "sales@example.com":              (Y, Y, Y, Y, N, N, N),  # owner of the sales domain (domain file)
    "role-owner":                     (Y, Y, Y, Y, N, N, N),  # grant product-owner on sales.orders
    "role-lead":                      (Y, Y, N, N, N, N, N),  # grant technical-lead on sales.orders
    "role-steward":                   (Y, N, N, Y, N, N, N),  # grant data-steward on sales.orders
    "role-consumer":                  (Y, N, N, N, N, N, N),  # grant consumer on sales.orders
    "read-product":                   (Y, N, N, N, N, N, N),
    "publish-product":                (Y, Y, N, N, N, N, N),
    "admin-product":                  (Y, Y, Y, Y, N, N, N),
    "read-domain":                    (Y, N, N, N, N, N, N),  # on domain:sales
    "publish-domain":                 (Y, Y, N, N, N, N, N),
    "admin-domain":                   (Y, Y, Y, Y, N, N, N),
    "read-mesh":                      (Y, N, N, N, Y, N, N),
    "publish-mesh":                   (Y, Y, N, N, Y, N, N),
    "admin-mesh":                     (Y, Y, Y, Y, Y, Y, Y),
    "crm-reader":                     (N, N, N, N, Y, N, N),  # read on domain:crm only
    "group-member":                   (Y, Y, N, N, N, N, N),  # in inner ⊂ outer; outer has publish on domain:sales
    "revoked-admin":                  (N, N, N, N, N, N, N),  # admin on mesh, revoked
    "expired-admin":                  (N, N, N, N, N, N, N),  # admin on mesh, expired
    "nobody":                         (N, N, N, N, N, N, N),  # known, holds nothing
}  # fmt: skip

#: The grants each subject is given (privilege or role, scope); file roles need none.
GRANTS: dict[str, tuple[str, str]] = {
    "role-owner": ("product-owner", "sales.orders"),
    "role-lead": ("technical-lead", "sales.orders"),
    "role-steward": ("data-steward", "sales.orders"),
    "role-consumer": ("consumer", "sales.orders"),
    "read-product": ("read", "sales.orders"),
    "publish-product": ("publish", "sales.orders"),
    "admin-product": ("admin", "sales.orders"),
    "read-domain": ("read", "domain:sales"),
    "publish-domain": ("publish", "domain:sales"),
    "admin-domain": ("admin", "domain:sales"),
    "read-mesh": ("read", "mesh"),
    "publish-mesh": ("publish", "mesh"),
    "admin-mesh": ("admin", "mesh"),
    "crm-reader": ("read", "domain:crm"),
    "outer": ("publish", "domain:sales"),
    "revoked-admin": ("admin", "mesh"),
    "expired-admin": ("admin", "mesh"),
}

MATRIX = [
    pytest.param(
        subject, action, resource, allowed, id=f"{subject}-{action}-{resource}-{'yes' if allowed else 'no'}"
    )
    for subject, row in EXPECTED.items()
    for (action, resource), allowed in zip(CHECKS, row, strict=True)
]


@dataclass
class World:
    root: Path
    catalog: Catalog
    spec: MeshSpec
    tokens: dict[str, str] = field(default_factory=dict)


def _build(root: Path, catalog_url: str) -> World:
    make_mesh(root, catalog=catalog_url)
    product_file = root / "domains/sales/products/orders/product.odps.yaml"
    doc = yaml.safe_load(product_file.read_text())
    doc["team"] = {
        "members": [
            {"username": "po@example.com", "role": "product owner"},
            {"username": "lead@example.com", "role": "technical lead"},
            {"username": "steward@example.com", "role": "data steward"},
            {"username": "reader@example.com", "role": "consumer"},
        ]
    }
    product_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    with tessera.open(root) as mesh:
        access = mesh.access
        for name in [n for n in EXPECTED if "@" not in n]:
            access.add_principal(name)
        access.add_principal("po@example.com")
        access.add_principal("outer", "group")
        access.add_principal("inner", "group")
        access.add_member("outer", "inner")
        access.add_member("inner", "group-member")
        ids = {
            name: access.grant(privilege, scope, name)[0].id for name, (privilege, scope) in GRANTS.items()
        }
        access.revoke(ids["revoked-admin"])
        tokens = {
            name: access.create_token(name, days=5)[1]
            for name in ("admin-mesh", "admin-domain", "read-product")
        }
        tokens |= {
            name: access.create_token(name, days=5)[1]
            for name in ("publish-domain", "crm-reader", "po@example.com")
        }
        revoked_id, tokens["revoked-token"] = access.create_token("admin-mesh", days=5)
        expired_id, tokens["expired-token"] = access.create_token("admin-mesh", days=5)
        access.revoke_token(revoked_id)
        with mesh.ctx.catalog.transaction() as conn:
            conn.execute(
                update(t.grants).where(t.grants.c.id == ids["expired-admin"]).values(expires_at=PAST)
            )
            conn.execute(update(t.tokens).where(t.tokens.c.id == expired_id).values(expires_at=PAST))
        spec = mesh.spec
    return World(root, Catalog.open(catalog_url), spec, tokens)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("authz") / "mesh"
    if request.param == "sqlite":
        built = _build(root, f"sqlite:///{root.parent}/catalog.db")
        yield built
        built.catalog.close()
        return
    if not _pg_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 (database test) is not reachable")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    built = _build(root, f"{PG_URL}?options=-csearch_path%3D{schema}")
    try:
        yield built
    finally:
        built.catalog.close()
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_the_table_covers_every_action_and_subject() -> None:
    assert {action for action, _ in CHECKS} == {"read", "publish", "admin", "audit", "govern", "erase"}
    assert all(
        any(row) for name, row in EXPECTED.items() if name not in ("revoked-admin", "expired-admin", "nobody")
    )
    assert set(GRANTS) - {"outer"} <= set(EXPECTED)


@pytest.mark.parametrize(("subject", "action", "resource", "allowed"), MATRIX)
def test_authorize(world: World, subject: str, action: str, resource: str, allowed: bool) -> None:
    decision = authorize(world.catalog, world.spec, subject, action, resource)  # type: ignore[arg-type]
    assert decision.allowed is allowed, decision.reason
    if allowed:
        require(world.catalog, world.spec, subject, action, resource)  # type: ignore[arg-type]
        return
    with pytest.raises(AccessDeniedError) as denied:
        require(world.catalog, world.spec, subject, action, resource)  # type: ignore[arg-type]
    message = str(denied.value)
    assert message.startswith(f"{subject} may not ")
    assert (resource in message) if action not in ("audit", "erase") else ("admin grant on mesh" in message)
    assert "tessera grant " in message


@pytest.mark.parametrize("action", ["read", "publish", "admin", "govern", "audit", "erase"])
@pytest.mark.parametrize("which", ["revoked-token", "expired-token"])
def test_a_revoked_or_expired_token_is_refused_before_any_action(
    world: World, which: str, action: str
) -> None:
    """The tokens belong to admin-mesh, who may do everything: the token alone decides."""
    with pytest.raises(AuthenticationError, match="was revoked" if which == "revoked-token" else "expired"):
        with tessera.open(world.root, token=world.tokens[which]) as mesh:
            mesh.ctx.authorize(action, "sales.orders")  # type: ignore[arg-type]  # never reached


def test_local_use_is_trusted_only_while_access_is_not_enforced(world: World) -> None:
    for action, resource in CHECKS:
        assert authorize(world.catalog, world.spec, "local", action, resource)  # type: ignore[arg-type]
    enforcing = replace(world.spec, settings=replace(world.spec.settings, access={"enforce": True}))
    for action, resource in CHECKS:
        assert not authorize(world.catalog, enforcing, "local", action, resource)  # type: ignore[arg-type]
        with pytest.raises(AuthenticationError, match="pass --token or set TESSERA_TOKEN"):
            require(world.catalog, enforcing, "local", action, resource)  # type: ignore[arg-type]


# -- through the CLI ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("authz-cli") / "mesh"
    built = _build(root, f"sqlite:///{root.parent}/catalog.db")
    data = root.parent / "orders.parquet"
    pq.write_table(orders_table(), data)
    assert cli(built, None, "publish", "sales.orders", "--from", str(data)).returncode == 0
    yield built
    built.catalog.close()


def cli(world: World, who: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TESSERA_TOKEN"}
    token = ("--token", world.tokens[who]) if who else ()
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", "-C", str(world.root), *token, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.mark.parametrize(
    ("who", "args", "code", "says"),
    [
        ("read-product", ("read", "sales.orders", "--limit", "1", "--format", "json"), 0, ""),
        ("crm-reader", ("read", "sales.orders"), 3, "crm-reader may not read sales.orders"),
        (
            "read-product",
            ("publish", "sales.orders", "--from", "{data}"),
            3,
            "read-product may not publish sales.orders",
        ),
        ("publish-domain", ("publish", "sales.orders", "--from", "{data}"), 0, ""),
        (
            "admin-domain",
            ("grant", "read", "sales.orders", "nobody"),
            0,
            "granted read on sales.orders to nobody",
        ),
        (
            "admin-domain",
            ("grant", "read", "crm.customers", "nobody"),
            3,
            "admin-domain may not admin crm.customers",
        ),
        ("po@example.com", ("grant", "consumer", "sales.orders", "crm-reader"), 0, "granted consumer"),
        ("admin-domain", ("audit", "verify"), 3, "admin-domain may not read the audit log"),
        ("admin-mesh", ("audit", "verify"), 0, "chain and anchor intact"),
        ("revoked-token", ("audit", "verify"), 4, "was revoked"),
        ("expired-token", ("read", "sales.orders"), 4, "expired on"),
    ],
    ids=[
        "read-allowed",
        "read-denied",
        "publish-denied",
        "publish-allowed",
        "grant-allowed",
        "grant-denied",
        "grant-by-file-owner",
        "audit-denied",
        "audit-allowed",
        "revoked-token",
        "expired-token",
    ],
)
def test_cli(cli_world: World, who: str, args: tuple[str, ...], code: int, says: str) -> None:
    data = cli_world.root.parent / "orders.parquet"
    result = cli(cli_world, who, *(a.replace("{data}", str(data)) for a in args))
    assert result.returncode == code, result.stderr
    assert says in (result.stdout + result.stderr)
    assert "Traceback" not in result.stderr
    if code:
        assert result.stderr.startswith("error: ")
        secret = cli_world.tokens[who].split("_", 2)[2]
        assert secret not in result.stderr


def test_cli_without_a_token_on_an_enforcing_mesh(cli_world: World) -> None:
    path = cli_world.root / "mesh.yaml"
    original = path.read_text()
    path.write_text(yaml.safe_dump({**yaml.safe_load(original), "access": {"enforce": True}}))
    try:
        result = cli(cli_world, None, "read", "sales.orders")
        assert result.returncode == 4
        assert "this mesh enforces access control: pass --token or set TESSERA_TOKEN" in result.stderr
        assert cli(cli_world, "read-product", "read", "sales.orders", "--format", "json").returncode == 0
    finally:
        path.write_text(original)
