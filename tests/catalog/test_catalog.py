"""The catalog on SQLite and PostgreSQL: migrations, search ranking, show, audit chain."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from pathlib import Path

import tessera
from tessera.catalog import Catalog
from tessera.catalog.migrate import HEAD
from tests.fixtures.meshkit import orders_table


def test_migrations_run_once_and_reopen(catalog_url: str) -> None:
    first = Catalog.open(catalog_url)
    first.close()
    again = Catalog.open(catalog_url)
    from sqlalchemy import text

    with again.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    assert again.counts()["products"] == 0
    again.close()


def test_search_ranks_name_then_tags_description_columns(mesh_on: Path) -> None:
    with tessera.open(mesh_on) as mesh:
        mesh.apply()
        hits = mesh.search("orders")
        assert [h["address"] for h in hits][:2] == ["sales.orders", "sales.daily"]
        assert "name" in hits[0]["matched"]
        assert "column" in hits[1]["matched"]  # sales.daily has an `orders` column
        assert [h["address"] for h in mesh.search("segment")] == ["crm.customers"]
        assert mesh.search("order identifier")[0]["address"] == "sales.orders"  # column description
        assert mesh.search("no-such-thing") == []


def test_show_and_audit_chain(mesh_on: Path) -> None:
    with tessera.open(mesh_on) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table())
        shown = mesh.show("sales.orders")
        assert shown["owner"] == "owner@example.com"
        assert {"username": "owner@example.com", "role": "product owner", "address": "sales.orders"} in shown[
            "roles"
        ]
        assert shown["majors"][0]["status"] == "active"
        events = list(reversed(mesh.ctx.catalog.audit_events()))
        # apply makes the people the files name principals first (owner@example.com, ...)
        actions = [e["action"] for e in events]
        assert actions[: actions.index("apply")] == ["principal.add"] * actions.index("apply")
        assert [a for a in actions if a != "principal.add"] == ["apply", "policy.decision", "publish"]
        previous = "0" * 64
        for event in events:
            assert event["prev_hash"] == previous
            body = json.dumps(
                {
                    "seq": event["id"],
                    "at": event["at"].astimezone(UTC).isoformat(timespec="microseconds"),
                    "actor": event["actor"],
                    "action": event["action"],
                    "subject": event["subject"],
                    "details": event["details"],
                },
                sort_keys=True,
                separators=(",", ":"),
            )
            assert event["hash"] == hashlib.sha256((previous + body).encode()).hexdigest()
            previous = event["hash"]
        run = mesh.product("sales.orders").quality()[0]
        names = {c["name"] for c in run["checks"]}
        assert {"table.rowCount", "email.nullValues"} <= names


def test_an_old_catalog_is_migrated_once_by_concurrent_openers(tmp_path: Path) -> None:
    """A catalog at the first migration is upgraded to the newest by whichever of several processes opens it
    first; the others wait and find it done."""
    import multiprocessing

    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path}/old.db"
    from alembic import command
    from alembic.config import Config

    from tessera.catalog import migrate

    config = Config()
    config.set_main_option("script_location", str(migrate._MIGRATIONS))
    engine = create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    engine.dispose()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        pool.map(_open_catalog, [url] * 3)
    with create_engine(url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD


def _open_catalog(url: str) -> None:
    Catalog.open(url).close()
